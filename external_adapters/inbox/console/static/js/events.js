// What each live event changes: the queue, the open conversation, offers, agents, typing, delivery, transfers.
import { onEvent } from "./live.js";
import { get, set, updateMessages, upsertMessage } from "./state.js";
import { toast } from "./toast.js";
import { refreshQueue } from "./views/queue.js";
import { reloadSession } from "./views/conversation.js";
import { dismissOffer, showOffer } from "./views/offers.js";
import { addNote } from "./views/side.js";
import { notify } from "./views/topbar.js";

const TYPING_SHOWN_MS = 5000;

function onSession(session) {
  refreshQueue();
  if (session.state !== "NEEDS_ACTION") dismissOffer(session.id);
  const { detail } = get();
  if (detail && detail.session.id === session.id) set({ detail: { ...detail, session } });
}

function onMessage(message) {
  refreshQueue();
  const { detail } = get();
  if (!detail || detail.session.id !== message.session_id) return;
  // The agent's own reply may come live before its send answers: it takes the place of its "Sending…" row.
  const pending = detail.messages.find((m) => m.clientKey && !m.file && m.agent_id === message.agent_id && m.text === message.text);
  upsertMessage(message, pending ? pending.clientKey : null);
}

function onDelivery({ sessionId, messageId, delivery, deliveryError }) {
  const { detail } = get();
  if (!detail || detail.session.id !== sessionId) return;
  updateMessages((messages) => messages.map((m) => (m.id === messageId ? { ...m, delivery, delivery_error: deliveryError ?? null } : m)));
}

function onAgent(agent) {
  const { agents, me } = get();
  const others = agents.filter((a) => a.id !== agent.id);
  set({ agents: agent.disabled ? others : [...others, agent].sort((a, b) => a.name.localeCompare(b.name)) });
  if (me && agent.id === me.id) set({ me: agent });
}

function onTransfer({ sessionId, from, contactName }) {
  const text = `${from.name} transferred ${contactName || "a conversation"} to you`;
  toast(text);
  notify(text, sessionId, { ring: true });
  refreshQueue();
}

function onTyping({ sessionId, agent }) {
  if (get().me && agent.id === get().me.id) return;
  set({ typing: { ...get().typing, [sessionId]: { name: agent.name, until: Date.now() + TYPING_SHOWN_MS } } });
}

const HANDLERS = {
  hello: () => { refreshQueue(); reloadSession(); }, // (re)connected: catch up on what the socket missed
  offer: (data) => showOffer(data.sessionId, data.claimDeadline ?? null),
  offer_withdrawn: (data) => dismissOffer(data.sessionId),
  handoff: (data) => onSession(data.session),
  session: (data) => onSession(data.session || data),
  message: onMessage,
  note: addNote,
  agent: onAgent,
  delivery: onDelivery,
  transfer: onTransfer,
  typing: onTyping,
  read: () => refreshQueue(),
};

export function initEvents() {
  onEvent(({ type, data }) => HANDLERS[type]?.(data));
}
