// Short messages in the page's role="status" region (announced politely), gone after a few seconds.
import { $, el } from "./dom.js";

const SHOWN_MS = 6000;

/** Show `text` as a toast. */
export function toast(text) {
  const item = el("p", { class: "toast" }, text);
  $("toasts").append(item);
  setTimeout(() => item.remove(), SHOWN_MS);
}

/** Run `action()`; a thrown error becomes a toast with the server's words. Returns its result or undefined. */
export async function guarded(action) {
  try {
    return await action();
  } catch (error) {
    toast(error.message);
    return undefined;
  }
}
