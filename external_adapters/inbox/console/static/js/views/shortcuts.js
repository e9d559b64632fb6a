// Keyboard shortcuts: ? help, n next waiting conversation, c claim, e resolve, r reply box (Escape closes the
// dialogs natively). Ignored while typing in a field or with a modifier key held.
import { isTyping, $ } from "../dom.js";
import { navigate } from "../router.js";
import { get } from "../state.js";
import { claim, resolve } from "./conversation.js";
import { dialogOpen, openHelp } from "./dialogs.js";
import { nextWaitingId } from "./queue.js";

const ACTIONS = {
  "?": openHelp,
  n: () => { const id = nextWaitingId(); if (id) navigate(id); },
  c: () => { const { detail } = get(); if (detail && detail.session.state === "NEEDS_ACTION") claim(detail.session.id); },
  e: () => { const { detail } = get(); if (detail && detail.session.state !== "CLOSED") resolve(); },
  r: () => { if (!$("reply").disabled && !$("reply-form").hidden) $("reply").focus(); },
};

function onKey(event) {
  if (!get().me || event.ctrlKey || event.metaKey || event.altKey || isTyping(event.target) || dialogOpen()) return;
  const action = ACTIONS[event.key];
  if (!action) return;
  event.preventDefault();
  action();
}

export function initShortcuts() {
  document.addEventListener("keydown", onKey);
}
