// Templates: list, create, edit, delete, with a live preview of the placeholders filled in.
import { api } from "../api.js";
import { alertBox, field, h, submitting, toast } from "./dom.js";

const SAMPLE_CONTACT = "Jane Doe";

/** The text as an agent's reply would read it (the console fills the same two placeholders). */
export function fill(text, agentName) {
  return text.replaceAll("{{contactName}}", SAMPLE_CONTACT).replaceAll("{{agentName}}", agentName);
}

function editor(me, refresh) {
  let editing = null;
  const text = h("textarea", { name: "text", rows: 4, required: true });
  const preview = h("p", { class: "preview-text" });
  const submit = h("button", { type: "submit", class: "primary" }, "Create template");
  const cancel = h("button", { type: "button", hidden: true }, "Cancel edit");
  const form = h(
    "form",
    { class: "panel form-grid", "aria-labelledby": "template-form-title" },
    h("h2", { id: "template-form-title" }, "New template"),
    field("Shortcut", h("input", { name: "shortcut", autocomplete: "off", required: true }), "Agents type /shortcut"),
    field("Title", h("input", { name: "title", autocomplete: "off" })),
    field("Text", text, "{{contactName}} and {{agentName}} are filled in"),
    h("section", { class: "preview", "aria-label": "Preview" }, h("h3", {}, "Preview"), preview),
    alertBox(),
    h("div", { class: "buttons" }, submit, cancel),
  );
  const update = () => (preview.textContent = fill(text.value, me.name));
  text.addEventListener("input", update);
  const edit = (template) => {
    editing = template;
    form.querySelector("h2").textContent = template ? `Edit /${template.shortcut}` : "New template";
    form.elements.shortcut.value = template ? template.shortcut : "";
    form.elements.title.value = template ? template.title : "";
    text.value = template ? template.text : "";
    submit.textContent = template ? "Save template" : "Create template";
    cancel.hidden = !template;
    update();
    if (template) form.elements.shortcut.focus();
  };
  cancel.addEventListener("click", () => edit(null));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const body = { shortcut: form.elements.shortcut.value, title: form.elements.title.value, text: text.value };
    submitting(form, async () => {
      if (editing) await api("PUT", `/admin/templates/${editing.id}`, body);
      else await api("POST", "/admin/templates", body);
      toast(`/${body.shortcut} saved`);
      edit(null);
      await refresh();
    });
  });
  return { form, edit };
}

function templateCard(template, edit, refresh) {
  const actions = h("form", { class: "buttons" }, alertBox());
  const editButton = h("button", { type: "button", "aria-label": `Edit /${template.shortcut}` }, "Edit");
  editButton.addEventListener("click", () => edit(template));
  const remove = h("button", { type: "button", class: "danger", "aria-label": `Delete /${template.shortcut}` }, "Delete");
  remove.addEventListener("click", () =>
    submitting(actions, async () => {
      await api("DELETE", `/admin/templates/${template.id}`);
      toast(`/${template.shortcut} deleted`);
      await refresh();
    }),
  );
  actions.prepend(editButton, remove);
  return h(
    "li",
    { class: "panel card" },
    h("h3", {}, h("code", {}, `/${template.shortcut}`), template.title ? ` ${template.title}` : ""),
    h("p", { class: "template-text", dir: "auto" }, template.text),
    actions,
  );
}

/** The Templates section. */
export async function templatesSection(me) {
  const list = h("ul", { class: "cards", "aria-label": "Templates" });
  let edit = () => {};
  const refresh = async () => {
    const templates = await api("GET", "/admin/templates");
    list.replaceChildren(...templates.map((t) => templateCard(t, edit, refresh)));
    if (!templates.length) list.append(h("li", { class: "muted" }, "No templates yet."));
  };
  const built = editor(me, refresh);
  edit = built.edit;
  await refresh();
  return h(
    "section",
    { "aria-labelledby": "templates-title" },
    h("h1", { id: "templates-title" }, "Templates"),
    built.form,
    list,
  );
}
