// Moving between conversations without reloading the page: the address changes (history
// API), the socket stays open and asks for the conversation (`conversation.open`);
// Back and Forward work. Links opened in a new tab, or with a modifier key, load as usual.
import { applyServerChoices, resetChoices } from "./choices.js";
import { leaveDraft, showDraft } from "./composer.js";
import { closeSidebarOnPhone } from "./layout.js";
import { closeMenus } from "./menus.js";
import { clearConversation } from "./messages.js";
import { $, setTitle } from "./page.js";
import * as sidebar from "./sidebar.js";
import { send } from "./socket.js";
import { state } from "./state.js";
import { leaving, refreshTemporary } from "./temporary.js";

const PATH = /^\/conversations\/(\d+)\/$/;

function idFromPath(pathname) {
  const match = pathname.match(PATH);
  return match ? Number(match[1]) : null;
}

/** Shows conversation `id` (null: a new chat) in place of the one open now; `hash` is a
 * search hit's fragment (#message=…&q=…), which jump.js follows once the messages come. */
export function openConversation(id, { push = true, hash = "" } = {}) {
  closeSidebarOnPhone();
  if (id === state.conversationId) {
    if (hash) location.hash = hash; // A hit in the conversation open: only the fragment.
    return;
  }
  leaveDraft();
  leaving(id);
  closeMenus();
  if (push) history.pushState(null, "", id === null ? "/" : `/conversations/${id}/${hash}`);
  state.conversationId = id;
  clearConversation();
  $("empty").hidden = id !== null;
  setExport(id);
  refreshTemporary();
  const known = id === null ? null : state.sidebar.items.get(id);
  setTitle(id === null ? "New chat" : known?.title || "Chat");
  if (id === null) resetChoices();
  else if (known?.model) applyServerChoices({ ...known, params: null });
  sidebar.render();
  showDraft();
  if (id !== null) send({ type: "conversation.open", conversation: id });
  if (hash) window.dispatchEvent(new HashChangeEvent("hashchange"));
  else $("input").focus({ preventScroll: true });
}

/** The conversation menu's export links follow the open conversation. */
export function setExport(id) {
  $("export").hidden = id === null;
  if (id !== null) {
    $("export-json").href = `/conversations/${id}/export.json`;
    $("export-zip").href = `/conversations/${id}/export.zip`;
    $("export-md").href = `/conversations/${id}/export.md`;
  }
}

function plainClick(event) {
  return event.button === 0 && !event.metaKey && !event.ctrlKey && !event.shiftKey && !event.altKey;
}

export function initNavigation() {
  $("conversation-list").addEventListener("click", (event) => {
    const link = event.target.closest("a[href]");
    if (!link || !plainClick(event)) return;
    const url = new URL(link.href);
    const id = idFromPath(url.pathname);
    if (id === null || url.origin !== location.origin) return;
    event.preventDefault();
    openConversation(id, { hash: url.hash });
  });
  document.querySelector(".new-chat").addEventListener("click", (event) => {
    if (!plainClick(event)) return;
    event.preventDefault();
    openConversation(null);
  });
  window.addEventListener("popstate", () => openConversation(idFromPath(location.pathname), { push: false }));
}
