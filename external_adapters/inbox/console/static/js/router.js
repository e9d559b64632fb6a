// Paths of the console: /console/ (the queue) and /console/sessions/<id> (one conversation). Reload keeps the
// open conversation; Back and Forward move between them. The old hash form /console/#/sessions/<id> still opens.

const SESSION_PATH = /^\/console\/sessions\/([^/]+)\/?$/;
let onChange = () => {};

/** The session id the URL names, or null for the queue. */
export function currentSessionId() {
  const hash = /^#\/sessions\/([^/]+)$/.exec(location.hash);
  if (hash) return decodeURIComponent(hash[1]);
  const match = SESSION_PATH.exec(location.pathname);
  return match ? decodeURIComponent(match[1]) : null;
}

/** The path of a session's page. */
export const sessionPath = (id) => `/console/sessions/${encodeURIComponent(id)}`;

/** Go to a session (or the queue with null), adding a history entry; calls the change handler. */
export function navigate(sessionId) {
  const path = sessionId ? sessionPath(sessionId) : "/console/";
  if (location.pathname + location.hash !== path) history.pushState({}, "", path);
  onChange(sessionId);
}

/** Start routing: `fn(sessionId)` on every change; the hash form is rewritten to the path form. */
export function startRouter(fn) {
  onChange = fn;
  const id = currentSessionId();
  if (location.hash.startsWith("#/sessions/")) history.replaceState({}, "", sessionPath(id));
  window.addEventListener("popstate", () => onChange(currentSessionId()));
}

/** Where to go after sign-in when another console page (the admin screens) sent the agent here. */
export function nextPath() {
  const next = new URLSearchParams(location.search).get("next");
  return next && next.startsWith("/console/") && !next.startsWith("//") ? next : null;
}
