// The sidebar: conversations by day, pinned first; rename, pin, archive, delete; archived; search.
// Everything it shows goes into the page as text. A failed request shows a note with a
// Retry button in the list, and is never thrown nor logged.
import { $ } from "./page.js";
import { inProjects, noteChange, refreshProjects } from "./projects.js";
import { buildItem } from "./sidebar-item.js";
import { state } from "./state.js";
import { emptyFilterText, initTags, passesFilter } from "./tags.js";

const list = $("conversation-list");
const searchInput = $("search");
const archivedToggle = $("show-archived");
const sidebar = state.sidebar;
let searchTimer = null;

export function initSidebar() {
  searchInput.addEventListener("input", () => {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(() => search(), 200);
  });
  searchInput.addEventListener("keydown", (event) => {
    if (event.key === "Escape") {
      searchInput.value = "";
      render();
    }
  });
  searchInput.addEventListener("keydown", moveThroughResults);
  list.addEventListener("keydown", moveThroughResults);
  archivedToggle.addEventListener("click", toggleArchived);
  initTags(render);
  render();
}

export function focusSearch() {
  searchInput.focus();
  searchInput.select();
}

// ---- live updates from the socket ----

export function upsert(frame) {
  if (frame.temporary) return; // A temporary chat is never listed.
  const item = {
    id: frame.conversation,
    title: frame.title,
    model: frame.model,
    model_chosen: frame.model_chosen,
    persona: frame.persona,
    project: frame.project ?? null,
    pinned: frame.pinned,
    archived: frame.archived,
    updated_at: frame.updated_at,
    tags: frame.tags,
  };
  const before = sidebar.items.get(item.id);
  sidebar.items.set(item.id, { ...(before || {}), ...item });
  noteChange(before, item, frame.type === "conversation.created");
  if (!searchInput.value) render();
}

export function remove(id) {
  noteChange(sidebar.items.get(id), undefined);
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
  // Focus on an item (its link or ⋯) stays on it when the list is drawn again.
  const focused = document.activeElement?.closest?.("#conversation-list li[data-id]");
  const onMenu = focused && document.activeElement.matches("summary");
  draw();
  if (focused) {
    const again = list.querySelector(`li[data-id="${focused.dataset.id}"] ${onMenu ? ".item-menu > summary" : "a"}`);
    again?.focus({ preventScroll: true });
  }
}

