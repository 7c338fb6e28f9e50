// Slash commands: "/" at the start of the message box opens the user's prompts (their own,
// then the shared ones staff gave them), filtered by what follows it. The message box is
// the combobox, the list its listbox: ↑ ↓ move, Enter inserts, Esc closes, a tap chooses.
// A prompt with variables asks for them in a small dialog first; the text goes into the
// message box to be edited, and is never sent by itself. The list is fetched from
// prompts.json the first time the menu opens.
//
// Variables are {{name}} or {{name:default}} (conversations/prompts/variables.py has the
// same pattern and its bounds). {{date}}, {{time}} and {{user}} are filled in here;
// {{clipboard}} is a field of the dialog, read from the clipboard only when its button
// is pressed.
import { api } from "./http.js";
import { $ } from "./page.js";

const VARIABLE = /\{\{\s{0,5}([A-Za-z_][A-Za-z0-9_]{0,31})\s{0,5}(?::([^{}\r\n]{0,200}))?\}\}/g;
const AUTOMATIC = new Set(["date", "time", "user"]);
const QUERY = /^\/([^\n]{0,60})$/; // What the menu filters by: the first line, "/" first.
const SHOWN = 50; // Options in the list at once; typing narrows the rest.

const input = $("input");
const menu = $("slash-menu");
const list = $("slash-list");
const note = $("slash-note");
const dialog = $("prompt-dialog");
const fields = $("prompt-fields");

let prompts = null; // null until fetched; then the list prompts.json gave.
let userName = "";
let loading = null;
let shown = []; // The prompts in the list now, in order.
let active = -1;
let dismissed = null; // The box's text when Esc closed the menu (or a prompt went in): closed until it changes.
let choosing = null; // The prompt whose dialog is open.
let enterWhenLoaded = false; // Enter pressed while the list was coming: choose then.

/** The text with its variables replaced by `values` (a default where there is none), in
 * one pass: a value is never read again for variables. */
export function fill(text, values) {
  return text.replace(VARIABLE, (_, name, fallback) =>
    Object.hasOwn(values, name) ? values[name] : (fallback || "").trim(),
  );
}

function builtIns() {
  const now = new Date();
  return {
    date: now.toLocaleDateString(),
    time: now.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" }),
    user: userName,
  };
}

async function load() {
  if (prompts) return;
  loading ||= api("GET", "/prompts.json").then((result) => {
    loading = null;
    if (result.ok && Array.isArray(result.data?.prompts)) {
      prompts = result.data.prompts;
      userName = result.data.user || "";
    }
    return result;
  });
  const result = await loading;
  if (!prompts) showNote(result.status === 429 ? "Too many requests: try again in a minute." : "Your prompts could not be loaded.");
}

function isOpen() {
  return !menu.hidden;
}

function open() {
  menu.hidden = false;
  input.setAttribute("aria-expanded", "true");
}

export function closeSlash() {
  if (!isOpen()) return false;
  menu.hidden = true;
  input.setAttribute("aria-expanded", "false");
  input.removeAttribute("aria-activedescendant");
  active = -1;
  return true;
}

function showNote(text, withLink = false) {
  note.replaceChildren(text);
  if (withLink) {
    const link = document.createElement("a");
    link.href = "/prompts/";
    link.textContent = "Manage your prompts";
    note.append(" ", link);
  }
  note.hidden = !text;
}

function matches(prompt, words) {
  const text = `${prompt.command} ${prompt.title}`.toLowerCase();
  return words.every((word) => text.includes(word));
}

function render(query) {
  const words = query.toLowerCase().split(/\s+/).filter(Boolean);
  shown = prompts.filter((p) => matches(p, words)).slice(0, SHOWN);
  list.replaceChildren(
    ...shown.map((prompt, i) => {
      const option = document.createElement("div");
      option.id = `slash-option-${i}`;
      option.className = "slash-option";
      option.setAttribute("role", "option");
      option.setAttribute("aria-selected", "false");
      const command = document.createElement("span");
      command.className = "slash-command";
      command.textContent = `/${prompt.command}`;
      const title = document.createElement("span");
      title.className = "slash-title";
      title.textContent = prompt.title;
      option.append(command, title);
      if (prompt.shared) {
        const badge = document.createElement("span");
        badge.className = "badge";
        badge.textContent = "Shared";
        option.append(badge);
      }
      // Keep the focus in the message box: a tap or click chooses, nothing else.
      option.addEventListener("mousedown", (event) => event.preventDefault());
      option.addEventListener("click", () => choose(prompt));
      return option;
    }),
  );
  list.hidden = !shown.length;
  if (!prompts.length) showNote("No prompts yet.", true);
  else if (!shown.length) showNote("No prompt matches.");
  else showNote("");
  $("slash-status").textContent = prompts.length ? `${shown.length} prompt${shown.length === 1 ? "" : "s"}` : "";
  highlight(shown.length ? 0 : -1);
}

