// Page chrome: the title, the status line, announcements, pickers and the model list.
import { state } from "./state.js";

export const $ = (id) => document.getElementById(id);

const statusEl = $("status");
const announcer = $("announcer");
const modelSelect = $("model");
const modelNote = $("model-note");
let flashTimer = null;

// Picking another model answers the note about the one that cannot be used.
modelSelect.addEventListener("change", () => showModelProblem(""));

export function setTitle(title) {
  $("title").textContent = title || "Chat";
  document.title = title || "Chat";
}

export function setStatus(text) {
  statusEl.textContent = text;
  statusEl.hidden = !text;
}

/** A status message that goes away after a while, unless the connection is down. */
export function flash(text) {
  setStatus(text);
  clearTimeout(flashTimer);
  flashTimer = setTimeout(() => setStatus(state.connected ? "" : statusEl.textContent), 6000);
}

/** One polite announcement per finished reply, never one per token. */
export function announce(message) {
  const text = message.status === "error" ? `Error: ${message.error}` : message.content.slice(0, 500);
  announcer.textContent = text;
}

export function selectOption(select, value, addMissing = false) {
  if (value === undefined || value === null) return;
  const text = String(value);
  if (addMissing && text && ![...select.options].some((o) => o.value === text)) {
    select.add(new Option(text, text));
  }
  select.value = text;
}

/** Says, next to the model picker, why the picked model cannot be used ("" hides it). */
export function showModelProblem(text) {
  modelNote.textContent = text;
  modelNote.hidden = !text;
}

/** Marks the picker's option for a model that can no longer be used. */
export function markUnavailable(id) {
  const option = [...modelSelect.options].find((o) => o.value === id);
  if (!option || option.dataset.unavailable) return;
  option.dataset.unavailable = "1";
  option.textContent = `${option.textContent} (unavailable)`;
}

/** The model the next message asks for; null for an unavailable one, so that the server
 * says which model the conversation needs replaced. */
export function chosenModel() {
  const option = modelSelect.selectedOptions[0];
  return option && !option.dataset.unavailable ? option.value || null : null;
}

export async function loadModels() {
  try {
    const response = await fetch("/models.json", { credentials: "same-origin" });
    if (!response.ok) return;
    const data = await response.json();
    const current = modelSelect.value;
    modelSelect.innerHTML = "";
    for (const model of data.models) modelSelect.add(new Option(model.name, model.id));
    selectOption(modelSelect, current || data.default, true);
    // The list holds every model that may be used: the one kept beside it may not.
    if (!data.models.some((model) => model.id === modelSelect.value)) markUnavailable(modelSelect.value);
  } catch {
    // The picker keeps the current model; sending still works.
  }
}
