// One conversation in the sidebar: its link (with its tags as chips), and its ⋯ menu
// (rename, pin, archive, share, move, tags, report, delete), which opens in the list's
// flow. Its title goes in as text. Rename and delete serve the conversation header too
// (temporary.js).
import { closeMenu } from "./menus.js";
import { openMove } from "./projects.js";
import { openReport } from "./report.js";
import { openShare } from "./share.js";
import { send } from "./socket.js";
import { state } from "./state.js";
import { openTags, tagChips } from "./tags.js";

/** When a conversation was last active, in words: what tells apart two of one title. */
function when(item) {
  const date = new Date(item.updated_at);
  return Number.isNaN(date.getTime()) ? "" : date.toLocaleString([], { dateStyle: "medium", timeStyle: "short" });
}

/** One conversation in the list: its link, and its ⋯ menu; `render` redraws the list.
 * `dated`: another listed conversation has its title, so its date shows beneath it. */
export function buildItem(item, render, { dated = false } = {}) {
  const li = document.createElement("li");
  li.dataset.id = item.id;
  const link = document.createElement("a");
  link.href = `/conversations/${item.id}/`;
  link.textContent = item.title || "Untitled";
  if (item.tags?.length) link.appendChild(tagChips(item.tags));
  const date = dated ? when(item) : "";
  if (date) {
    link.className = "dated";
    const small = document.createElement("span");
    small.className = "item-date";
    small.textContent = date;
    link.append(" ", small);
  }
  if (item.id === state.conversationId) link.setAttribute("aria-current", "page");
  li.appendChild(link);

  // The item's ⋯ menu opens in the list's flow, below the item: it covers nothing.
  const menu = document.createElement("details");
  menu.className = "item-menu popover-menu";
  const summary = document.createElement("summary");
  summary.setAttribute("aria-label", `Actions for ${item.title || "Untitled"}${date ? `, ${date}` : ""}`);
  summary.textContent = "⋯";
  menu.appendChild(summary);
  const actions = document.createElement("div");
  actions.className = "item-actions";
  const action = (label, run) => {
    const button = document.createElement("button");
    button.type = "button";
    button.textContent = label;
    button.addEventListener("click", () => {
      closeMenu(menu);
      run();
    });
    actions.appendChild(button);
  };
  action("Rename", () => renameField(li, item, render));
  action(item.pinned ? "Unpin" : "Pin", () =>
    send({ type: "conversation.pin", conversation: item.id, pinned: !item.pinned }),
  );
  action(item.archived ? "Unarchive" : "Archive", () =>
    send({ type: "conversation.archive", conversation: item.id, archived: !item.archived }),
  );
  action("Share…", () => openShare(item.id, item.title, summary));
  action("Move to project…", () => openMove(item, summary));
  action("Tags…", () => openTags(item, summary));
  action("Report…", () => openReport(item.id, summary));
  action("Delete", () => confirmDelete(item));
  menu.appendChild(actions);
  li.appendChild(menu);
  return li;
}

/** Deletes a conversation for good once the user confirms (the sidebar's and the header's). */
export function confirmDelete(item) {
  if (confirm(`Delete “${item.title || "Untitled"}” for good? This cannot be undone.`)) {
    send({ type: "conversation.delete", conversation: item.id });
  }
}

/** Puts a title field in `host` (a list item, the header's title): Enter or leaving it
 * renames, Esc does not; then `done()` redraws what the field took the place of. */
export function renameField(host, item, done) {
  const field = document.createElement("input");
  field.className = "rename";
  field.value = item.title;
  field.setAttribute("aria-label", "New title");
  host.replaceChildren(field);
  field.focus();
  field.select();
  let finished = false;
  const finish = (save) => {
    if (finished) return;
    finished = true;
    const title = field.value.trim();
    if (save && title && title !== item.title) {
      send({ type: "conversation.rename", conversation: item.id, title });
      item.title = title;
    }
    done();
  };
  field.addEventListener("keydown", (event) => {
    if (event.key === "Enter") finish(true);
    if (event.key === "Escape") finish(false);
  });
  field.addEventListener("blur", () => finish(true));
}
