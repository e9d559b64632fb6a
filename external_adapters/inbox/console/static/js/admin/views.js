// Shared views: queue filters every agent sees; create and delete (views from the configuration are read-only).
import { api } from "../api.js";
import { alertBox, field, h, submitting, toast } from "./dom.js";

const STATES = [["", "Any state"], ["NEEDS_ACTION", "Waiting"], ["ASSIGNED", "Assigned"], ["CLOSED", "Closed"]];
const ASSIGNED = [["", "Anyone"], ["me", "The agent viewing it"], ["unassigned", "Nobody (unassigned)"]];
const options = (pairs) => pairs.map(([value, text]) => h("option", { value }, text));

function describe(filters) {
  const parts = [];
  if (filters.state) parts.push(`state: ${STATES.find(([v]) => v === filters.state)?.[1] || filters.state}`);
  if (filters.label) parts.push(`label: ${filters.label}`);
  if (filters.tag) parts.push(`tag: ${filters.tag}`);
  if (filters.assigned) parts.push(`assigned: ${filters.assigned}`);
  return parts.join(" · ") || "every conversation";
}

function viewForm(labels, refresh) {
  const form = h(
    "form",
    { class: "panel form-grid", "aria-labelledby": "view-form-title" },
    h("h2", { id: "view-form-title" }, "New shared view"),
    field("Name", h("input", { name: "name", autocomplete: "off", required: true })),
    field("State", h("select", { name: "state" }, options(STATES))),
    field("Label", h("select", { name: "label" }, options([["", "Any label"], ...labels.map((l) => [l, l])]))),
    field("Tag", h("input", { name: "tag", autocomplete: "off" })),
    field("Assigned", h("select", { name: "assigned" }, options(ASSIGNED))),
    alertBox(),
    h("div", { class: "buttons" }, h("button", { type: "submit", class: "primary" }, "Create shared view")),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const data = Object.fromEntries(new FormData(form));
    const { name, ...filters } = data;
    const chosen = Object.fromEntries(Object.entries(filters).filter(([, v]) => v));
    submitting(form, async () => {
      await api("POST", "/views", { name, filters: chosen, shared: true });
      form.reset();
      toast(`${name} is shared with every agent`);
      await refresh();
    });
  });
  return form;
}

function viewCard(view, refresh) {
  const actions = h("form", { class: "buttons" }, alertBox());
  if (view.id.startsWith("cfg_")) actions.prepend(h("span", { class: "muted" }, "From the configuration"));
  else
    actions.prepend(
      h(
        "button",
        {
          type: "button",
          class: "danger",
          "aria-label": `Delete ${view.name}`,
          onclick: () =>
            submitting(actions, async () => {
              await api("DELETE", `/views/${view.id}`);
              toast(`${view.name} deleted`);
              await refresh();
            }),
        },
        "Delete",
      ),
    );
  return h("li", { class: "panel card" }, h("h3", {}, view.name), h("p", { class: "muted" }, describe(view.filters)), actions);
}

/** The Views section. */
export async function viewsSection() {
  const list = h("ul", { class: "cards", "aria-label": "Shared views" });
  const refresh = async () => {
    const views = (await api("GET", "/views")).filter((v) => v.shared);
    list.replaceChildren(...views.map((v) => viewCard(v, refresh)));
    if (!views.length) list.append(h("li", { class: "muted" }, "No shared views yet."));
  };
  const labels = await api("GET", "/labels");
  await refresh();
  return h(
    "section",
    { "aria-labelledby": "views-title" },
    h("h1", { id: "views-title" }, "Shared views"),
    viewForm(labels, refresh),
    list,
  );
}
