// The console's API client, shared by the console and its admin screens. Every call goes to /console/api with the
// login cookie and the X-Inbox-Client header (the API's CSRF guard). Errors are thrown as ApiError, whose
// `message` is the server's own words and whose `field` names the wrong input on a 400.

export class ApiError extends Error {
  constructor(status, message, field = null, retryAfter = null) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.field = field;
    this.retryAfter = retryAfter;
  }
}

const listeners = new Set();

/** Call `listener()` when any request answers 401 (the login expired or was revoked in another tab). */
export function onSignedOut(listener) {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

async function send(method, path, init) {
  init.method = method;
  init.credentials = "same-origin";
  init.headers = { "X-Inbox-Client": "console", ...(init.headers || {}) };
  let response;
  try {
    response = await fetch("/console/api" + path, init);
  } catch (error) {
    throw new ApiError(0, "the server cannot be reached; check your connection");
  }
  const data = await response.json().catch(() => ({}));
  if (response.ok) return data;
  if (response.status === 401 && path !== "/login") for (const listener of listeners) listener();
  const retryAfter = Number(response.headers.get("Retry-After")) || null;
  throw new ApiError(response.status, data.error || response.statusText, data.field || null, retryAfter);
}

/** A JSON call: `api("POST", "/sessions/ses_1/claim")`, `api("PUT", "/me/status", {status: "busy"})`.
 * `headers` adds request headers (`{"Idempotency-Key": key}` makes a repeated reply safe). */
export function api(method, path, body, headers = {}) {
  const init = { headers: { ...headers } };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  return send(method, path, init);
}

/** A multipart upload: `upload("/sessions/ses_1/attachments", formData, {"Idempotency-Key": key})`. */
export function upload(path, formData, headers = {}) {
  return send("POST", path, { body: formData, headers: { ...headers } });
}

/** A fresh idempotency key (one per reply or upload, reused by its retries). */
export function newKey() {
  if (crypto.randomUUID) return crypto.randomUUID();
  return Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, "0")).join("");
}
