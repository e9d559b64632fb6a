// The console's entry point: sign-in, then the views wired to the store, the live channel and the router.
import { api, onSignedOut } from "./api.js";
import { connect, disconnect, onTabs, tellTabs } from "./live.js";
import { nextPath, startRouter, currentSessionId } from "./router.js";
import { get, set } from "./state.js";
import { $ } from "./dom.js";
import { initLogin, showLogin } from "./views/login.js";
import { initTopbar } from "./views/topbar.js";
import { initQueue, loadQueue } from "./views/queue.js";
import { initConversation, openSession } from "./views/conversation.js";
import { initReply } from "./views/reply.js";
import { initOffers } from "./views/offers.js";
import { initDialogs } from "./views/dialogs.js";
import { initShortcuts } from "./views/shortcuts.js";
import { initEvents } from "./events.js";

/** Signed in (cookie good): load what the views need, open the live channel and the URL's conversation. */
async function start() {
  const next = nextPath();
  if (next) return location.assign(next); // the admin screens sent the agent to sign in here
  const me = await api("GET", "/me");
  const [agents, templates, views] = await Promise.all([api("GET", "/agents"), api("GET", "/templates"), api("GET", "/views")]);
  set({ me: me.agent, labels: me.labels, statuses: me.statuses, agents, templates, views });
  $("login").hidden = true;
  $("app").hidden = false;
  connect(signedOut);
  await loadQueue();
  await openSession(currentSessionId());
}

/** The login ended (here, in another tab, or on the server): back to the sign-in form. */
function signedOut() {
  disconnect();
  set({ me: null, detail: null, currentId: null });
  showLogin();
}

function init() {
  initLogin(start);
  initTopbar(async () => {
    await api("POST", "/logout").catch(() => {});
    tellTabs({ kind: "signed-out" });
    signedOut();
  });
  for (const initView of [initQueue, initConversation, initReply, initOffers, initDialogs, initShortcuts, initEvents]) initView();
  onSignedOut(signedOut);
  onTabs((message) => {
    if (message.kind === "signed-out" && get().me) signedOut();
    if (message.kind === "status" && get().me) set({ me: message.agent });
  });
  startRouter((sessionId) => get().me && openSession(sessionId));
  api("GET", "/me").then(start, showLogin);
}

init();
