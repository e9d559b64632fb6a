// The inbox console: plain JavaScript, no build step. Everything user-provided is set as text, never HTML.
"use strict";

const $ = (id) => document.getElementById(id);
const state = { me: null, labels: [], current: null, detail: null, agents: [], templates: [], views: [], socket: null };

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === "class") node.className = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (key === "dataset") Object.assign(node.dataset, value);
    else node.setAttribute(key, value);
  }
  for (const child of children) node.append(child instanceof Node ? child : document.createTextNode(child ?? ""));
  return node;
}

async function api(method, path, body) {
  const init = { method, headers: { "X-Inbox-Client": "console" }, credentials: "same-origin" };
  if (body !== undefined) { init.headers["Content-Type"] = "application/json"; init.body = JSON.stringify(body); }
  const response = await fetch("/console/api" + path, init);
  const data = await response.json().catch(() => ({}));
  if (response.status === 401 && path !== "/login") { showLogin(); throw new Error("log in first"); }
  if (!response.ok) throw new Error(data.error || response.statusText);
  return data;
}

function toast(text) {
  const box = $("toast");
  box.textContent = text; box.hidden = false;
  clearTimeout(toast.timer); toast.timer = setTimeout(() => { box.hidden = true; }, 3500);
}

async function guarded(action) {
  try { return await action(); } catch (error) { toast(error.message); return undefined; }
}

// ---- login ------------------------------------------------------------------------------------
function showLogin() { $("app").hidden = true; $("login").hidden = false; if (state.socket) state.socket.close(); }

$("login-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = new FormData(event.target);
  try {
    await api("POST", "/login", { email: form.get("email"), password: form.get("password") });
    $("login-error").textContent = "";
    await start();
  } catch (error) { $("login-error").textContent = error.message; }
});

$("logout").addEventListener("click", async () => { await guarded(() => api("POST", "/logout")); showLogin(); });

async function start() {
  const me = await api("GET", "/me");
  state.me = me.agent; state.labels = me.labels;
  $("login").hidden = true; $("app").hidden = false;
  $("me").textContent = state.me.name;
  $("status").replaceChildren(...me.statuses.map((s) => el("option", { value: s }, s)));
  $("status").value = state.me.status;
  $("f-label").replaceChildren(el("option", { value: "" }, "Any label"), ...state.labels.map((l) => el("option", { value: l }, l)));
  [state.agents, state.templates, state.views] = await Promise.all([api("GET", "/agents"), api("GET", "/templates"), api("GET", "/views")]);
  renderViews(); updateNotifyButton(); connect(); await loadQueue();
}

// ---- status and notifications -----------------------------------------------------------------
$("status").addEventListener("change", (event) => guarded(async () => {
  state.me = await api("PUT", "/me/status", { status: event.target.value });
}));

function updateNotifyButton() {
  const button = $("notify");
  button.hidden = !("Notification" in window) || Notification.permission === "granted";
}
$("notify").addEventListener("click", async () => { await Notification.requestPermission(); updateNotifyButton(); });

// ---- queue, filters, views --------------------------------------------------------------------
function filters() {
  const f = { state: $("f-state").value, assigned: $("f-assigned").value, label: $("f-label").value, tag: $("f-tag").value.trim(), search: $("f-search").value.trim() };
  return Object.fromEntries(Object.entries(f).filter(([k, v]) => v && !(k === "assigned" && v === "any")));
}

async function loadQueue() {
  const items = await api("GET", "/queue?" + new URLSearchParams(filters()));
  $("queue").replaceChildren(...items.map(queueItem));
  if (!items.length) $("queue").append(el("li", { class: "muted" }, "Nothing here."));
}

function queueItem(item) {
  const s = item.session, c = item.contact;
  const badge = item.unclaimed ? el("span", { class: "badge unclaimed" }, "Unclaimed")
    : el("span", { class: "badge " + s.state }, s.state === "ASSIGNED" ? (item.assigned_agent_name || "Assigned") : (s.close_reason || "Closed"));
  const chips = el("div", { class: "chips" }, ...[...s.labels, ...s.rule_tags.map((t) => "#" + t)].map((t) => el("span", { class: "badge" }, t)));
  const li = el("li", { class: (item.unclaimed ? "unclaimed " : "") + (state.current === s.id ? "active" : ""), dataset: { session: s.id }, onclick: () => openSession(s.id) },
    el("div", { class: "top" }, el("span", { class: "name" }, c.name || c.email || "Unknown contact"), badge),
    el("div", { class: "preview" }, s.title || item.last_text || ""), chips);
  return li;
}

