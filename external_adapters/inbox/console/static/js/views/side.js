// The side panel of a conversation: the contact, the session's labels (toggle buttons), the contact's notes.
import { api } from "../api.js";
import { $, el } from "../dom.js";
import { timeNode } from "../format.js";
import { get, set } from "../state.js";
import { guarded } from "../toast.js";
import { refreshQueue } from "./queue.js";

function renderContact(c) {
  const rows = [["Name", c.name], ["E-mail", c.email], ["Phone", c.phone], ["Botpress id", c.bp_user_id], ["Tags", c.visibility_tags.join(", ")]];
  $("contact").replaceChildren(...rows.flatMap(([k, v]) => [el("dt", {}, k), el("dd", { dir: "auto" }, v || "—")]));
}

async function toggleLabel(session, label) {
  const next = session.labels.includes(label) ? session.labels.filter((l) => l !== label) : [...session.labels, label];
  const updated = await api("PUT", `/sessions/${encodeURIComponent(session.id)}/labels`, { values: next });
  set({ detail: { ...get().detail, session: updated } });
  refreshQueue();
}

function renderLabels(session, labels) {
  $("labels").replaceChildren(...labels.map((label) => {
    const on = session.labels.includes(label);
    return el("button", {
      type: "button", class: on ? "label on" : "label", "aria-pressed": String(on), dataset: { label },
      onclick: () => guarded(() => toggleLabel(session, label)),
    }, on ? `✓ ${label}` : label);
  }));
}

function renderNotes(notes) {
  $("notes").replaceChildren(...notes.map((n) =>
    el("li", {}, el("p", { class: "who" }, n.agent_name, " · ", timeNode(n.created_at)), el("p", { dir: "auto" }, n.text))));
}

/** Render the side panel of the open session. */
export function renderSide({ detail, labels }) {
  renderContact(detail.contact);
  renderLabels(detail.session, labels);
  renderNotes(detail.notes);
}

/** Add a note the server answered, once (the live `note` event may bring it too). */
export function addNote(note) {
  const { detail } = get();
  if (!detail || note.contact_id !== detail.contact.id || detail.notes.some((n) => n.id === note.id)) return;
  set({ detail: { ...detail, notes: [...detail.notes, note] } });
}

$("note-form").addEventListener("submit", (event) => {
  event.preventDefault();
  guarded(async () => {
    const text = $("note").value.trim();
    if (!text) return;
    addNote(await api("POST", `/contacts/${encodeURIComponent(get().detail.contact.id)}/notes`, { text }));
    $("note").value = "";
  });
});
