// The messages of a conversation: day separators, a <time> on each, text with dir="auto" and links, images as
// thumbnails linking to the file, files as links, the delivery state of the agent's own replies with Retry.
import { el } from "../dom.js";
import { closeWords } from "./queue.js";
import { clock, dayKey, dayLabel, link, linkify, safeUrl, timeNode } from "../format.js";

const MEDIA_WORDS = { audio: "Audio", video: "Video", file: "File" };

function author(m) {
  if (m.direction === "transcript") return m.payload.source === "user" ? "Contact (before the handoff)" : "Bot";
  if (m.direction === "user") return "Contact";
  if (m.direction === "system") return "System";
  return m.author_name || "Agent";
}

function image(m) {
  const url = safeUrl(m.payload.imageUrl);
  if (!url) return null;
  const alt = m.payload.title || m.payload.alt || (m.text && !m.text.startsWith("[image]") ? m.text : "Image sent in the conversation");
  return link(url, el("img", { src: url, alt, class: "thumb", loading: "lazy" }));
}

function mediaLink(m) {
  const url = safeUrl(m.payload.fileUrl || m.payload.audioUrl || m.payload.videoUrl);
  if (!url) return null;
  const name = m.payload.title || decodeURIComponent(new URL(url).pathname.split("/").pop() || "") || "file";
  return el("span", { class: "file" }, `${MEDIA_WORDS[m.type] || "File"}: `, link(url, name));
}

function body(m) {
  const media = m.type === "image" ? image(m) : ["file", "audio", "video"].includes(m.type) ? mediaLink(m) : null;
  if (media) return el("div", { class: "body media" }, media);
  return el("div", { class: "body", dir: "auto" }, linkify(m.text));
}

function deliveryLine(m, retry) {
  if (m.direction !== "agent") return null;
  if (m.held) return el("p", { class: "delivery held" }, "Held: the conversation is paused");
  if (m.delivery === "failed") {
    return el("p", { class: "delivery failed" }, `Failed: ${m.delivery_error || "not delivered"} `,
      el("button", { type: "button", class: "small", onclick: () => retry(m) }, "Retry"));
  }
  if (m.delivery === "sending") return el("p", { class: "delivery sending" }, "Sending…");
  if (m.delivery === "delivered") return el("p", { class: "delivery delivered" }, "Delivered");
  return null;
}

function messageNode(m, retry) {
  const sig = [m.type, m.text, m.delivery, m.delivery_error, m.held].join("\u0000");
  return el("div", { class: `msg ${m.direction}${m.held ? " held" : ""}`, dataset: { message: m.id, key: m.id, sig } },
    el("p", { class: "who" }, author(m), " · ", timeNode(m.created_at)),
    body(m), deliveryLine(m, retry));
}

/** The log's children for `messages`; `retry(m)` runs when Retry of a failed reply is pressed. */
export function messageNodes(messages, retry) {
  const nodes = [];
  let lastDay = null, handedOver = false;
  for (const m of messages) {
    if (dayKey(m.created_at) !== lastDay) {
      lastDay = dayKey(m.created_at);
      nodes.push(el("p", { class: "day", dataset: { key: `day-${lastDay}` } }, el("span", {}, dayLabel(m.created_at))));
    }
    if (!handedOver && m.direction !== "transcript") {
      handedOver = true;
      if (nodes.length > 1) nodes.push(el("p", { class: "divider", dataset: { key: "divider" } }, "Handed over to an agent"));
    }
    nodes.push(messageNode(m, retry));
  }
  return nodes;
}

/** "Resolved by Alice at 14:05" (or how else the session ended), for a closed session; null otherwise. */
export function closedLine(session) {
  if (session.state !== "CLOSED") return null;
  const at = session.closed_at ? ` at ${clock(session.closed_at)}` : "";
  const text = session.closed_by_name ? `Resolved by ${session.closed_by_name}${at}` : closeWords(session.close_reason) + at;
  return el("p", { class: "closed-line", dataset: { key: "closed", sig: text } }, text);
}
