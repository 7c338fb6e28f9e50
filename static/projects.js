// Projects in the sidebar: a collapsible section each (its state kept in localStorage),
// with its count of conversations, its own search, and actions (new chat in it, edit,
// delete); conversations move in and out by their menu ("Move to project…") or, on a
// desktop, by dragging one onto a project. A section's conversations load when it opens.
// Every name and title goes into the page as text.
import { closeMenu } from "./menus.js";
import { $, flash } from "./page.js";
import { buildHit, render } from "./sidebar.js";
import { buildItem } from "./sidebar-item.js";
import { send } from "./socket.js";
import { boot, state } from "./state.js";
import { checkTools } from "./tools.js";

const listEl = $("project-list");
const projects = new Map(
  (boot.projects || []).map((p) => [p.id, { ...p, loaded: Boolean(p.loaded), failed: false, query: "" }]),
);
const openKey = `chat.projects.open.${boot.user}`;
const CONVERSATION_TYPE = "application/x-chat-conversation";
const OPEN_COOKIE = "chat_projects_open";
const OPEN_DRAWN = 10; // As many as the server draws (web/views.py, OPEN_DRAWN).
let moving = null; // The conversation the move dialog is for.
let opener = null;

/** The ids of the sections open, as this browser remembers them. */
function openIds() {
  try {
    const ids = JSON.parse(localStorage.getItem(openKey) || "[]");
    return new Set(Array.isArray(ids) ? ids.slice(0, 500) : []);
  } catch {
    return new Set();
  }
}

function keepOpen(id, open) {
  const ids = openIds();
  if (open) ids.add(id);
  else ids.delete(id);
  remember(ids);
}

function remember(ids) {
  const kept = [...ids].filter((pid) => projects.has(pid));
  try {
    localStorage.setItem(openKey, JSON.stringify(kept));
  } catch {
    // Storage full or refused: the section still opens, only not remembered.
  }
  // The same, for the server: it draws the open sections' lists in the page itself.
  const value = kept.slice(0, OPEN_DRAWN).join(".");
  document.cookie = `${OPEN_COOKIE}=${value}; path=/; max-age=${value ? 31536000 : 0}; samesite=lax`;
}

/** How many conversations the user's projects hold, all together. */
export function inProjects() {
  let total = 0;
  for (const project of projects.values()) total += project.count;
  return total;
}

/** A project's name, as the page knows it. */
export function projectName(id) {
  return projects.get(id)?.name ?? null;
}

export function initProjects() {
  const project = boot.newChat.project;
  if (project && state.conversationId === null) {
    const note = $("project-note");
    note.textContent = `New chat in the project “${project.name}”: its instructions go with every reply.`;
    note.hidden = false;
    checkTools(project.tools || []);
    // "New chat" outside the project: the page starts again without it.
    document.querySelector(".new-chat").addEventListener(
      "click",
      (event) => {
        event.stopImmediatePropagation();
      },
      { capture: true },
    );
  }
  initMove();
  initDrag();
  remember(openIds()); // The cookie in step with this browser's list, from the next load on.
  for (const id of openIds()) if (projects.has(id)) load(id);
  renderProjects();
}

/** The project a chat being started now goes into (a `chat.send` carries it), or null. */
export function newChatProject() {
  return state.conversationId === null ? (boot.newChat.project?.id ?? null) : null;
}

// ---- live updates: counts follow the conversations moved, made and deleted ----

/** A conversation was `before` and is now `after` (either may be undefined); `created`:
 * it is new. One the page never listed (in a section not loaded yet) changes no count:
 * its section's count already has it. */
export function noteChange(before, after, created = false) {
  if (!before && !created) return;
  const was = before && !before.archived ? before.project : null;
  const now = after && !after.archived ? after.project : null;
  if (was === now) return;
  if (was != null && projects.has(was)) projects.get(was).count = Math.max(0, projects.get(was).count - 1);
  if (now != null && projects.has(now)) projects.get(now).count += 1;
}

// ---- drawing ----

export function renderProjects() {
  listEl.replaceChildren();
  const open = openIds();
  const sorted = [...projects.values()].sort((a, b) => a.name.localeCompare(b.name));
  for (const project of sorted) listEl.appendChild(section(project, open.has(project.id)));
  if (!projects.size) {
    const empty = document.createElement("li");
    empty.className = "empty";
    empty.textContent = "No projects yet.";
    listEl.appendChild(empty);
  }
}

