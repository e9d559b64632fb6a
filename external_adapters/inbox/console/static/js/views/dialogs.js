// The modal dialogs (native <dialog>: focus kept inside, Escape closes): Transfer, and the Keyboard shortcuts help.
import { api } from "../api.js";
import { $, el } from "../dom.js";
import { get, subscribe } from "../state.js";
import { guarded, toast } from "../toast.js";
import { loadQueue } from "./queue.js";

function transferTargets({ agents, detail, me }) {
  const current = detail ? detail.session.assigned_agent_id : null;
  return agents.filter((a) => a.id !== current && a.id !== me.id && !a.disabled);
}

function renderTargets(state) {
  if (!state.me || !$("transfer-dialog").open) return;
  const chosen = $("transfer-to").value;
  const options = transferTargets(state).map((a) => el("option", { value: a.id }, `${a.name} (${a.status})`));
  $("transfer-to").replaceChildren(...(options.length ? options : [el("option", { value: "" }, "No other agent")]));
  if ([...$("transfer-to").options].some((o) => o.value === chosen)) $("transfer-to").value = chosen;
}

/** Open the Transfer dialog for the open session. */
export function openTransfer() {
  $("transfer-dialog").showModal();
  renderTargets(get());
  $("transfer-to").focus();
}

async function confirmTransfer() {
  const to = $("transfer-to").value;
  const { detail } = get();
  if (!to || !detail) return toast("Pick an agent to transfer to");
  const button = $("transfer-confirm");
  button.disabled = true;
  try {
    await guarded(async () => {
      await api("POST", `/sessions/${encodeURIComponent(detail.session.id)}/transfer`, { agent: to });
      $("transfer-dialog").close();
      const target = get().agents.find((a) => a.id === to);
      toast(`Transferred to ${target ? target.name : "the agent"}`);
      const { reloadSession } = await import("./conversation.js");
      await reloadSession();
      await loadQueue();
    });
  } finally {
    button.disabled = false;
  }
}

/** Open the Keyboard shortcuts help. */
export function openHelp() {
  if (!$("help-dialog").open) $("help-dialog").showModal();
}

/** Whether a modal dialog is open (shortcuts then stay out of the way). */
export const dialogOpen = () => $("transfer-dialog").open || $("help-dialog").open;

export function initDialogs() {
  subscribe(["agents", "detail"], renderTargets);
  $("transfer-form").addEventListener("submit", (event) => { event.preventDefault(); confirmTransfer(); });
  $("transfer-cancel").addEventListener("click", () => $("transfer-dialog").close());
  $("shortcuts-button").addEventListener("click", openHelp);
}