for (const id of ["f-state", "f-assigned", "f-label"]) $(id).addEventListener("change", () => guarded(loadQueue));
for (const id of ["f-search", "f-tag"]) $(id).addEventListener("input", debounce(() => guarded(loadQueue), 250));

function renderViews() {
  $("view").replaceChildren(el("option", { value: "" }, "All conversations"),
    ...state.views.map((v) => el("option", { value: v.id }, v.name + (v.shared ? "" : " ★"))));
}
$("view").addEventListener("change", () => {
  const view = state.views.find((v) => v.id === $("view").value);
  const f = view ? view.filters : {};
  $("f-state").value = f.state || ""; $("f-assigned").value = f.assigned || "any"; $("f-label").value = f.label || "";
  $("f-tag").value = f.tag || ""; $("f-search").value = f.search || "";
  guarded(loadQueue);
});
$("save-view").addEventListener("click", () => guarded(async () => {
  const name = prompt("Name of the view");
  if (!name) return;
  const view = await api("POST", "/views", { name, filters: filters() });
  state.views.push(view); renderViews(); $("view").value = view.id;
}));

// ---- one session ------------------------------------------------------------------------------
async function openSession(id) {
  state.current = id;
  const detail = await guarded(() => api("GET", "/sessions/" + id));
  if (!detail) return;
  state.detail = detail;
  for (const li of $("queue").children) li.classList.toggle("active", li.dataset.session === id);
  renderSession();
}

function renderSession() {
  const { session: s, contact: c } = state.detail;
  $("empty").hidden = true; $("session").hidden = false; $("side").hidden = false;
  $("s-title").textContent = s.title || "Conversation with " + (c.name || "contact");
  const owner = state.agents.find((a) => a.id === s.assigned_agent_id);
  $("s-meta").textContent = [s.state === "CLOSED" ? "Closed: " + s.close_reason : s.state === "ASSIGNED" ? "Assigned to " + (owner ? owner.name : "an agent") : "Waiting for an agent",
    s.paused ? "paused by admin" : "", s.rule_tags.length ? "tags: " + s.rule_tags.join(", ") : ""].filter(Boolean).join(" · ");
  $("claim").hidden = s.state !== "NEEDS_ACTION";
  $("resolve").disabled = s.state === "CLOSED";
  const canTransfer = s.state === "ASSIGNED" && (s.assigned_agent_id === state.me.id || state.me.role === "admin");
  $("transfer").disabled = !canTransfer; $("transfer-to").disabled = !canTransfer;
  $("transfer-to").replaceChildren(el("option", { value: "" }, "Transfer to…"), ...state.agents.filter((a) => a.id !== s.assigned_agent_id).map((a) => el("option", { value: a.id }, `${a.name} (${a.status})`)));
  $("reply").disabled = !canTransfer;
  $("reply").placeholder = canTransfer ? "Reply… type / for templates" : s.state === "NEEDS_ACTION" ? "Assign the conversation to yourself to reply" : "This conversation is closed";
  renderMessages(); renderContact(); renderLabels(); renderNotes();
}

function renderMessages() {
  const list = $("messages"); list.replaceChildren();
  let live = false;
  for (const m of state.detail.messages) {
    if (!live && m.direction !== "transcript") {
      live = true;
      if (list.children.length) list.append(el("li", { class: "divider" }, "— handed over to an agent —"));
    }
    list.append(messageItem(m));
  }
  list.scrollTop = list.scrollHeight;
}

function messageItem(m) {
  const who = m.direction === "transcript" ? (m.payload.source === "user" ? "User (before handoff)" : "Bot")
    : m.direction === "user" ? "User" : (m.author_name || "Agent");
  return el("li", { class: m.direction + (m.held ? " held" : ""), dataset: { message: m.id } },
    el("span", { class: "who" }, who + (m.held ? " · held (paused)" : "")), m.text);
}