function section(project, open) {
  const li = document.createElement("li");
  li.className = "project-section";
  li.dataset.project = project.id;
  const head = document.createElement("div");
  head.className = "project-head";
  const toggle = document.createElement("button");
  toggle.type = "button";
  toggle.className = "project-toggle";
  toggle.setAttribute("aria-expanded", String(open));
  toggle.setAttribute("aria-controls", `project-${project.id}-items`);
  const name = document.createElement("span");
  name.className = "project-name";
  name.textContent = project.name;
  const count = document.createElement("span");
  count.className = "project-count";
  count.textContent = String(project.count);
  count.setAttribute("aria-label", `${project.count} conversation${project.count === 1 ? "" : "s"}`);
  toggle.append(name, " ", count);
  toggle.addEventListener("click", () => {
    const now = toggle.getAttribute("aria-expanded") !== "true";
    keepOpen(project.id, now);
    if (now) load(project.id);
    renderProjects();
    listEl.querySelector(`[data-project="${project.id}"] .project-toggle`)?.focus();
  });
  head.append(toggle, projectMenu(project));
  li.appendChild(head);
  const body = document.createElement("div");
  body.id = `project-${project.id}-items`;
  body.className = "project-body";
  body.hidden = !open;
  if (open) fillBody(body, project);
  li.appendChild(body);
  return li;
}

function projectMenu(project) {
  const menu = document.createElement("details");
  menu.className = "item-menu popover-menu";
  const summary = document.createElement("summary");
  summary.setAttribute("aria-label", `Actions for the project ${project.name}`);
  summary.textContent = "⋯";
  const actions = document.createElement("div");
  actions.className = "item-actions";
  const link = (label, href) => {
    const a = document.createElement("a");
    a.className = "button";
    a.href = href;
    a.textContent = label;
    actions.appendChild(a);
  };
  link("New chat in this project", `/?project=${project.id}`);
  const search = document.createElement("button");
  search.type = "button";
  search.textContent = "Search in this project";
  search.addEventListener("click", () => {
    closeMenu(menu);
    keepOpen(project.id, true);
    load(project.id);
    renderProjects();
    listEl.querySelector(`[data-project="${project.id}"] input[type=search]`)?.focus();
  });
  actions.appendChild(search);
  link("Edit project", `/projects/${project.id}/edit/`);
  link("Delete project", `/projects/${project.id}/delete/`);
  menu.append(summary, actions);
  return menu;
}

function fillBody(body, project) {
  const field = document.createElement("input");
  field.type = "search";
  field.className = "project-search";
  field.placeholder = `Search in ${project.name}`;
  field.setAttribute("aria-label", `Search in the project ${project.name}`);
  field.value = project.query;
  const ul = document.createElement("ul");
  ul.className = "conversation-list";
  let timer = null;
  field.addEventListener("input", () => {
    project.query = field.value;
    clearTimeout(timer);
    timer = setTimeout(() => searchIn(project, ul), 200);
  });
  field.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && field.value) {
      event.preventDefault();
      event.stopPropagation();
      field.value = project.query = "";
      drawItems(project, ul);
    }
  });
  body.append(field, ul);
  if (project.query) searchIn(project, ul);
  else drawItems(project, ul);
}

function drawItems(project, ul) {
  ul.replaceChildren();
  if (project.failed) {
    const li = document.createElement("li");
    li.className = "sidebar-problem";
    li.setAttribute("role", "alert");
    li.textContent = "Couldn't load this project's conversations.";
    ul.appendChild(li);
    return;
  }
  const items = [...state.sidebar.items.values()]
    .filter((item) => item.project === project.id && !item.archived)
    .sort((a, b) => b.pinned - a.pinned || (b.updated_at || "").localeCompare(a.updated_at || ""));
  if (!items.length) {
    const li = document.createElement("li");
    li.className = "empty";
    li.textContent = project.loaded || !project.count ? "No conversations yet: drag one here, or use its menu." : "Loading…";
    ul.appendChild(li);
  }
  for (const item of items) ul.appendChild(buildItem(item, render));
}

async function searchIn(project, ul) {
  const query = project.query.trim();
  if (!query) {
    drawItems(project, ul);
    return;
  }
  const data = await getJson(`/search.json?q=${encodeURIComponent(query)}&project=${project.id}`);
  if (project.query.trim() !== query) return;
  ul.replaceChildren();
  const results = data?.results;
  if (!Array.isArray(results) || !results.length) {
    const li = document.createElement("li");
    li.className = "empty";
    li.textContent = Array.isArray(results) ? `Nothing found for “${query}” in this project.` : "Search failed.";
    ul.appendChild(li);
    return;
  }
  const words = [...new Set(query.toLowerCase().match(/[\p{L}\p{N}_]+/gu) || [])].slice(0, 8);
  for (const hit of results) ul.appendChild(buildHit(hit, query, words));
}

