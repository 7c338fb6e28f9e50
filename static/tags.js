// Tags: a conversation's chips in the sidebar, the "Tags…" dialog that sets them, and the
// sidebar's tag filter (choose a tag to list only its conversations; rename or delete a
// tag there). Writes go over the socket (conversation.tags, tag.rename, tag.delete); every
// tab hears of them (conversation.updated, tags.changed). Names go into the page as text.
import { closeMenu } from "./menus.js";
import { $ } from "./page.js";
import { send } from "./socket.js";
import { boot, state } from "./state.js";

const MAX_NAME = 40; // tags/models.py NAME_MAX_CHARS.

/** The user's tags, `{id, name, count}` by name, as the server last said. */
let tags = Array.isArray(boot.tags) ? boot.tags : [];
/** The tag the sidebar is filtered by (its folded name), or null. */
let active = null;
let redraw = () => {};

const key = (name) => name.normalize("NFKC").trim().replace(/\s+/g, " ").toLowerCase();

// ---- the sidebar: chips and the filter ----

/** A conversation's tags as small chips (text only). */
export function tagChips(names) {
  const chips = document.createElement("span");
  chips.className = "tag-chips";
  for (const name of names) {
    const chip = document.createElement("span");
    chip.className = "tag-chip";
    chip.textContent = name;
    chips.appendChild(chip);
  }
  return chips;
}

/** Whether the sidebar shows this conversation under the filter chosen. */
export function passesFilter(item) {
  return active === null || (item.tags || []).some((name) => key(name) === active);
}

/** What the list says when the filter leaves nothing, or null when there is no filter. */
export function emptyFilterText() {
  return active === null ? null : `No conversations tagged “${activeName()}”.`;
}

function activeName() {
  return tags.find((tag) => key(tag.name) === active)?.name || active;
}

function choose(name) {
  active = name === null ? null : key(name);
  drawFilter();
  redraw();
}

function drawFilter() {
  const menu = $("tag-filter");
  const summary = menu.querySelector("summary");
  const clear = $("tag-filter-clear");
  summary.textContent = active === null ? "Tags" : `Tag: ${activeName()}`;
  clear.hidden = active === null;
  const list = $("tag-filter-list");
  list.replaceChildren();
  if (!tags.length) {
    const none = document.createElement("li");
    none.className = "muted";
    none.textContent = "No tags yet: add some from a conversation's ⋯ menu.";
    list.appendChild(none);
    return;
  }
  for (const tag of tags) {
    const li = document.createElement("li");
    const pick = document.createElement("button");
    pick.type = "button";
    pick.className = "tag-pick";
    pick.setAttribute("aria-pressed", String(key(tag.name) === active));
    pick.textContent = `${tag.name} (${tag.count})`;
    pick.addEventListener("click", () => {
      choose(key(tag.name) === active ? null : tag.name);
      closeMenu(menu);
    });
    const rename = document.createElement("button");
    rename.type = "button";
    rename.className = "link";
    rename.textContent = "Rename";
    rename.setAttribute("aria-label", `Rename tag ${tag.name}`);
    rename.addEventListener("click", () => {
      const name = prompt(`New name for the tag “${tag.name}”:`, tag.name);
      if (name !== null && name.trim() && name.trim() !== tag.name) {
        send({ type: "tag.rename", tag: tag.id, name: name.trim().slice(0, MAX_NAME * 4) });
      }
    });
    const remove = document.createElement("button");
    remove.type = "button";
    remove.className = "link";
    remove.textContent = "Delete";
    remove.setAttribute("aria-label", `Delete tag ${tag.name}`);
    remove.addEventListener("click", () => {
      if (confirm(`Delete the tag “${tag.name}”? It comes off its conversations; they stay.`)) {
        send({ type: "tag.delete", tag: tag.id });
      }
    });
    li.append(pick, rename, remove);
    list.appendChild(li);
  }
}

