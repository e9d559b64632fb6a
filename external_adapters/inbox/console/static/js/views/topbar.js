// The top bar: waiting count (also in the page title), live state in words, the bell (notifications, sound),
// status, the agent's name, the Admin link, Keyboard shortcuts and Sign out.
import { api } from "../api.js";
import { $, el } from "../dom.js";
import { tellTabs } from "../live.js";
import { get, set, subscribe } from "../state.js";
import { guarded } from "../toast.js";
import { navigate } from "../router.js";

const LIVE_WORDS = { connecting: "Connecting…", live: "Live", reconnecting: "Reconnecting…" };
const SOUND_KEY = "inbox-sound";
const MAX_NOTICES = 20;

function renderMe({ me, statuses }) {
  if (!me) return;
  $("me").textContent = me.name;
  $("admin-link").hidden = me.role !== "admin";
  $("status").replaceChildren(...statuses.map((s) => el("option", { value: s }, s[0].toUpperCase() + s.slice(1))));
  $("status").value = me.status;
  $("status").dataset.status = me.status;
}

function renderWaiting({ counts }) {
  $("waiting").textContent = `${counts.waiting} waiting`;
  document.title = counts.waiting ? `(${counts.waiting}) Inbox` : "Inbox";
}

function renderLive({ live }) {
  $("live-state").textContent = LIVE_WORDS[live] || live;
  $("live-state").dataset.state = live;
}

function renderBell({ notices, unseenNotices }) {
  $("bell-count").hidden = unseenNotices === 0;
  $("bell-count").textContent = String(unseenNotices);
  $("bell").setAttribute("aria-label", "Notifications");
  $("bell").title = unseenNotices ? `${unseenNotices} new notifications` : "Notifications";
  const items = notices.map((n) => el("li", {}, n.sessionId
    ? el("a", { href: `/console/sessions/${encodeURIComponent(n.sessionId)}`, onclick: (e) => { e.preventDefault(); closeBell(); navigate(n.sessionId); } }, n.text)
    : n.text));
  $("notices").replaceChildren(...(items.length ? items : [el("li", { class: "muted" }, "Nothing yet.")]));
  $("notify").hidden = !("Notification" in window) || Notification.permission !== "default";
}

function closeBell() {
  $("bell-panel").hidden = true;
  $("bell").setAttribute("aria-expanded", "false");
}

function toggleBell() {
  const open = $("bell-panel").hidden;
  $("bell-panel").hidden = !open;
  $("bell").setAttribute("aria-expanded", String(open));
  if (open) set({ unseenNotices: 0 });
}

/** A short beep (Web Audio: no sound file to ship), when the agent turned the sound on. */
function beep() {
  if (localStorage.getItem(SOUND_KEY) !== "on" || !window.AudioContext) return;
  const audio = new AudioContext();
  const tone = audio.createOscillator();
  const gain = audio.createGain();
  gain.gain.value = 0.08;
  tone.connect(gain).connect(audio.destination);
  tone.frequency.value = 880;
  tone.start();
  tone.stop(audio.currentTime + 0.18);
}

/** Tell the agent: the bell's list, a desktop notification when the tab is hidden, and the sound if `ring`. */
export function notify(text, sessionId = null, { ring = false } = {}) {
  const { notices, unseenNotices } = get();
  set({ notices: [{ text, sessionId, at: Date.now() }, ...notices].slice(0, MAX_NOTICES), unseenNotices: unseenNotices + 1 });
  if (ring) beep();
  if ("Notification" in window && Notification.permission === "granted" && document.hidden) {
    const notice = new Notification("Inbox", { body: text, tag: sessionId || undefined });
    notice.onclick = () => { window.focus(); if (sessionId) navigate(sessionId); };
  }
}

/** Wire the top bar; `signOut()` runs on Sign out. */
export function initTopbar(signOut) {
  subscribe(["me", "statuses"], renderMe);
  subscribe(["counts"], renderWaiting);
  subscribe(["live"], renderLive);
  subscribe(["notices", "unseenNotices"], renderBell);
  renderBell(get());
  $("status").addEventListener("change", (event) => guarded(async () => {
    const me = await api("PUT", "/me/status", { status: event.target.value });
    set({ me });
    tellTabs({ kind: "status", agent: me });
  }));
  $("logout").addEventListener("click", signOut);
  $("bell").addEventListener("click", toggleBell);
  $("notify").addEventListener("click", async () => { await Notification.requestPermission(); renderBell(get()); });
  $("sound").checked = localStorage.getItem(SOUND_KEY) === "on";
  $("sound").addEventListener("change", (e) => localStorage.setItem(SOUND_KEY, e.target.checked ? "on" : "off"));
  document.addEventListener("keydown", (e) => { if (e.key === "Escape" && !$("bell-panel").hidden) { closeBell(); $("bell").focus(); } });
}