async function getJson(url) {
  try {
    const response = await fetch(url, { credentials: "same-origin" });
    if (!response.ok) return null;
    return await response.json();
  } catch {
    return null;
  }
}

/** A section's conversations, fetched once, when it first opens. */
async function load(id) {
  const project = projects.get(id);
  if (!project || project.loaded) return;
  project.loaded = true;
  const data = await getJson(`/conversations.json?project=${id}`);
  const conversations = data?.conversations;
  project.failed = !Array.isArray(conversations);
  if (project.failed) project.loaded = false;
  for (const item of conversations || []) state.sidebar.items.set(item.id, item);
  redrawSection(id);
}

/** After a change to the conversations: each section's count, and the lists of the open
 * ones (but one being searched), drawn again in place. */
export function refreshProjects() {
  for (const li of listEl.querySelectorAll(".project-section")) {
    const project = projects.get(Number(li.dataset.project));
    if (!project) continue;
    const count = li.querySelector(".project-count");
    count.textContent = String(project.count);
    count.setAttribute("aria-label", `${project.count} conversation${project.count === 1 ? "" : "s"}`);
    redrawSection(project.id);
  }
}

/** Redraws one open section's list (unless it shows search results). */
function redrawSection(id) {
  const body = $(`project-${id}-items`);
  const ul = body?.querySelector("ul");
  if (ul && !projects.get(id).query) drawItems(projects.get(id), ul);
}

// ---- moving: the menu's dialog, and drag and drop ----

/** Opens "Move to project…" for a conversation; focus returns to `from` after. */
export function openMove(item, from) {
  moving = item;
  opener = from;
  const select = $("move-project");
  select.replaceChildren();
  const none = document.createElement("option");
  none.value = "";
  none.textContent = "No project";
  select.appendChild(none);
  for (const project of [...projects.values()].sort((a, b) => a.name.localeCompare(b.name))) {
    const option = document.createElement("option");
    option.value = String(project.id);
    option.textContent = project.name;
    select.appendChild(option);
  }
  select.value = item.project != null ? String(item.project) : "";
  $("move-what").textContent = `“${item.title || "Untitled"}”`;
  $("move-dialog").showModal();
  select.focus();
}

function move(id, project) {
  const item = state.sidebar.items.get(id);
  if (item && (item.project ?? null) === project) return;
  send({ type: "conversation.move", conversation: id, project });
  if (project !== null) load(project);
  flash(project === null ? "Moved out of its project." : `Moved to “${projectName(project)}”.`);
}

function initMove() {
  const dialog = $("move-dialog");
  $("move-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const value = $("move-project").value;
    dialog.close();
    if (moving) move(moving.id, value ? Number(value) : null);
  });
  // Enter on the list moves at once (a select alone never submits its form).
  $("move-project").addEventListener("keydown", (event) => {
    if (event.key === "Enter") {
      event.preventDefault();
      $("move-form").requestSubmit();
    }
  });
  $("move-cancel").addEventListener("click", () => dialog.close());
  dialog.addEventListener("close", () => {
    if (opener?.isConnected) opener.focus();
    else $("conversation-list").querySelector("a")?.focus();
  });
  dialog.addEventListener("click", (event) => {
    if (event.target === dialog) dialog.close();
  });
}

function initDrag() {
  const sidebar = $("sidebar");
  sidebar.addEventListener("dragstart", (event) => {
    const li = event.target.closest?.("li[data-id]");
    if (!li) return;
    event.dataTransfer.setData(CONVERSATION_TYPE, li.dataset.id);
    event.dataTransfer.effectAllowed = "move";
  });
  const target = (event) => event.target.closest?.(".project-section");
  listEl.addEventListener("dragover", (event) => {
    if (!target(event) || !event.dataTransfer.types.includes(CONVERSATION_TYPE)) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = "move";
    target(event).classList.add("drop-target");
  });
  listEl.addEventListener("dragleave", (event) => target(event)?.classList.remove("drop-target"));
  listEl.addEventListener("drop", (event) => {
    const section = target(event);
    const id = Number(event.dataTransfer.getData(CONVERSATION_TYPE));
    if (!section || !id) return;
    event.preventDefault();
    section.classList.remove("drop-target");
    move(id, Number(section.dataset.project));
  });
}
