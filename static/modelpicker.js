// The model picker: models grouped by family, each with its context window, whether it
// can call tools and take images; a search box filters them. While an image is on the
// composer, models that take none are shown disabled, saying so. Arrow keys move, Enter
// picks, Esc closes.
import { hasImage } from "./attachments.js";
import { chooseModel, currentPersona, followedModel, onChoices } from "./choices.js";
import { closeMenu } from "./menus.js";
import { $, showModelProblem } from "./page.js";
import { state } from "./state.js";

const menu = $("model-menu");
const button = $("model-button");
const search = $("model-search");
const list = $("model-list");
let active = -1; // Index of the highlighted option among those shown.
// Models the server said cannot be used (turned off, or gone from the provider).
const unavailable = new Set(button.dataset.unavailable ? [button.dataset.model] : []);

const nameOf = (id) =>
  (state.models.find((m) => m.id === id)?.name || id.split("/").pop()) + (unavailable.has(id) ? " (unavailable)" : "");

/** Marks a model the server refused; the picker shows it as such until another is picked. */
export function markUnavailable(id) {
  unavailable.add(id);
  ensureListed();
  showChoice();
  if (menu.open) render();
}

function contextLabel(tokens) {
  if (!tokens) return "";
  return tokens >= 1024 ? `${Math.round(tokens / 1024)}K context` : `${tokens} context`;
}

/** The button and the note in the panel: which model, and whose choice it is. */
function showChoice() {
  const { model, modelChosen } = state.choices;
  const persona = currentPersona();
  $("model-name").textContent = nameOf(model);
  button.dataset.model = model;
  if (unavailable.has(model)) button.dataset.unavailable = "1";
  else delete button.dataset.unavailable;
  const overriding = modelChosen && Boolean(persona?.model);
  $("model-note").hidden = !overriding;
  button.setAttribute("aria-label", `Model: ${nameOf(model)}${overriding ? ", your pick over the persona's" : ""}`);
  button.title = overriding ? `${nameOf(model)}, chosen for this chat over ${persona.name}'s ${nameOf(persona.model)}` : nameOf(model);
  const origin = $("model-origin");
  origin.hidden = !persona?.model;
  if (persona?.model) {
    $("model-origin-text").textContent = overriding
      ? `${persona.name} uses ${nameOf(persona.model)}; this chat uses your pick.`
      : `${persona.name}'s model.`;
    $("model-reset").hidden = !overriding;
  }
}

/** A labelled group of a picker's list (the model picker's, the compare panel's): its
 * heading, then its items by name, each drawn by `draw`. */
export function labelledGroup(title, id, items, draw) {
  const group = document.createElement("div");
  group.setAttribute("role", "group");
  const heading = document.createElement("div");
  heading.className = "model-family";
  heading.id = id;
  heading.textContent = title;
  group.setAttribute("aria-labelledby", id);
  group.appendChild(heading);
  for (const item of items.sort((a, b) => a.name.localeCompare(b.name))) group.appendChild(draw(item));
  return group;
}

function options() {
  return [...list.querySelectorAll("[role=option]")];
}

function highlight(index) {
  const all = options();
  if (!all.length) {
    active = -1;
    search.removeAttribute("aria-activedescendant");
    return;
  }
  active = Math.max(0, Math.min(index, all.length - 1));
  all.forEach((option, i) => option.classList.toggle("active", i === active));
  search.setAttribute("aria-activedescendant", all[active].id);
  all[active].scrollIntoView({ block: "nearest" });
}

/** Draws the list, filtered by the search words, grouped by family. */
function render() {
  const words = search.value.toLowerCase().split(/\s+/).filter(Boolean);
  const shown = state.models.filter((m) => {
    const text = `${m.name} ${m.id} ${m.family}`.toLowerCase();
    return words.every((w) => text.includes(w));
  });
  const families = new Map();
  for (const model of shown) {
    if (!families.has(model.family)) families.set(model.family, []);
    families.get(model.family).push(model);
  }
  list.replaceChildren();
  let n = 0;
  for (const [family, models] of [...families].sort(([a], [b]) => a.localeCompare(b))) {
    list.appendChild(labelledGroup(family, `model-family-${n}`, models, (model) => option(model, n++)));
  }
  if (!shown.length) {
    const none = document.createElement("p");
    none.className = "muted model-none";
    none.textContent = "No model matches.";
    list.appendChild(none);
  }
  const current = options().findIndex((o) => o.dataset.id === state.choices.model);
  highlight(current >= 0 ? current : 0);
}

