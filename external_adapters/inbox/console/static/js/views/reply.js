// The reply box: Send (the reply shows at once as "Sending…", then as the server answered it, whatever the live
// socket does), Attach (upload with an Idempotency-Key), templates after "/", typing hints, and the outbound
// message on a closed session.
import { api, newKey, upload } from "../api.js";
import { $, el } from "../dom.js";
import { sendEvent } from "../live.js";
import { get, upsertMessage } from "../state.js";
import { guarded, toast } from "../toast.js";
import { canReply } from "./conversation.js";

const TYPING_EVERY_MS = 2000;
const picker = { open: false, index: 0, matches: [] };
let lastTyping = 0;

function pendingRow(sessionId, type, payload, text) {
  const key = newKey();
  const me = get().me;
  return {
    id: `pending-${key}`, clientKey: key, session_id: sessionId, direction: "agent", author_name: me.name,
    agent_id: me.id, type, payload, text, held: false, created_at: Date.now() / 1000, delivery: "sending", delivery_error: null,
  };
}

/** Post a pending row (again, with the same Idempotency-Key: a repeat sends nothing twice). */
async function deliver(row) {
  upsertMessage({ ...row, delivery: "sending", delivery_error: null }, row.clientKey);
  const path = `/sessions/${encodeURIComponent(row.session_id)}`;
  const headers = { "Idempotency-Key": row.clientKey };
  try {
    const sent = row.file
      ? await upload(`${path}/attachments`, formOf(row.file), headers)
      : await api("POST", `${path}/messages`, { text: row.text }, headers);
    if (get().currentId === row.session_id) upsertMessage(sent, row.clientKey);
  } catch (error) {
    upsertMessage({ ...row, delivery: "failed", delivery_error: error.message }, row.clientKey);
  }
}

function formOf(file) {
  const form = new FormData();
  form.append("file", file, file.name);
  return form;
}

/** Retry a reply that never reached the server (its row is still the optimistic one). */
export const resend = (row) => deliver(row);

async function send() {
  const { detail } = get();
  const text = $("reply").value.trim();
  if (!text || !detail) return;
  $("reply").value = "";
  closePicker();
  await deliver(pendingRow(detail.session.id, "text", { text }, text));
}

function attach(files) {
  const { detail } = get();
  for (const file of files) {
    const row = pendingRow(detail.session.id, "text", {}, `Uploading ${file.name}…`);
    deliver({ ...row, file });
  }
  $("attach-input").value = "";
}

function typed() {
  const { detail, me } = get();
  if (!detail || !canReply(detail.session, me) || Date.now() - lastTyping < TYPING_EVERY_MS) return;
  lastTyping = Date.now();
  sendEvent({ type: "typing", sessionId: detail.session.id });
}

// ---- templates ("/" then a shortcut) ----
function onInput() {
  typed();
  const match = /(^|\s)\/([\w-]*)$/.exec($("reply").value);
  if (!match) return closePicker();
  const query = match[2].toLowerCase();
  picker.matches = get().templates.filter((t) => t.shortcut.toLowerCase().startsWith(query) || (t.title || "").toLowerCase().includes(query));
  picker.index = 0;
  picker.open = picker.matches.length > 0;
  renderPicker();
}

function onKeydown(event) {
  if (picker.open && ["ArrowDown", "ArrowUp"].includes(event.key)) {
    event.preventDefault();
    picker.index = (picker.index + (event.key === "ArrowDown" ? 1 : picker.matches.length - 1)) % picker.matches.length;
    renderPicker();
  } else if (picker.open && (event.key === "Enter" || event.key === "Tab")) {
    event.preventDefault();
    useTemplate(picker.matches[picker.index]);
  } else if (picker.open && event.key === "Escape") {
    event.stopPropagation();
    closePicker();
  } else if (event.key === "Enter" && !event.shiftKey) {
    event.preventDefault();
    send();
  }
}

function renderPicker() {
  $("templates").hidden = !picker.open;
  $("templates").replaceChildren(...picker.matches.map((t, i) => el("div", {
    class: i === picker.index ? "sel" : "", dataset: { shortcut: t.shortcut },
    onmousedown: (e) => { e.preventDefault(); useTemplate(t); },
  }, el("code", {}, "/" + t.shortcut), " ", t.text)));
}

function useTemplate(template) {
  const { detail, me } = get();
  const filled = template.text
    .replace(/\{\{\s*contactName\s*\}\}/g, (detail && detail.contact.name) || "")
    .replace(/\{\{\s*agentName\s*\}\}/g, me.name);
  $("reply").value = $("reply").value.replace(/(^|\s)\/[\w-]*$/, "$1") + filled;
  closePicker();
  $("reply").focus();
}

function closePicker() {
  picker.open = false;
  $("templates").hidden = true;
}

async function outbound() {
  const text = $("outbound").value.trim();
  if (!text) return;
  await api("POST", `/contacts/${encodeURIComponent(get().detail.contact.id)}/messages`, { text });
  $("outbound").value = "";
  toast("Sent to the contact");
}

export function initReply() {
  $("reply-form").addEventListener("submit", (event) => { event.preventDefault(); send(); });
  $("reply").addEventListener("input", onInput);
  $("reply").addEventListener("keydown", onKeydown);
  $("attach").addEventListener("click", () => $("attach-input").click());
  $("attach-input").addEventListener("change", (event) => attach([...event.target.files]));
  $("outbound-form").addEventListener("submit", (event) => { event.preventDefault(); guarded(outbound); });
}