function renderContact() {
  const c = state.detail.contact;
  const rows = [["Name", c.name], ["E-mail", c.email], ["Phone", c.phone], ["Botpress id", c.bp_user_id], ["Tags", c.visibility_tags.join(", ")]];
  $("contact").replaceChildren(...rows.flatMap(([k, v]) => [el("dt", {}, k), el("dd", {}, v || "—")]));
}

function renderLabels() {
  const s = state.detail.session;
  $("labels").replaceChildren(...state.labels.map((label) => {
    const on = s.labels.includes(label);
    const box = el("input", { type: "checkbox" }); box.checked = on;
    box.addEventListener("change", () => guarded(async () => {
      const next = box.checked ? [...s.labels, label] : s.labels.filter((l) => l !== label);
      state.detail.session = await api("PUT", `/sessions/${s.id}/labels`, { values: next });
      renderLabels(); loadQueue();
    }));
    return el("label", { class: on ? "on" : "", dataset: { label } }, box, label);
  }));
}

function renderNotes() {
  $("notes").replaceChildren(...state.detail.notes.map((n) => el("li", {}, el("span", { class: "who" }, n.agent_name + " · " + new Date(n.created_at * 1000).toLocaleString()), n.text)));
}

$("claim").addEventListener("click", () => claim(state.current));
$("resolve").addEventListener("click", () => guarded(async () => {
  if (!confirm("Resolve this conversation? The bot takes over again.")) return;
  state.detail.session = await api("POST", `/sessions/${state.current}/resolve`);
  renderSession(); loadQueue();
}));
$("transfer").addEventListener("click", () => guarded(async () => {
  const to = $("transfer-to").value;
  if (!to) return toast("Pick an agent to transfer to");
  await api("POST", `/sessions/${state.current}/transfer`, { agent: to });
  await openSession(state.current); loadQueue();
}));

async function claim(id) {
  await guarded(async () => { await api("POST", `/sessions/${id}/claim`); dismissOffer(id); await openSession(id); loadQueue(); });
}

// ---- reply and templates ----------------------------------------------------------------------
const picker = { open: false, index: 0, matches: [] };

$("reply-form").addEventListener("submit", (event) => { event.preventDefault(); send(); });
async function send() {
  const text = $("reply").value.trim();
  if (!text) return;
  await guarded(async () => {
    await api("POST", `/sessions/${state.current}/messages`, { text });
    $("reply").value = ""; closePicker();
  });
}

$("reply").addEventListener("input", () => {
  const match = /(^|\s)\/([\w-]*)$/.exec($("reply").value);
  if (!match) return closePicker();
  const query = match[2].toLowerCase();
  picker.matches = state.templates.filter((t) => t.shortcut.toLowerCase().startsWith(query) || (t.title || "").toLowerCase().includes(query));
  picker.index = 0; picker.open = picker.matches.length > 0; renderPicker();
});

$("reply").addEventListener("keydown", (event) => {
  if (picker.open && ["ArrowDown", "ArrowUp"].includes(event.key)) {
    event.preventDefault();
    picker.index = (picker.index + (event.key === "ArrowDown" ? 1 : picker.matches.length - 1)) % picker.matches.length;
    renderPicker();
  } else if (picker.open && (event.key === "Enter" || event.key === "Tab")) {
    event.preventDefault(); useTemplate(picker.matches[picker.index]);
  } else if (picker.open && event.key === "Escape") {
    closePicker();
  } else if (event.key === "Enter" && !event.shiftKey) {
    event.preventDefault(); send();
  }
});

function renderPicker() {
  const box = $("templates"); box.hidden = !picker.open;
  box.replaceChildren(...picker.matches.map((t, i) => el("div", { class: i === picker.index ? "sel" : "", dataset: { shortcut: t.shortcut }, onmousedown: (e) => { e.preventDefault(); useTemplate(t); } },
    el("code", {}, "/" + t.shortcut), t.text)));
}

function useTemplate(template) {
  const contactName = state.detail ? state.detail.contact.name || "" : "";
  $("reply").value = $("reply").value.replace(/(^|\s)\/[\w-]*$/, "$1") + template.text.replace(/\{\{contactName\}\}/g, contactName);
  closePicker(); $("reply").focus();
}
function closePicker() { picker.open = false; $("templates").hidden = true; }

