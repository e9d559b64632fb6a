// The console's store: one object, changed only through set(), which tells the subscribers what changed.

const state = {
  me: null, // the signed-in Agent
  labels: [],
  statuses: [],
  agents: [], // every enabled agent (Transfer list), kept live by `agent` events
  templates: [],
  views: [],
  queue: [], // QueueItems as the API answered
  counts: { waiting: 0, unread: 0 },
  currentId: null, // the open session's id (the URL's)
  detail: null, // {session, contact, messages, notes} of the open session
  live: "connecting", // "connecting" | "live" | "reconnecting"
  typing: {}, // sessionId -> {name, until}
  notices: [], // the bell's list: {text, sessionId, at}
  unseenNotices: 0,
};
const subscribers = new Map();

/** The current state (read-only by convention: change it with set()). */
export function get() {
  return state;
}

/** Change some keys and call the subscribers of each changed key once. */
export function set(changes) {
  Object.assign(state, changes);
  const called = new Set();
  for (const key of Object.keys(changes)) {
    for (const fn of subscribers.get(key) || []) {
      if (!called.has(fn)) {
        called.add(fn);
        fn(state);
      }
    }
  }
}

/** Call `fn(state)` whenever any of `keys` changes; returns the unsubscribe function. */
export function subscribe(keys, fn) {
  for (const key of keys) {
    if (!subscribers.has(key)) subscribers.set(key, new Set());
    subscribers.get(key).add(fn);
  }
  return () => keys.forEach((key) => subscribers.get(key).delete(fn));
}

/** Replace the open session's messages through `change(messages)` (returns the new list). */
export function updateMessages(change) {
  if (!state.detail) return;
  set({ detail: { ...state.detail, messages: change(state.detail.messages) } });
}

/** Add or replace one message of the open session (matched by id, or by the optimistic row's key). */
export function upsertMessage(message, replacesKey = null) {
  updateMessages((messages) => {
    const kept = messages.filter((m) => m.id !== message.id && (replacesKey === null || m.clientKey !== replacesKey));
    const at = messages.findIndex((m) => m.id === message.id || (replacesKey !== null && m.clientKey === replacesKey));
    if (at < 0) return [...kept, message];
    const next = [...kept];
    next.splice(Math.min(at, next.length), 0, message);
    return next;
  });
}
