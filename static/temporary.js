// Temporary chats and the header's quick actions.
// "Temporary chat" (a toggle shown on a new chat) makes the next new chat temporary: its
// first `chat.send` carries `temporary: true`. While the page shows a temporary chat (or is
// about to start one) a notice says what that means. The server closes it when this tab
// leaves it and the deletion runner removes it (docs/protocol.md, `chat.send`).
// Rename, delete and share from the header's ⋯ menu reuse the sidebar's (sidebar-item.js,
// share.js); a temporary chat is not shared, as it is about to be deleted.
import { closeMenu } from "./menus.js";
import { $, setTitle } from "./page.js";
import { openShare } from "./share.js";
import { confirmDelete, renameField } from "./sidebar-item.js";
import { send } from "./socket.js";
import { state } from "./state.js";

const toggle = $("temporary-toggle");
const notice = $("temporary-notice");
const renameButton = $("rename-conversation");
const deleteButton = $("delete-conversation");
const shareButton = $("share-conversation");
const temporaryIds = new Set(); // Conversations this page knows to be temporary.
let next = false; // The next new chat is temporary.

/** The page turns from the conversation shown to `id` (null: a new chat): a temporary
 * chat left for a new chat is closed now (opening another conversation closes it too). */
export function leaving(id) {
  const from = state.conversationId;
  if (id === null && from !== null && temporaryIds.has(from)) {
    send({ type: "conversation.close", conversation: from });
  }
}

/** Whether a new chat's first message should start a temporary chat. */
export function startsTemporary() {
  return state.conversationId === null && next;
}

/** A conversation's fields from the server (created, updated, state): remembers whether
 * it is temporary, and redraws. */
export function noteConversation(frame) {
  if (frame.temporary) temporaryIds.add(frame.conversation);
  else temporaryIds.delete(frame.conversation);
  refreshTemporary();
}

/** Shows what fits the conversation now shown: the toggle on a new chat, the notice in a
 * temporary chat (or a new one about to be); a temporary chat offers no report, as it is
 * never reviewed. */
export function refreshTemporary() {
  const id = state.conversationId;
  const isNew = id === null;
  toggle.hidden = !isNew;
  toggle.setAttribute("aria-pressed", String(next));
  notice.hidden = !(isNew ? next : temporaryIds.has(id));
  $("report-conversation").hidden = !isNew && temporaryIds.has(id);
  shareButton.hidden = isNew || temporaryIds.has(id);
}

function shown() {
  return { id: state.conversationId, title: $("title").textContent };
}

function rename() {
  const item = shown();
  if (item.id === null) return;
  closeMenu($("export"));
  renameField($("title"), item, () => {
    setTitle(item.title);
    $("export").querySelector("summary").focus();
  });
}

export function initTemporary() {
  // The page rendered a temporary chat: the notice came shown.
  if (state.conversationId !== null && !notice.hidden) temporaryIds.add(state.conversationId);
  toggle.addEventListener("click", () => {
    next = !next;
    refreshTemporary();
    $("input").focus({ preventScroll: true });
  });
  renameButton.addEventListener("click", rename);
  deleteButton.addEventListener("click", () => {
    closeMenu($("export"));
    const item = shown();
    if (item.id !== null) confirmDelete(item);
  });
  shareButton.addEventListener("click", () => {
    closeMenu($("export"));
    const item = shown();
    if (item.id !== null) openShare(item.id, item.title, $("export").querySelector("summary"));
  });
  refreshTemporary();
}