/** `tags.changed`: the user's tags now; a renamed or deleted one changes in every item. */
export function applyTagsChanged(frame) {
  tags = frame.tags;
  const renamed = frame.renamed ? key(frame.renamed.old) : null;
  const deleted = frame.deleted ? key(frame.deleted) : null;
  if (renamed !== null || deleted !== null) {
    for (const item of state.sidebar.items.values()) {
      if (!item.tags) continue;
      item.tags = item.tags
        .filter((name) => key(name) !== deleted)
        .map((name) => (key(name) === renamed ? frame.renamed.new : name))
        .sort((a, b) => key(a).localeCompare(key(b)));
    }
    if (active !== null && active === deleted) active = null;
    if (active !== null && active === renamed) active = key(frame.renamed.new);
  }
  drawFilter();
}

// ---- the "Tags…" dialog of one conversation ----

let editing = null; // The sidebar item being tagged.
let opener = null;

function addChoice(name, checked) {
  const choices = $("tags-choices");
  const existing = [...choices.querySelectorAll("input")].find((box) => key(box.value) === key(name));
  if (existing) {
    existing.checked = checked || existing.checked;
    return existing;
  }
  const label = document.createElement("label");
  const box = document.createElement("input");
  box.type = "checkbox";
  box.name = "tag";
  box.value = name;
  box.checked = checked;
  label.append(box, " ", name);
  choices.appendChild(label);
  return box;
}

/** Opens the dialog for a conversation; focus returns to `from` when it closes. */
export function openTags(item, from) {
  editing = item;
  opener = from;
  $("tags-title").textContent = `Tags for “${item.title || "Untitled"}”`;
  $("tags-error").hidden = true;
  $("tags-choices").replaceChildren();
  const mine = new Set((item.tags || []).map(key));
  for (const tag of tags) addChoice(tag.name, mine.has(key(tag.name)));
  for (const name of item.tags || []) addChoice(name, true);
  const known = $("tag-names");
  known.replaceChildren(...tags.map((tag) => new Option(tag.name)));
  $("tag-new").value = "";
  $("tags-dialog").showModal();
  $("tag-new").focus();
}

function showError(text) {
  $("tags-error").textContent = text;
  $("tags-error").hidden = !text;
}

/** The name typed, added as a ticked box (an existing tag's is ticked); false if refused. */
function addTyped() {
  const field = $("tag-new");
  const name = field.value.normalize("NFKC").trim().replace(/\s+/g, " ");
  if (!name) return false;
  if (name.length > MAX_NAME) {
    showError(`A tag's name is at most ${MAX_NAME} characters.`);
    return false;
  }
  if (!/^[\p{L}\p{N} _.&+-]+$/u.test(name)) {
    showError("A tag's name may hold letters, digits, spaces and - _ . & + only.");
    return false;
  }
  const known = tags.find((tag) => key(tag.name) === key(name));
  addChoice(known ? known.name : name, true);
  field.value = "";
  showError("");
  return true;
}

function save(event) {
  event.preventDefault();
  if ($("tag-new").value.trim() && !addTyped()) return;
  const names = [...$("tags-choices").querySelectorAll("input:checked")].map((box) => box.value);
  send({ type: "conversation.tags", conversation: editing.id, tags: names });
  $("tags-dialog").close();
}

/** Wires the dialog and the filter; `render` redraws the sidebar's list. */
export function initTags(render) {
  redraw = render;
  drawFilter();
  $("tag-filter-clear").addEventListener("click", () => {
    choose(null);
    $("tag-filter").querySelector("summary").focus();
  });
  $("tags-form").addEventListener("submit", save);
  $("tag-add").addEventListener("click", () => {
    addTyped();
    $("tag-new").focus();
  });
  // Enter in the name field adds the tag (Save is the button's job).
  $("tag-new").addEventListener("keydown", (event) => {
    if (event.key === "Enter") {
      event.preventDefault();
      addTyped();
    }
  });
  $("tags-cancel").addEventListener("click", () => $("tags-dialog").close());
  $("tags-dialog").addEventListener("close", () => {
    // The list may have been drawn again meanwhile: then the item's new ⋯ button.
    const again = document.querySelector(`#conversation-list li[data-id="${editing?.id}"] .item-menu > summary`);
    (opener?.isConnected ? opener : again)?.focus();
  });
  $("tags-dialog").addEventListener("click", (event) => {
    if (event.target === $("tags-dialog")) $("tags-dialog").close();
  });
}