function highlight(index) {
  const options = [...list.querySelectorAll("[role=option]")];
  active = index;
  options.forEach((option, i) => {
    option.classList.toggle("active", i === index);
    option.setAttribute("aria-selected", String(i === index));
  });
  if (index >= 0) {
    input.setAttribute("aria-activedescendant", options[index].id);
    options[index].scrollIntoView({ block: "nearest" });
  } else {
    input.removeAttribute("aria-activedescendant");
  }
}

async function update() {
  const query = QUERY.exec(input.value);
  if (dismissed !== null && input.value !== dismissed) dismissed = null;
  if (!query) {
    closeSlash();
    return;
  }
  if (dismissed !== null) return;
  open();
  if (!prompts) {
    showNote("Loading your prompts…");
    list.hidden = true;
    await load();
    if (!prompts) {
      enterWhenLoaded = false;
      return;
    }
  }
  // The box may have changed while the list was coming.
  const now = QUERY.exec(input.value);
  if (now && dismissed === null) render(now[1]);
  else closeSlash();
  if (enterWhenLoaded) {
    enterWhenLoaded = false;
    if (isOpen() && active >= 0) choose(shown[active]);
  }
}

function put(text) {
  input.value = text;
  dismissed = text; // Text that starts with "/" opens no menu until it is changed.
  input.focus();
  input.setSelectionRange(text.length, text.length);
  // The composer grows to fit and keeps the draft, as for typed text.
  input.dispatchEvent(new Event("input", { bubbles: true }));
}

function choose(prompt) {
  closeSlash();
  dismissed = input.value; // While the dialog asks, and after Cancel, until the box changes.
  const asked = prompt.variables.filter((v) => !AUTOMATIC.has(v.name));
  if (!asked.length) {
    put(fill(prompt.text, builtIns()));
    return;
  }
  choosing = prompt;
  fields.replaceChildren(...asked.map(field));
  $("prompt-dialog-title").textContent = `/${prompt.command}: ${prompt.title}`;
  dialog.showModal();
  fields.querySelector("input, textarea")?.focus();
}

function field(variable, i) {
  const wrap = document.createElement("div");
  wrap.className = "field";
  const label = document.createElement("label");
  const id = `prompt-var-${i}`;
  label.htmlFor = id;
  const control = document.createElement(variable.name === "clipboard" ? "textarea" : "input");
  control.id = id;
  control.name = variable.name;
  control.value = variable.default;
  control.maxLength = 20000;
  if (control.tagName === "TEXTAREA") control.rows = 3;
  else control.type = "text";
  wrap.append(label, control);
  if (variable.name === "clipboard") {
    label.textContent = "Clipboard";
    const paste = document.createElement("button");
    paste.type = "button";
    paste.textContent = "Paste from clipboard";
    const problem = document.createElement("p");
    problem.className = "form-error";
    problem.setAttribute("role", "alert");
    problem.hidden = true;
    // Read only on this press: never silently.
    paste.addEventListener("click", async () => {
      try {
        control.value = await navigator.clipboard.readText();
        problem.hidden = true;
      } catch {
        problem.textContent = "The browser did not allow reading the clipboard: paste into the field instead.";
        problem.hidden = false;
      }
      control.focus();
    });
    wrap.append(paste, problem);
  } else {
    label.textContent = variable.name.replaceAll("_", " ");
  }
  return wrap;
}

function insertFilled(event) {
  event.preventDefault();
  const prompt = choosing;
  if (!prompt) return;
  const values = builtIns();
  for (const control of fields.querySelectorAll("input, textarea")) values[control.name] = control.value;
  choosing = null;
  dialog.close();
  put(fill(prompt.text, values));
}

function keydown(event) {
  if (event.target !== input || !isOpen() || event.isComposing) return;
  const count = shown.length;
  let handled = true;
  if (event.key === "ArrowDown" && count) highlight((active + 1) % count);
  else if (event.key === "ArrowUp" && count) highlight((active - 1 + count) % count);
  else if (event.key === "Home" && count && event.ctrlKey) highlight(0);
  else if (event.key === "End" && count && event.ctrlKey) highlight(count - 1);
  else if (event.key === "Enter" && !event.shiftKey && active >= 0) choose(shown[active]);
  else if (event.key === "Enter" && !event.shiftKey && loading) enterWhenLoaded = true;
  else if (event.key === "Escape") {
    dismissed = input.value;
    closeSlash();
  } else handled = false;
  if (handled) {
    // Before the composer's own keys (Enter sends) and the page's (Esc stops a reply).
    event.preventDefault();
    event.stopPropagation();
  }
}

export function initSlash() {
  input.setAttribute("role", "combobox");
  input.setAttribute("aria-autocomplete", "list");
  input.setAttribute("aria-controls", "slash-list");
  input.setAttribute("aria-expanded", "false");
  $("composer").addEventListener("keydown", keydown, true);
  input.addEventListener("input", update);
  input.addEventListener("blur", () => setTimeout(() => {
    if (document.activeElement !== input) closeSlash();
  }, 0));
  $("prompt-form").addEventListener("submit", insertFilled);
  $("prompt-cancel").addEventListener("click", () => dialog.close());
  dialog.addEventListener("close", () => {
    choosing = null;
    input.focus();
  });
}