function draw() {
  refreshProjects();
  list.replaceChildren();
  const archived = sidebar.showingArchived;
  if (archived && sidebar.archivedFailed) {
    list.appendChild(problem("Couldn't load archived conversations.", loadArchived));
  }
  const wanted = [...sidebar.items.values()]
    // Under a tag filter, every tagged conversation shows here, those in projects too.
    .filter(
      (item) =>
        item.archived === archived &&
        (archived || item.project == null || emptyFilterText() !== null) &&
        passesFilter(item),
    )
    .sort((a, b) => b.pinned - a.pinned || (b.updated_at || "").localeCompare(a.updated_at || ""));
  if (!wanted.length) {
    if (archived && sidebar.archivedFailed) return;
    const empty = document.createElement("li");
    empty.className = "empty";
    empty.textContent =
      emptyFilterText() ||
      (archived
        ? "No archived conversations."
        : inProjects() > 0
          ? "No conversations outside your projects."
          : "No conversations yet.");
    list.appendChild(empty);
    return;
  }
  const now = new Date();
  // Titles shared by more than one listed conversation: each of those shows its date.
  const seen = new Map();
  for (const item of wanted) seen.set(item.title, (seen.get(item.title) || 0) + 1);
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
    list.appendChild(buildItem(item, render, { dated: seen.get(item.title) > 1 }));
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
// Results are paged (20 at a time, "More results" for the next); the words searched for are
// marked in titles and snippets with <mark>, built from text nodes, never from HTML. Up and
// Down move through the results from the search box; a hit opens at its message.

let searchOffset = 0;

/** The words of a query, as the server matches them (runs of letters, digits, _). */
function queryWords(query) {
  return [...new Set(query.toLowerCase().match(/[\p{L}\p{N}_]+/gu) || [])].slice(0, 8);
}

/** `text` as text nodes, with every occurrence of the words in a <mark>. */
export function highlighted(text, words) {
  const out = document.createDocumentFragment();
  if (!words.length) {
    out.append(text);
    return out;
  }
  const escaped = words.map((w) => w.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"));
  const pattern = new RegExp(escaped.sort((a, b) => b.length - a.length).join("|"), "giu");
  let at = 0;
  for (const match of text.matchAll(pattern)) {
    if (!match[0]) continue;
    out.append(text.slice(at, match.index));
    const mark = document.createElement("mark");
    mark.textContent = match[0];
    out.append(mark);
    at = match.index + match[0].length;
  }
  out.append(text.slice(at));
  return out;
}

async function search(more = false) {
  const query = searchInput.value.trim();
  if (!query) {
    render();
    return;
  }
  const offset = more ? searchOffset : 0;
  const url = `/search.json?q=${encodeURIComponent(query)}${offset ? `&offset=${offset}` : ""}`;
  const data = await getJson(url);
  if (searchInput.value.trim() !== query) return; // The reader has typed on.
  const results = data?.results;
  list.querySelector(".more-results")?.remove();
  if (!more) list.replaceChildren();
  if (!Array.isArray(results)) {
    list.appendChild(problem("Search failed.", () => search(more)));
    return;
  }
  if (!more) {
    const heading = document.createElement("li");
    heading.className = "group";
    heading.textContent = results.length ? `Results for “${query}”` : `Nothing found for “${query}”`;
    list.appendChild(heading);
  }
  const words = queryWords(query);
  const first = results.length ? list.querySelectorAll(".search-hit").length : -1;
  for (const hit of results) list.appendChild(buildHit(hit, query, words));
  if (data.next_offset != null) {
    searchOffset = data.next_offset;
    const li = document.createElement("li");
    li.className = "more-results";
    const button = document.createElement("button");
    button.type = "button";
    button.className = "link";
    button.textContent = "More results";
    button.addEventListener("click", () => search(true));
    li.appendChild(button);
    list.appendChild(li);
  }
  // "More results" hands the keyboard on to the first new result.
  if (more && first >= 0) list.querySelectorAll(".search-hit a")[first]?.focus();
}

/** One search result: its title and snippet, the words searched for marked. */
export function buildHit(hit, query, words) {
  const li = document.createElement("li");
  li.className = "search-hit";
  const link = document.createElement("a");
  // In the fragment: the words searched for never reach the server's logs in a URL.
  const at = hit.message ? `#message=${hit.message}&q=${encodeURIComponent(query)}` : "";
  link.href = `/conversations/${hit.conversation}/${at}`;
  const title = document.createElement("span");
  title.className = "hit-title";
  title.append(highlighted(hit.title || "Untitled", words));
  const snippet = document.createElement("span");
  snippet.className = "hit-snippet";
  snippet.append(highlighted(hit.snippet || "", words));
  link.append(title, snippet);
  li.appendChild(link);
  return li;
}

/** Up and Down between the search box and the results (and "More results"). */
function moveThroughResults(event) {
  if (event.key !== "ArrowDown" && event.key !== "ArrowUp") return;
  const stops = [...list.querySelectorAll(".search-hit a, .more-results button")];
  if (!stops.length || !searchInput.value.trim()) return;
  const at = stops.indexOf(document.activeElement);
  if (event.target !== searchInput && at < 0) return;
  event.preventDefault();
  if (event.key === "ArrowDown") stops[Math.min(at + 1, stops.length - 1)].focus();
  else if (at <= 0) searchInput.focus();
  else stops[at - 1].focus();
}
