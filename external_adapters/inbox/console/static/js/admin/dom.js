// Small DOM helpers of the admin screens: element creation, labelled fields, errors that name the field.
import { el } from "../dom.js";

let nextId = 0;

/** `h("button", {type: "button", onclick: f}, "Save")`: the console's `el`, with `value` set as the control's
 * property once its children are in (a textarea's text, a select's choice among its options). */
export function h(tag, attrs = {}, ...children) {
  const { value, ...rest } = attrs;
  const node = el(tag, rest, ...children);
  if (value !== null && value !== undefined && value !== false) node.value = value;
  return node;
}

/** A label and its control, tied by id (every input of the admin screens has a visible label). */
export function field(label, control, hint = null) {
  control.id = control.id || `f${++nextId}`;
  const parts = [h("label", { for: control.id }, label), control];
  if (hint) {
    const hintEl = h("small", { id: `${control.id}-hint`, class: "muted" }, hint);
    control.setAttribute("aria-describedby", hintEl.id);
    parts.push(hintEl);
  }
  return h("div", { class: "field" }, ...parts);
}

/** The form's alert: shows the API's words (they start with the field's name) and marks that field invalid. */
export function showError(form, error) {
  const alert = form.querySelector('[role="alert"]');
  for (const el of form.querySelectorAll("[aria-invalid]")) el.removeAttribute("aria-invalid");
  if (!error) {
    alert.textContent = "";
    return;
  }
  alert.textContent = error.message || String(error);
  const name = (error.field || "").split(".")[0];
  const input = name ? form.querySelector(`[name="${CSS.escape(name)}"]`) : null;
  if (input) {
    input.setAttribute("aria-invalid", "true");
    input.focus();
  }
}

/** An empty alert region for a form's errors. */
export function alertBox() {
  return h("p", { class: "error", role: "alert" });
}

/** Say something briefly (role="status"). */
export function toast(text) {
  const el = document.getElementById("toast");
  el.textContent = text;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => (el.textContent = ""), 4000);
}

/** Run `work()` with the form's submit button disabled, showing its error in the form's alert. */
export async function submitting(form, work) {
  const buttons = form.querySelectorAll("button");
  for (const b of buttons) b.disabled = true;
  try {
    showError(form, null);
    await work();
  } catch (error) {
    showError(form, error);
  } finally {
    for (const b of buttons) b.disabled = false;
  }
}

/** Comma-separated words as a list. */
export function words(text) {
  return text
    .split(",")
    .map((w) => w.trim())
    .filter(Boolean);
}