function option(model, n) {
  const el = document.createElement("div");
  el.setAttribute("role", "option");
  el.id = `model-option-${n}`;
  el.className = "model-option";
  el.dataset.id = model.id;
  el.setAttribute("aria-selected", String(model.id === state.choices.model));
  const name = document.createElement("span");
  name.className = "model-option-name";
  name.textContent = nameOf(model.id);
  const facts = document.createElement("span");
  facts.className = "model-facts";
  const noImages = hasImage() && !model.supports_images;
  facts.textContent = [
    contextLabel(model.context_window),
    model.supports_tools ? "tools" : "no tools",
    model.supports_images ? "images" : "",
    noImages ? "Takes no images" : "",
  ]
    .filter(Boolean)
    .join(" · ");
  el.append(name, facts);
  if (unavailable.has(model.id) || noImages) el.setAttribute("aria-disabled", "true");
  if (noImages) el.title = "Takes no images: remove the image to pick it";
  el.addEventListener("click", () => pick(model.id));
  return el;
}

function takesNoImages(id) {
  return hasImage() && !state.models.find((m) => m.id === id)?.supports_images;
}

/** Whether the chosen model takes the images on the composer; when not, says so by the
 * picker (the server would refuse the turn too). */
export function imagesFit() {
  if (!takesNoImages(state.choices.model)) return true;
  showModelProblem(`${nameOf(state.choices.model)} takes no images. Pick a model that does, or remove the image.`);
  $("model-problem").dataset.images = "1";
  return false;
}

function pick(id) {
  if (unavailable.has(id)) return; // Shown so the user knows what the chat had; not pickable.
  if (takesNoImages(id)) return; // Disabled while an image is attached; the option says why.
  showModelProblem("");
  chooseModel(id);
  closeMenu(menu);
}

function onKey(event) {
  if (event.key === "ArrowDown" || event.key === "ArrowUp") {
    event.preventDefault();
    highlight(active + (event.key === "ArrowDown" ? 1 : -1));
  } else if (event.key === "Home" || event.key === "End") {
    if (search.value) return; // In the text, Home and End move the caret.
    event.preventDefault();
    highlight(event.key === "Home" ? 0 : options().length - 1);
  } else if (event.key === "Enter") {
    event.preventDefault();
    const chosen = options()[active];
    if (chosen) pick(chosen.dataset.id);
  }
}

/** Fetches the models the provider offers; the current one is always among them. */
export async function loadModels() {
  try {
    const response = await fetch("/models.json", { credentials: "same-origin" });
    if (response.ok) state.models = (await response.json()).models;
  } catch {
    // The picker keeps what it shows; sending still works.
  }
  ensureListed();
  showChoice();
  render();
}

/** The chat's model, or a persona's, may be one the provider no longer lists. */
function ensureListed() {
  for (const id of [state.choices.model, followedModel()]) {
    if (id && !state.models.some((m) => m.id === id)) {
      state.models.push({ id, name: id.split("/").pop(), family: "Other", context_window: 0, supports_tools: false });
    }
  }
}

export function initModelPicker() {
  menu.addEventListener("toggle", () => {
    if (!menu.open) return;
    search.value = "";
    render();
    search.focus();
  });
  search.addEventListener("input", render);
  search.addEventListener("keydown", onKey);
  $("model-reset").addEventListener("click", () => pick(followedModel()));
  // An image attached or removed changes which models may be picked, and whether the
  // chosen one can take what is attached.
  document.addEventListener("attachments-changed", () => {
    if (menu.open) render();
    if (!hasImage() && $("model-problem").dataset.images) showModelProblem("");
    else imagesFit();
  });
  onChoices(() => {
    ensureListed();
    showChoice();
    if (menu.open) render();
    if (hasImage()) imagesFit(); // A persona's model, say, may take no images.
  });
}
