// Agents: the list (role, status, groups, disabled), create, disable/enable, reset password, groups.
import { api } from "../api.js";
import { alertBox, field, h, submitting, toast, words } from "./dom.js";

function createForm(refresh) {
  const form = h(
    "form",
    { class: "panel form-grid", "aria-labelledby": "create-agent-title" },
    h("h2", { id: "create-agent-title" }, "New agent"),
    field("Name", h("input", { name: "name", autocomplete: "off", required: true })),
    field("Email", h("input", { name: "email", type: "email", autocomplete: "off", required: true })),
    field("Password", h("input", { name: "password", type: "password", autocomplete: "new-password", required: true })),
    field(
      "Role",
      h("select", { name: "role" }, h("option", { value: "agent" }, "Agent"), h("option", { value: "admin" }, "Admin")),
    ),
    field("Groups", h("input", { name: "groups", autocomplete: "off" }), "Comma-separated, e.g. sales, vip"),
    alertBox(),
    h("div", { class: "buttons" }, h("button", { type: "submit", class: "primary" }, "Create agent")),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const data = new FormData(form);
    submitting(form, async () => {
      const body = Object.fromEntries(["name", "email", "password", "role"].map((k) => [k, data.get(k)]));
      const created = await api("POST", "/agents", { ...body, groups: words(data.get("groups")) });
      form.reset();
      toast(`${created.name} was created`);
      await refresh();
    });
  });
  return form;
}

function passwordDialog(agent) {
  const dialog = h("dialog", { "aria-labelledby": "reset-title", class: "panel" });
  const form = h(
    "form",
    { class: "form-grid" },
    h("h2", { id: "reset-title" }, `Reset password of ${agent.name}`),
    field("New password", h("input", { name: "password", type: "password", autocomplete: "new-password" })),
    h("p", { class: "muted" }, "Their open sessions end; they sign in with the new password."),
    alertBox(),
    h(
      "div",
      { class: "buttons" },
      h("button", { type: "submit", class: "primary" }, "Set password"),
      h("button", { type: "button", onclick: () => dialog.close() }, "Cancel"),
    ),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    submitting(form, async () => {
      await api("POST", `/agents/${agent.id}/password`, { password: form.elements.password.value });
      dialog.close();
      toast(`The password of ${agent.name} was changed`);
    });
  });
  dialog.append(form);
  dialog.addEventListener("close", () => dialog.remove());
  return dialog;
}

function groupsForm(agent, refresh) {
  const input = h("input", { name: "groups", value: agent.groups.join(", "), autocomplete: "off" });
  const form = h(
    "form",
    { class: "inline" },
    field(`Groups of ${agent.name}`, input),
    h("button", { type: "submit" }, "Save groups"),
    alertBox(),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    submitting(form, async () => {
      await api("PATCH", `/agents/${agent.id}`, { groups: words(input.value) });
      toast(`Groups of ${agent.name} saved`);
      await refresh();
    });
  });
  return form;
}

function agentCard(agent, me, refresh) {
  const actions = h("form", { class: "buttons" }, alertBox());
  const toggle = h(
    "button",
    { type: "button", class: agent.disabled ? "" : "danger", "aria-label": `${agent.disabled ? "Enable" : "Disable"} ${agent.name}` },
    agent.disabled ? "Enable" : "Disable",
  );
  toggle.disabled = agent.id === me.id;
  toggle.addEventListener("click", () =>
    submitting(actions, async () => {
      await api("PATCH", `/agents/${agent.id}`, { disabled: !agent.disabled });
      toast(`${agent.name} is ${agent.disabled ? "enabled" : "disabled"}`);
      await refresh();
    }),
  );
  const reset = h("button", { type: "button", "aria-label": `Reset password of ${agent.name}` }, "Reset password");
  reset.addEventListener("click", () => {
    const dialog = passwordDialog(agent);
    document.body.append(dialog);
    dialog.showModal();
  });
  actions.prepend(toggle, reset);
  const state = agent.disabled ? "Disabled" : "Enabled";
  return h(
    "li",
    { class: `panel card${agent.disabled ? " disabled" : ""}` },
    h("h3", {}, agent.name, agent.id === me.id ? h("span", { class: "muted" }, " (you)") : null),
    h(
      "dl",
      { class: "facts" },
      h("dt", {}, "Email"), h("dd", {}, agent.email),
      h("dt", {}, "Role"), h("dd", {}, agent.role === "admin" ? "Admin" : "Agent"),
      h("dt", {}, "Status"), h("dd", {}, agent.status),
      h("dt", {}, "Account"), h("dd", { class: `state ${state.toLowerCase()}` }, state),
    ),
    groupsForm(agent, refresh),
    actions,
  );
}

/** The Agents section. */
export async function agentsSection(me) {
  const list = h("ul", { class: "cards", "aria-label": "Agents" });
  const refresh = async () => {
    const agents = await api("GET", "/agents");
    list.replaceChildren(...agents.map((agent) => agentCard(agent, me, refresh)));
  };
  await refresh();
  return h("section", { "aria-labelledby": "agents-title" }, h("h1", { id: "agents-title" }, "Agents"), createForm(refresh), list);
}
