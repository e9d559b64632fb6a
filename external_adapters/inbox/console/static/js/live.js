// The live channel: one WebSocket per tab, reconnected with backoff; and a BroadcastChannel between the tabs,
// so signing out (or changing status) in one tab does the same in the others.
import { get, set } from "./state.js";

const LOGIN_ENDED = 4401; // the server closed the socket: the login expired or was signed out
const MAX_DELAY_MS = 30000;
const handlers = new Set();
const tabs = "BroadcastChannel" in window ? new BroadcastChannel("inbox-console") : null;
let socket = null;
let attempts = 0;
let retryTimer = null;
let onLoginEnded = () => {};

/** Call `fn({type, data})` for each live event. */
export function onEvent(fn) {
  handlers.add(fn);
}

/** Open the socket (again); `loginEnded()` runs when the server ends the login (close code 4401). */
export function connect(loginEnded) {
  onLoginEnded = loginEnded;
  disconnect();
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  const ws = new WebSocket(`${scheme}//${location.host}/console/api/live`);
  socket = ws;
  ws.onopen = () => {
    attempts = 0;
    set({ live: "live" });
  };
  ws.onmessage = (event) => {
    const parsed = JSON.parse(event.data);
    for (const fn of handlers) fn(parsed);
  };
  ws.onclose = (event) => closed(ws, event.code);
}

function closed(ws, code) {
  if (socket !== ws) return; // replaced or closed on purpose
  socket = null;
  if (code === LOGIN_ENDED) return onLoginEnded();
  set({ live: "reconnecting" });
  // Backoff with jitter, so a restarted server is not hit by every console at once.
  const delay = Math.min(MAX_DELAY_MS, 1000 * 2 ** attempts) * (0.5 + Math.random() / 2);
  attempts += 1;
  retryTimer = setTimeout(() => connect(onLoginEnded), delay);
}

/** Close the socket without reconnecting (signing out). */
export function disconnect() {
  clearTimeout(retryTimer);
  const ws = socket;
  socket = null;
  if (ws) ws.close();
}

/** Send a client event (`typing`) when the socket is open; dropped otherwise (it is only a hint). */
export function sendEvent(message) {
  if (socket && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(message));
}

/** Tell the other tabs: `{kind: "signed-out"}` or `{kind: "status", agent}`. */
export function tellTabs(message) {
  if (tabs) tabs.postMessage(message);
}

/** Call `fn(message)` for what another tab told. */
export function onTabs(fn) {
  if (tabs) tabs.onmessage = (event) => fn(event.data);
}

export const isLive = () => get().live === "live";
