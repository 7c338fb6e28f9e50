// The sidebar: conversations by day, pinned first; rename, pin, archive, delete; archived; search.
// Everything it shows goes into the page as text. A failed request shows a note with a
// Retry button in the list, and is never thrown nor logged.
import { closeMenu } from "./menus.js";
import { $ } from "./page.js";
import { openReport } from "./report.js";
import { send } from "./socket.js";
import { state } from "./state.js";

const list = $("conversation-list");
const searchInput = $("search");
const archivedToggle = $("show-archived");
const sidebar = state.sidebar;
let searchTimer = null;

export function initSidebar() {
  searchInput.addEventListener("input", () => {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(search, 200);
  });
  searchInput.addEventListener("keydown", (event) => {
    if (event.key === "Escape") {
      searchInput.value = "";
      render();
    }
  });
  archivedToggle.addEventListener("click", toggleArchived);
  render();
}

export function focusSearch() {
  searchInput.focus();
  searchInput.select();
}

// ---- live updates from the socket ----

export function upsert(frame) {
  const item = {
    id: frame.conversation,
    title: frame.title,
    model: frame.model,
    model_chosen: frame.model_chosen,
    persona: frame.persona,
    pinned: frame.pinned,
    archived: frame.archived,
    updated_at: frame.updated_at,
  };
  sidebar.items.set(item.id, { ...(sidebar.items.get(item.id) || {}), ...item });
  if (!searchInput.value) render();
}

export function remove(id) {
  sidebar.items.delete(id);
  if (!searchInput.value) render();
}

export function touch(id) {
  const item = sidebar.items.get(id);
  if (item) {
    item.updated_at = new Date().toISOString();
    render();
  }
}

// ---- rendering ----

function groupOf(item, now) {
  if (item.pinned) return "Pinned";
  const day = (date) => new Date(date.getFullYear(), date.getMonth(), date.getDate()).getTime();
  const days = Math.round((day(now) - day(new Date(item.updated_at))) / 86400000);
  if (days <= 0) return "Today";
  if (days === 1) return "Yesterday";
  if (days <= 7) return "Previous 7 days";
  return "Older";
}

/** Draws the list (or the archived view); the current conversation is marked. */
export function render() {
  list.replaceChildren();
  const archived = sidebar.showingArchived;
  if (archived && sidebar.archivedFailed) {
    list.appendChild(problem("Couldn't load archived conversations.", loadArchived));
  }
  const wanted = [...sidebar.items.values()]
    .filter((item) => item.archived === archived)
    .sort((a, b) => b.pinned - a.pinned || (b.updated_at || "").localeCompare(a.updated_at || ""));
  if (!wanted.length) {
    if (archived && sidebar.archivedFailed) return;
    const empty = document.createElement("li");
    empty.className = "empty";
    empty.textContent = archived ? "No archived conversations." : "No conversations yet.";
    list.appendChild(empty);
    return;
  }
  const now = new Date();
  let group = null;
  for (const item of wanted) {
    const name = archived ? "Archived" : groupOf(item, now);
    if (name !== group) {
      group = name;
      const heading = document.createElement("li");
      heading.className = "group";
      heading.textContent = name;
      list.appendChild(heading);
    }
    list.appendChild(buildItem(item));
  }
}

/** A list item saying what failed, with a Retry button that runs `retry`. */
function problem(text, retry) {
  const li = document.createElement("li");
  li.className = "sidebar-problem";
  const note = document.createElement("div");
  note.setAttribute("role", "alert");
  const words = document.createElement("span");
  words.textContent = text;
  const again = document.createElement("button");
  again.type = "button";
  again.className = "link";
  again.textContent = "Retry";
  again.addEventListener("click", retry);
  note.append(words, " ", again);
  li.appendChild(note);
  return li;
}