// ---- notes and outbound -----------------------------------------------------------------------
$("note-form").addEventListener("submit", (event) => { event.preventDefault(); guarded(async () => {
  const text = $("note").value.trim();
  if (!text) return;
  const note = await api("POST", `/contacts/${state.detail.contact.id}/notes`, { text });
  $("note").value = "";
  if (!state.detail.notes.some((n) => n.id === note.id)) state.detail.notes.push(note);
  renderNotes();
}); });

$("outbound-form").addEventListener("submit", (event) => { event.preventDefault(); guarded(async () => {
  const text = $("outbound").value.trim();
  if (!text) return;
  await api("POST", `/contacts/${state.detail.contact.id}/messages`, { text });
  $("outbound").value = ""; toast("Sent to the contact's last conversation");
}); });

// ---- offers (new handoffs) --------------------------------------------------------------------
async function showOffer(sessionId) {
  if (document.querySelector(`.offer[data-session="${sessionId}"]`)) return;
  const detail = await guarded(() => api("GET", "/sessions/" + sessionId));
  if (!detail || detail.session.state !== "NEEDS_ACTION") return;
  const who = detail.contact.name || detail.contact.email || "A contact";
  const card = el("div", { class: "offer", dataset: { session: sessionId }, "data-testid": "offer" },
    el("strong", {}, "New handoff"), el("div", {}, `${who}: ${detail.session.title || "needs an agent"}`),
    el("div", { class: "buttons" },
      el("button", { class: "ghost", type: "button", onclick: () => dismissOffer(sessionId) }, "Close"),
      el("button", { type: "button", onclick: () => guarded(async () => { await api("POST", `/sessions/${sessionId}/reject`); dismissOffer(sessionId); loadQueue(); }) }, "Reject"),
      el("button", { class: "primary", type: "button", onclick: () => claim(sessionId) }, "Claim")));
  $("offers").append(card);
  if ("Notification" in window && Notification.permission === "granted" && document.hidden) {
    const notice = new Notification("New handoff", { body: `${who}: ${detail.session.title || "needs an agent"}`, tag: sessionId });
    notice.onclick = () => { window.focus(); openSession(sessionId); };
  }
}
function dismissOffer(sessionId) { document.querySelector(`.offer[data-session="${sessionId}"]`)?.remove(); }

// ---- live channel -----------------------------------------------------------------------------
const refreshQueue = debounce(() => guarded(loadQueue), 150);

function connect() {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  const socket = new WebSocket(`${scheme}//${location.host}/console/api/live`);
  state.socket = socket;
  socket.onopen = () => $("live-state").classList.add("on");
  socket.onclose = (event) => {
    $("live-state").classList.remove("on");
    if (event.code === 4401) { if (state.socket === socket) showLogin(); return; } // the login expired or was signed out
    if (!$("app").hidden && state.socket === socket) setTimeout(connect, 2000);
  };
  socket.onmessage = (event) => onLive(JSON.parse(event.data));
}

function onLive({ type, data }) {
  if (type === "offer") showOffer(data.sessionId);
  else if (type === "offer_withdrawn") dismissOffer(data.sessionId);
  else if (type === "handoff" || type === "session") {
    refreshQueue();
    if (data.session.state !== "NEEDS_ACTION") dismissOffer(data.session.id);
    if (state.detail && data.session.id === state.current) { state.detail.session = data.session; renderSession(); }
  } else if (type === "message") {
    refreshQueue();
    if (state.detail && data.session_id === state.current && !state.detail.messages.some((m) => m.id === data.id)) {
      state.detail.messages.push(data); renderMessages();
    }
  } else if (type === "note") {
    if (state.detail && data.contact_id === state.detail.contact.id && !state.detail.notes.some((n) => n.id === data.id)) {
      state.detail.notes.push(data); renderNotes();
    }
  } else if (type === "agent") {
    state.agents = state.agents.map((a) => (a.id === data.id ? data : a));
    if (data.id === state.me.id) { state.me = data; $("status").value = data.status; }
  }
}

function debounce(fn, ms) { let t; return (...args) => { clearTimeout(t); t = setTimeout(() => fn(...args), ms); }; }

// Start: if the login cookie is still good, go straight in.
api("GET", "/me").then(() => start()).catch(() => showLogin());
