// Labels: the list agents choose from; add and remove (each change saves the whole list).
import { api } from "../api.js";
import { alertBox, field, h, submitting, toast } from "./dom.js";

/** The Labels section. */
export async function labelsSection() {
  let labels = await api("GET", "/labels");
  const list = h("ul", { class: "chips-list", "aria-label": "Labels" });
  const input = h("input", { name: "labels", autocomplete: "off", required: true });
  const form = h(
    "form",
    { class: "panel form-grid", "aria-labelledby": "label-form-title" },
    h("h2", { id: "label-form-title" }, "Add a label"),
    field("New label", input),
    alertBox(),
    h("div", { class: "buttons" }, h("button", { type: "submit", class: "primary" }, "Add label")),
  );
  const save = async (next, said) => {
    labels = await api("PUT", "/admin/labels", { labels: next });
    draw();
    toast(said);
  };
  const draw = () => {
    list.replaceChildren(
      ...labels.map((label) =>
        h(
          "li",
          { class: "chip" },
          h("span", { dir: "auto" }, label),
          h(
            "button",
            {
              type: "button",
              class: "small",
              "aria-label": `Remove ${label}`,
              onclick: () => submitting(form, () => save(labels.filter((l) => l !== label), `${label} removed`)),
            },
            "Remove",
          ),
        ),
      ),
    );
    if (!labels.length) list.append(h("li", { class: "muted" }, "No labels yet."));
  };
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const label = input.value.trim();
    submitting(form, async () => {
      await save([...labels, label], `${label} added`);
      input.value = "";
    });
  });
  draw();
  return h(
    "section",
    { "aria-labelledby": "labels-title" },
    h("h1", { id: "labels-title" }, "Labels"),
    h("p", { class: "muted" }, "Agents put these on conversations. Removing one leaves it on the conversations that have it."),
    form,
    list,
  );
}
