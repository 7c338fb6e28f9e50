// The sidebar: conversations grouped by day, pinned first; rename, pin, archive, delete;
// the archived view; search. Everything it shows goes into the page as text.
window.Sidebar = (() => {
  "use strict";

  const $ = (id) => document.getElementById(id);
  const list = $("conversation-list");
  const searchInput = $("search");
  const archivedToggle = $("show-archived");
  let items = new Map(); // id -> {id, title, pinned, archived, updated_at}
  let send = () => false;
  let currentId = null;
  let showingArchived = false;
  let searchTimer = null;

  function init(options) {
    send = options.send;
    currentId = options.current;
    items = new Map(options.conversations.map((c) => [c.id, c]));
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

  function setCurrent(id) {
    currentId = id;
    render();
  }

  // ---- live updates from the socket ----

  function upsert(frame) {
    const item = {
      id: frame.conversation,
      title: frame.title,
      pinned: frame.pinned,
      archived: frame.archived,
      updated_at: frame.updated_at,
    };
    items.set(item.id, { ...(items.get(item.id) || {}), ...item });
    if (!searchInput.value) render();
  }

  function remove(id) {
    items.delete(id);
    if (!searchInput.value) render();
  }

  function touch(id) {
    const item = items.get(id);
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

  function render() {
    list.replaceChildren();
    const wanted = [...items.values()]
      .filter((item) => item.archived === showingArchived)
      .sort((a, b) => b.pinned - a.pinned || b.updated_at.localeCompare(a.updated_at));
    if (!wanted.length) {
      const empty = document.createElement("li");
      empty.className = "empty";
      empty.textContent = showingArchived ? "No archived conversations." : "No conversations yet.";
      list.appendChild(empty);
      return;
    }
    const now = new Date();
    let group = null;
    for (const item of wanted) {
      const name = showingArchived ? "Archived" : groupOf(item, now);
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

  function buildItem(item) {
    const li = document.createElement("li");
    li.dataset.id = item.id;
    const link = document.createElement("a");
    link.href = `/conversations/${item.id}/`;
    link.textContent = item.title || "Untitled";
    if (item.id === currentId) link.setAttribute("aria-current", "page");
    li.appendChild(link);

    const menu = document.createElement("details");
    menu.className = "item-menu";
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
        menu.open = false;
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

  async function toggleArchived() {
    showingArchived = !showingArchived;
    archivedToggle.textContent = showingArchived ? "Back to conversations" : "Archived";
    archivedToggle.setAttribute("aria-pressed", String(showingArchived));
    if (showingArchived) {
      const response = await fetch("/conversations.json?archived=1", { credentials: "same-origin" });
      if (response.ok) {
        for (const item of (await response.json()).conversations) items.set(item.id, item);
      }
    }
    render();
  }

  // ---- search ----

  async function search() {
    const query = searchInput.value.trim();
    if (!query) {
      render();
      return;
    }
    const response = await fetch(`/search.json?q=${encodeURIComponent(query)}`, { credentials: "same-origin" });
    if (!response.ok || searchInput.value.trim() !== query) return;
    const { results } = await response.json();
    list.replaceChildren();
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

  function focusSearch() {
    searchInput.focus();
    searchInput.select();
  }

  return { init, setCurrent, upsert, remove, touch, focusSearch };
})();
