// The admin screens' entry: who is signed in, the section nav, and which section to draw (from the URL).
import { api, ApiError, onSignedOut } from "../api.js";
import { h } from "./dom.js";
import { agentsSection } from "./agents.js";
import { templatesSection } from "./templates.js";
import { labelsSection } from "./labels.js";
import { viewsSection } from "./views.js";

const SECTIONS = {
  agents: agentsSection,
  templates: templatesSection,
  labels: labelsSection,
  views: viewsSection,
};
const main = document.getElementById("main");
const nav = document.getElementById("sections");

function toSignIn() {
  location.assign(`/console/?next=${encodeURIComponent(location.pathname)}`);
}

function sectionOf(path) {
  const name = path.replace(/\/+$/, "").split("/")[3];
  return SECTIONS[name] ? name : "agents";
}

async function show(name, me) {
  for (const link of nav.querySelectorAll("a")) {
    if (link.dataset.section === name) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  document.title = `${name[0].toUpperCase()}${name.slice(1)} · Admin · Inbox`;
  main.replaceChildren(h("p", { class: "muted" }, "Loading…"));
  try {
    main.replaceChildren(await SECTIONS[name](me));
  } catch (error) {
    main.replaceChildren(h("p", { class: "error", role: "alert" }, error.message));
  }
}

function adminsOnly() {
  main.replaceChildren(
    h("h1", {}, "Admins only"),
    h("p", {}, "These screens are for admin accounts. ", h("a", { href: "/console/" }, "Back to inbox")),
  );
}

async function boot() {
  let me;
  try {
    me = (await api("GET", "/me")).agent;
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) return toSignIn();
    main.replaceChildren(h("p", { class: "error", role: "alert" }, error.message));
    return;
  }
  document.getElementById("who").textContent = me.name;
  if (me.role !== "admin") return adminsOnly();
  onSignedOut(toSignIn);
  nav.hidden = false;
  nav.addEventListener("click", (event) => {
    const link = event.target.closest("a[data-section]");
    if (!link || event.ctrlKey || event.metaKey || event.shiftKey) return;
    event.preventDefault();
    history.pushState({}, "", link.href);
    show(link.dataset.section, me).then(() => main.focus());
  });
  addEventListener("popstate", () => show(sectionOf(location.pathname), me));
  await show(sectionOf(location.pathname), me);
}

boot();
