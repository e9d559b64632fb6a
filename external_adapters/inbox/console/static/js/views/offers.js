// Offer popups: a non-modal role="dialog" "New handoff" in the top right corner (never over the reply box),
// with Claim, Reject and the claim window's countdown ("Claim within 4:59").
import { api } from "../api.js";
import { $, el } from "../dom.js";
import { countdown } from "../format.js";
import { guarded } from "../toast.js";
import { claim, reject } from "./conversation.js";
import { notify } from "./topbar.js";

const timers = new Map();

function card(sessionId, detail, deadline) {
  const who = detail.contact.name || detail.contact.email || "A contact";
  const title = detail.session.title || "needs an agent";
  const clock = el("p", { class: "countdown" });
  const tick = () => {
    if (deadline) clock.textContent = `Claim within ${countdown(deadline - Date.now() / 1000)}`;
  };
  tick();
  timers.set(sessionId, setInterval(tick, 1000));
  const claimButton = el("button", { class: "primary", type: "button", onclick: () => claim(sessionId, claimButton) }, "Claim");
  const rejectButton = el("button", { type: "button", onclick: () => reject(sessionId, rejectButton) }, "Reject");
  return el("div", { class: "offer", role: "dialog", "aria-label": "New handoff", dataset: { session: sessionId }, "data-testid": "offer" },
    el("p", { class: "offer-title" }, "New handoff"),
    el("p", { dir: "auto" }, `${who}: ${title}`),
    deadline ? clock : null,
    el("div", { class: "buttons" },
      el("button", { class: "ghost", type: "button", onclick: () => dismissOffer(sessionId) }, "Later"),
      rejectButton, claimButton));
}

/** Show the offer of a session (once), and tell the agent (bell, desktop notification, sound). */
export async function showOffer(sessionId, claimDeadline = null) {
  if (document.querySelector(`.offer[data-session="${CSS.escape(sessionId)}"]`)) return;
  const detail = await guarded(() => api("GET", `/sessions/${encodeURIComponent(sessionId)}`));
  if (!detail || detail.session.state !== "NEEDS_ACTION") return;
  const deadline = claimDeadline ?? detail.session.claim_deadline ?? null;
  $("offers").append(card(sessionId, detail, deadline));
  const who = detail.contact.name || detail.contact.email || "A contact";
  notify(`New handoff: ${who}`, sessionId, { ring: true });
}

/** Remove the offer popup of a session (claimed, withdrawn, dismissed). */
export function dismissOffer(sessionId) {
  clearInterval(timers.get(sessionId));
  timers.delete(sessionId);
  document.querySelector(`.offer[data-session="${CSS.escape(sessionId)}"]`)?.remove();
}

export function initOffers() {}
