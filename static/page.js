// Page chrome: the title, the status line, announcements and pickers.
import { state } from "./state.js";

export const $ = (id) => document.getElementById(id);

const statusEl = $("status");
const announcer = $("announcer");
let flashTimer = null;

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

/** Says, next to the model picker, why the chat's model cannot be used ("" hides it). */
export function showModelProblem(text) {
  const note = $("model-problem");
  delete note.dataset.images; // Set by the picker when the problem is an attached image.
  note.textContent = text;
  note.hidden = !text;
}
