// Sandbox chat page: start or resume a conversation, send texts, show every message live (server-sent events).
"use strict";

const KEY = "hitl-bridge-sandbox-chat";
const list = document.getElementById("messages");
const form = document.getElementById("composer");
const input = document.getElementById("text");
const errorBox = document.getElementById("error");
const seen = new Set();
let session = null;
let source = null;

async function postJson(url, body) {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  const data = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(data.error || `HTTP ${response.status}`);
  return data;
}

function showError(message) {
  errorBox.textContent = message;
  errorBox.hidden = !message;
}

function element(tag, text, attrs = {}) {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = text;
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, value);
  return node;
}

function safeUrl(url) {
  try {
    const parsed = new URL(url, location.href);
    return ["http:", "https:"].includes(parsed.protocol) ? parsed.href : null;
  } catch (_) {
    return null;
  }
}

const URL_PATTERN = /https?:\/\/[^\s<>"]+[^\s<>".,;:!?)\]]/g;

function link(url, label) {
  return element("a", label, { href: url, target: "_blank", rel: "noopener noreferrer" });
}

// Plain text with its http(s) URLs as links; everything else stays text (never HTML).
function linkified(text) {
  const nodes = [];
  let last = 0;
  for (const match of text.matchAll(URL_PATTERN)) {
    const url = safeUrl(match[0]);
    if (!url) continue;
    nodes.push(document.createTextNode(text.slice(last, match.index)), link(url, match[0]));
    last = match.index + match[0].length;
  }
  nodes.push(document.createTextNode(text.slice(last)));
  const span = element("span", undefined, { class: "text", dir: "auto" });
  span.append(...nodes);
  return [span];
}

function renderPayload(type, payload) {
  const media = { image: "imageUrl", audio: "audioUrl", video: "videoUrl", file: "fileUrl" };
  if (type === "text") return linkified(payload.text || "");
  if (type === "markdown") return linkified(payload.markdown || "");
  if (type === "image" && safeUrl(payload.imageUrl)) {
    const url = safeUrl(payload.imageUrl);
    const image = element("img", undefined, { src: url, alt: payload.title || "Image" });
    const anchor = link(url);
    anchor.append(image);
    return [anchor];
  }
  if (media[type]) {
    const url = safeUrl(payload[media[type]]);
    return url ? [link(url, payload.title || url)] : [];
  }
  if (type === "bloc") {
    return (payload.items || []).flatMap((item) => [...renderPayload(item.type, item.payload || {}), element("br")]);
  }
  return [document.createTextNode(`[${type}]`)];
}

function addMessage(view) {
  if (seen.has(view.id)) return;
  seen.add(view.id);
  const item = element("li", undefined, { class: view.from, "data-from": view.from });
  const when = new Date(view.createdAt || Date.now());
  const stamp = element("time", when.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" }), {
    datetime: when.toISOString(),
  });
  item.append(element("span", view.name, { class: "who" }), stamp, ...renderPayload(view.type, view.payload || {}));
  list.append(item);
  list.scrollTop = list.scrollHeight;
  scheduleStatus();
}

let statusTimer = null;

function scheduleStatus() {
  // A new message usually follows an operation the runtime sent: show it without waiting for the next poll.
  clearTimeout(statusTimer);
  statusTimer = setTimeout(refreshStatus, 300);
}

function listen() {
  if (source) source.close();
  source = new EventSource(`/sandbox/chat/stream?conversationId=${encodeURIComponent(session.conversationId)}`);
  source.onmessage = (event) => addMessage(JSON.parse(event.data));
  source.onopen = () => showError("");
  source.onerror = () => showError("Connection lost; reconnecting…");
}

async function start(fresh) {
  const saved = fresh ? {} : JSON.parse(localStorage.getItem(KEY) || "{}");
  session = await postJson("/sandbox/chat/start", saved);
  localStorage.setItem(KEY, JSON.stringify(session));
  list.replaceChildren();
  seen.clear();
  listen();
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const text = input.value.trim();
  if (!text) return;
  input.value = "";
  try {
    await postJson("/sandbox/chat/messages", { ...session, text });
    showError("");
  } catch (error) {
    showError(`Not sent: ${error.message}`);
  }
});

document.getElementById("new-chat").addEventListener("click", () => start(true).catch((e) => showError(e.message)));

async function refreshStatus() {
  try {
    const response = await fetch("/sandbox/chat/status");
    const status = await response.json();
    document.getElementById("registration").textContent = status.registration;
    const calls = document.getElementById("calls");
    calls.replaceChildren(
      ...status.calls.reverse().map((call) => element("li", `${call.operation} → ${call.status ?? "—"} ${call.detail}`)),
    );
  } catch (_) {
    /* the page keeps working without the log panel */
  }
}

start(false).catch((error) => showError(error.message));
refreshStatus();
setInterval(refreshStatus, 3000);