function buildItem(item) {
  const li = document.createElement("li");
  li.dataset.id = item.id;
  const link = document.createElement("a");
  link.href = `/conversations/${item.id}/`;
  link.textContent = item.title || "Untitled";
  if (item.id === state.conversationId) link.setAttribute("aria-current", "page");
  li.appendChild(link);

  // The item's ⋯ menu opens in the list's flow, below the item: it covers nothing.
  const menu = document.createElement("details");
  menu.className = "item-menu popover-menu";
  const summary = document.createElement("summary");
  summary.setAttribute("aria-label", `Actions for ${item.title || "Untitled"}`);
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
  action("Rename", () => startRename(li, item));
  action(item.pinned ? "Unpin" : "Pin", () =>
    send({ type: "conversation.pin", conversation: item.id, pinned: !item.pinned }),
  );
  action(item.archived ? "Unarchive" : "Archive", () =>
    send({ type: "conversation.archive", conversation: item.id, archived: !item.archived }),
  );
  action("Report…", () => openReport(item.id, summary));
  action("Delete", () => {
    if (confirm(`Delete “${item.title || "Untitled"}” for good? This cannot be undone.`)) {
      send({ type: "conversation.delete", conversation: item.id });
    }
  });
  menu.appendChild(actions);
  li.appendChild(menu);
  return li;
}

function startRename(li, item) {
  const field = document.createElement("input");
  field.className = "rename";
  field.value = item.title;
  field.setAttribute("aria-label", "New title");
  li.replaceChildren(field);
  field.focus();
  field.select();
  let done = false;
  const finish = (save) => {
    if (done) return;
    done = true;
    const title = field.value.trim();
    if (save && title && title !== item.title) {
      send({ type: "conversation.rename", conversation: item.id, title });
      item.title = title;
    }
    render();
  };
  field.addEventListener("keydown", (event) => {
    if (event.key === "Enter") finish(true);
    if (event.key === "Escape") finish(false);
  });
  field.addEventListener("blur", () => finish(true));
}

/** The JSON at `url`, or null when the request fails in any way (network, status, body). */
async function getJson(url) {
  try {
    const response = await fetch(url, { credentials: "same-origin" });
    if (!response.ok) return null;
    return await response.json();
  } catch {
    return null;
  }
}

// ---- the archived view ----

async function toggleArchived() {
  sidebar.showingArchived = !sidebar.showingArchived;
  archivedToggle.textContent = sidebar.showingArchived ? "Back to conversations" : "Archived";
  archivedToggle.setAttribute("aria-pressed", String(sidebar.showingArchived));
  if (sidebar.showingArchived) await loadArchived();
  else render();
}

async function loadArchived() {
  const data = await getJson("/conversations.json?archived=1");
  const conversations = data?.conversations;
  sidebar.archivedFailed = !Array.isArray(conversations);
  for (const item of conversations || []) sidebar.items.set(item.id, item);
  render();
}

// ---- search ----

async function search() {
  const query = searchInput.value.trim();
  if (!query) {
    render();
    return;
  }
  const data = await getJson(`/search.json?q=${encodeURIComponent(query)}`);
  if (searchInput.value.trim() !== query) return; // The reader has typed on.
  const results = data?.results;
  list.replaceChildren();
  if (!Array.isArray(results)) {
    list.appendChild(problem("Search failed.", search));
    return;
  }
  const heading = document.createElement("li");
  heading.className = "group";
  heading.textContent = results.length ? `Results for “${query}”` : `Nothing found for “${query}”`;
  list.appendChild(heading);
  for (const hit of results) {
    const li = document.createElement("li");
    li.className = "search-hit";
    const link = document.createElement("a");
    link.href = `/conversations/${hit.conversation}/`;
    const title = document.createElement("span");
    title.className = "hit-title";
    title.textContent = hit.title || "Untitled";
    const snippet = document.createElement("span");
    snippet.className = "hit-snippet";
    snippet.textContent = hit.snippet;
    link.append(title, snippet);
    li.appendChild(link);
    list.appendChild(li);
  }
}
