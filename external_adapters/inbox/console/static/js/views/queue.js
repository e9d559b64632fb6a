// The queue: a list of links (one per conversation) with the contact, last message, live wait, unread count and
// state in words; sort, search, filters and saved views. Refreshed on live events, its wait times every 15 s.
import { api } from "../api.js";
import { $, el } from "../dom.js";
import { duration } from "../format.js";
import { navigate, sessionPath } from "../router.js";
import { get, set, subscribe } from "../state.js";
import { guarded } from "../toast.js";

const TICK_MS = 15000;
const CLOSE_WORDS = {
  NO_AGENTS: "No agent online", NOT_AVAILABLE: "No agent available",
  REJECTED: "Rejected by every agent", TIMEOUT: "Nobody claimed it in time",
  resolved: "Resolved", "stopped by bot": "Stopped by the bot",
};

/** A session's close reason in words ("No agent available", not NOT_AVAILABLE). */
export const closeWords = (reason) => CLOSE_WORDS[reason] || "Closed";
let refreshTimer = null;
let queueRequests = 0;

/** The state in words (the server's `state_text`; worked out here for a server that does not send it). */
export function stateText(item) {
  if (item.state_text) return item.state_text;
  const s = item.session;
  if (s.state === "NEEDS_ACTION") return "Waiting";
  if (s.state === "ASSIGNED") return `Assigned to ${item.assigned_agent_name || "an agent"}`;
  return closeWords(s.close_reason);
}

/** Since when the contact waits for an answer, or null. */
export function waitingSince(item) {
  if (item.waiting_since !== undefined) return item.waiting_since;
  return item.session.state === "NEEDS_ACTION" ? item.session.created_at : null;
}

function filters() {
  const f = {
    state: $("f-state").value, assigned: $("f-assigned").value, label: $("f-label").value,
    tag: $("f-tag").value.trim(), search: $("f-search").value.trim(), sort: $("f-sort").value,
  };
  return Object.fromEntries(Object.entries(f).filter(([k, v]) => v && !(k === "assigned" && v === "any")));
}

/** Fetch the queue and the counts with the current filters. */
export async function loadQueue() {
  const asked = ++queueRequests;
  const items = await api("GET", "/queue?" + new URLSearchParams(filters()));
  const answer = { queue: items, counts: await counts(items) };
  if (asked === queueRequests) set(answer); // an older answer arriving late must not replace a newer one
}

async function counts(items) {
  try {
    return await api("GET", "/counts");
  } catch {
    // A server without /counts: count what the queue shows.
    const waiting = items.filter((i) => i.session.state === "NEEDS_ACTION").length;
    return { waiting, unread: items.reduce((sum, i) => sum + (i.unread || 0), 0) };
  }
}

/** Refresh soon (many live events in a burst make one request). */
export function refreshQueue() {
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(() => guarded(loadQueue), 150);
}

function waitText(item) {
  const since = waitingSince(item);
  return since ? `waiting ${duration(Date.now() / 1000 - since)}` : "";
}

function queueItem(item, currentId) {
  const s = item.session, c = item.contact;
  const name = c.name || c.email || c.phone || "Unknown contact";
  const unread = item.unread ? el("span", { class: "unread" }, `${item.unread} unread`) : null;
  const stateClass = `badge state-${s.state.toLowerCase()}${item.unclaimed ? " unclaimed" : ""}`;
  const link = el("a", {
    href: sessionPath(s.id), class: "item", "aria-current": s.id === currentId ? "page" : null,
    dataset: { session: s.id }, onclick: (event) => { event.preventDefault(); navigate(s.id); },
  },
  el("span", { class: "top" }, el("span", { class: "name", dir: "auto" }, name), el("span", { class: stateClass }, stateText(item))),
  el("span", { class: "preview", dir: "auto" }, item.last_text || s.title || "No messages yet"),
  el("span", { class: "meta" }, el("span", { class: "wait" }, waitText(item)), unread));
  return el("li", { class: item.unclaimed ? "unclaimed" : "" }, link);
}

function render({ queue, currentId }) {
  const list = $("queue");
  list.replaceChildren(...queue.map((item) => queueItem(item, currentId)));
  if (!queue.length) list.append(el("li", { class: "muted nothing" }, "Nothing here."));
  document.body.classList.toggle("has-session", Boolean(currentId));
}

function renderViews({ views, labels }) {
  $("view").replaceChildren(el("option", { value: "" }, "All conversations"),
    ...views.map((v) => el("option", { value: v.id }, v.name + (v.shared ? " (shared)" : ""))));
  $("f-label").replaceChildren(el("option", { value: "" }, "Any label"), ...labels.map((l) => el("option", { value: l }, l)));
}

function applyView() {
  const view = get().views.find((v) => v.id === $("view").value);
  const f = view ? view.filters : {};
  $("f-state").value = f.state || ""; $("f-assigned").value = f.assigned || "any"; $("f-label").value = f.label || "";
  $("f-tag").value = f.tag || ""; $("f-search").value = f.search || "";
  guarded(loadQueue);
}

async function saveView() {
  const name = prompt("Name of the view");
  if (!name) return;
  const view = await api("POST", "/views", { name, filters: filters() });
  set({ views: [...get().views, view] });
  $("view").value = view.id;
}

/** The next waiting conversation after the open one (shortcut `n`), or null. */
export function nextWaitingId() {
  const { queue, currentId } = get();
  const waiting = queue.filter((i) => i.session.state === "NEEDS_ACTION");
  const at = waiting.findIndex((i) => i.session.id === currentId);
  const next = waiting[(at + 1) % Math.max(waiting.length, 1)];
  return next && next.session.id !== currentId ? next.session.id : null;
}

export function initQueue() {
  subscribe(["queue", "currentId"], render);
  subscribe(["views", "labels"], renderViews);
  for (const id of ["f-state", "f-assigned", "f-label", "f-sort"]) $(id).addEventListener("change", refreshQueue);
  for (const id of ["f-search", "f-tag"]) $(id).addEventListener("input", refreshQueue);
  $("view").addEventListener("change", applyView);
  $("save-view").addEventListener("click", () => guarded(saveView));
  setInterval(() => {
    for (const link of $("queue").querySelectorAll("a.item")) {
      const item = get().queue.find((i) => i.session.id === link.dataset.session);
      if (item) link.querySelector(".wait").textContent = waitText(item);
    }
  }, TICK_MS);
}
