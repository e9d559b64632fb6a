// One conversation: its heading (the contact's name), state in words, Claim / Reject / Transfer / Resolve
// (each disabled while its request runs), the message log, the typing indicator, and the contact side panel.
import { api } from "../api.js";
import { $, patchChildren } from "../dom.js";
import { navigate } from "../router.js";
import { get, set, subscribe, upsertMessage } from "../state.js";
import { guarded, toast } from "../toast.js";
import { closedLine, messageNodes } from "./messages.js";
import { closeWords, loadQueue, refreshQueue } from "./queue.js";
import { renderSide } from "./side.js";
import { openTransfer } from "./dialogs.js";
import { dismissOffer } from "./offers.js";
import { resend } from "./reply.js";

/** Open a session (null: the queue alone): fetch it, mark it read, show it. */
export async function openSession(sessionId) {
  set({ currentId: sessionId });
  if (!sessionId) return set({ detail: null });
  const detail = await guarded(() => api("GET", `/sessions/${encodeURIComponent(sessionId)}`));
  if (get().currentId !== sessionId) return; // the agent moved on meanwhile
  set({ detail: detail ? keepPending(detail) : null });
  if (!detail) return;
  api("POST", `/sessions/${encodeURIComponent(sessionId)}/read`).then(refreshQueue, () => {});
  $("s-title").focus({ preventScroll: true });
}

/** Reload the open session (after an action, or a live change). */
export async function reloadSession() {
  const id = get().currentId;
  if (!id) return;
  const detail = await guarded(() => api("GET", `/sessions/${encodeURIComponent(id)}`));
  if (detail && get().currentId === id) set({ detail: keepPending(detail) });
}

/** The fetched detail, keeping in view what came meanwhile: replies still on their way, and live messages newer
 * than the fetch's snapshot (a reload answered before them must not hide them). */
function keepPending(detail) {
  const old = get().detail;
  if (!old || old.session.id !== detail.session.id) return detail;
  const fetched = new Set(detail.messages.map((m) => m.id));
  const extra = old.messages.filter((m) => !fetched.has(m.id));
  return extra.length ? { ...detail, messages: [...detail.messages, ...extra] } : detail;
}

export const canReply = (session, me) =>
  session.state === "ASSIGNED" && (session.assigned_agent_id === me.id || me.role === "admin");

function meta(session, agents) {
  const owner = agents.find((a) => a.id === session.assigned_agent_id);
  const words = session.state === "ASSIGNED" ? `Assigned to ${owner ? owner.name : "an agent"}`
    : session.state === "NEEDS_ACTION" ? "Waiting for an agent" : closeWords(session.close_reason);
  return [words, session.title, session.paused ? "paused by an admin" : ""].filter(Boolean).join(" · ");
}

function renderHead({ detail, me, agents }) {
  const { session: s, contact: c } = detail;
  $("s-title").textContent = c.name || c.email || c.phone || "Unknown contact";
  $("s-title").tabIndex = -1;
  $("s-meta").textContent = meta(s, agents);
  $("claim").hidden = $("reject").hidden = s.state !== "NEEDS_ACTION";
  $("resolve").hidden = s.state === "CLOSED";
  $("transfer").hidden = !canReply(s, me);
  $("reply-form").hidden = s.state === "CLOSED";
  $("outbound-form").hidden = s.state !== "CLOSED";
  $("reply").disabled = $("send").disabled = $("attach").disabled = !canReply(s, me);
  $("reply").placeholder = canReply(s, me) ? "Reply… type / for templates"
    : s.state === "NEEDS_ACTION" ? "Claim the conversation to reply" : "Assigned to another agent";
}

function renderLog({ detail }) {
  const log = $("messages");
  const atBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 40;
  const line = closedLine(detail.session);
  patchChildren(log, [...messageNodes(detail.messages, retryMessage), ...(line ? [line] : [])]);
  if (atBottom || log.dataset.session !== detail.session.id) log.scrollTop = log.scrollHeight;
  log.dataset.session = detail.session.id;
}

function render(state) {
  const open = Boolean(state.detail);
  $("empty").hidden = open;
  $("session").hidden = $("side").hidden = !open;
  document.body.classList.toggle("has-session", Boolean(state.currentId));
  if (!open) return;
  renderHead(state);
  renderLog(state);
  renderSide(state);
}

function renderTyping({ typing, currentId }) {
  const who = typing[currentId];
  $("typing").textContent = who && who.until > Date.now() ? `${who.name} is typing…` : "";
}

async function retryMessage(m) {
  if (m.clientKey) return resend(m); // it never reached the server: post it again, same Idempotency-Key
  const sent = await guarded(() => api("POST", `/sessions/${encodeURIComponent(m.session_id)}/messages/${encodeURIComponent(m.id)}/retry`));
  if (sent) upsertMessage(sent);
}

/** Run `action()` with `button` disabled meanwhile (no second claim or resolve while the first runs). */
async function busy(button, action) {
  if (button.disabled) return;
  button.disabled = true;
  try {
    return await guarded(action);
  } finally {
    button.disabled = false;
  }
}

/** Claim a session (from the conversation, the offer popup, or `c`); a lost race says who took it. */
export async function claim(sessionId, button = $("claim")) {
  return busy(button, async () => {
    await api("POST", `/sessions/${encodeURIComponent(sessionId)}/claim`).catch((error) => {
      if (error.status === 409) { dismissOffer(sessionId); reloadSession(); } // lost the race: show who has it
      throw error;
    });
    dismissOffer(sessionId);
    if (get().currentId !== sessionId) navigate(sessionId);
    else await reloadSession();
    await loadQueue();
    $("reply").focus();
  });
}

/** Reject a session (from the conversation or the offer popup). */
export async function reject(sessionId, button = $("reject")) {
  return busy(button, async () => {
    await api("POST", `/sessions/${encodeURIComponent(sessionId)}/reject`);
    dismissOffer(sessionId);
    toast("Rejected: the conversation goes to another agent");
    if (get().currentId === sessionId) await reloadSession();
    await loadQueue();
  });
}

/** Resolve the open session (button or `e`). */
export async function resolve() {
  const id = get().currentId;
  if (!id) return;
  return busy($("resolve"), async () => {
    await api("POST", `/sessions/${encodeURIComponent(id)}/resolve`);
    toast("Resolved");
    await reloadSession();
    await loadQueue();
  });
}

export function initConversation() {
  subscribe(["detail", "agents", "me", "currentId"], render);
  subscribe(["typing", "currentId"], renderTyping);
  setInterval(() => renderTyping(get()), 1000);
  $("claim").addEventListener("click", () => claim(get().currentId));
  $("reject").addEventListener("click", () => reject(get().currentId));
  $("resolve").addEventListener("click", resolve);
  $("transfer").addEventListener("click", openTransfer);
  $("back").addEventListener("click", (event) => { event.preventDefault(); navigate(null); });
}
