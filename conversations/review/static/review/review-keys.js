// Keyboard shortcuts of the review item page (listed on it, under "Keyboard shortcuts").
// Each one clicks or submits a control the page shows, so a key does exactly what the
// mouse does, through the same form. Listens on the document: htmx swaps the item's part
// of the page and the listener stays.

const TYPING = "input, textarea, select, [contenteditable]";
// While htmx sends a form or puts new content in, the new controls are not yet its own (a
// form submitted then would load a whole page): a key pressed meanwhile waits for it.
const BUSY = ".htmx-request, .htmx-swapping, .htmx-added, .htmx-settling";
let waiting = null;

function busy() {
  return !window.htmx || document.readyState === "loading" || document.querySelector(BUSY);
}

function target() {
  return document.querySelector("#rv-item .rv-target") || document.querySelector("#rv-item");
}

function click(key) {
  const control = document.querySelector(`#rv-item [data-key="${key}"]`);
  if (!control || control.disabled || control.closest("fieldset:disabled")) return false;
  control.click();
  return true;
}

function scoreForms() {
  const root = target();
  return root ? [...root.querySelectorAll(".rv-score-form")] : [];
}

function submit(form) {
  if (form.closest("fieldset:disabled")) return false;
  form.requestSubmit(form.querySelector("button[type=submit]:not([name=clear])"));
  return true;
}

// 1 to 9: the first score taking a number or a category gets that number, or its nth category.
function scoreDigit(digit) {
  for (const form of scoreForms()) {
    const field = form.querySelector("[name=value]");
    if (field instanceof HTMLInputElement && field.type === "number") {
      const low = Number(field.min), high = Number(field.max);
      if (digit < low || digit > high) return false;
      field.value = String(digit);
      return submit(form);
    }
    if (field instanceof HTMLSelectElement && !field.querySelector("option[value=yes]")) {
      const option = field.options[digit]; // options[0] is the empty choice.
      if (!option) return false;
      field.value = option.value;
      return submit(form);
    }
  }
  return false;
}

// y / n: the first yes/no score.
function scoreYesNo(answer) {
  for (const form of scoreForms()) {
    const field = form.querySelector("select[name=value]");
    if (field && field.querySelector("option[value=yes]")) {
      field.value = answer;
      return submit(form);
    }
  }
  return false;
}

function focus(selector) {
  const element = document.querySelector(selector);
  if (!element) return false;
  element.focus();
  return true;
}

const KEYS = {
  y: () => scoreYesNo("yes"),
  n: () => scoreYesNo("no"),
  r: () => click("resolve"),
  d: () => click("dismiss"),
  j: () => click("next"),
  k: () => click("previous"),
  p: () => click("previous"),
  e: () => focus("#rv-item .rv-target .rv-reply-notes textarea"),
  "?": () => focus("#rv-keys"),
};

function act(key) {
  const digit = /^[1-9]$/.test(key) ? Number(key) : 0;
  return digit ? scoreDigit(digit) : KEYS[key]?.();
}

function later() {
  if (waiting === null || busy()) return;
  const key = waiting;
  waiting = null;
  act(key);
}
document.addEventListener("htmx:afterSettle", () => setTimeout(later));
document.addEventListener("htmx:afterRequest", () => setTimeout(later));

document.addEventListener("keydown", (event) => {
  if (!document.getElementById("rv-item") || event.isComposing) return;
  const field = event.target instanceof Element && event.target.closest(TYPING);
  if (field) {
    // Ctrl/⌘ + Enter saves the field's form; every other key is the field's.
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey) && field.form) {
      event.preventDefault();
      field.form.requestSubmit(field.form.querySelector("button[type=submit]:not([name=clear])"));
    }
    return;
  }
  if (event.ctrlKey || event.metaKey || event.altKey) return;
  if (!(/^[1-9]$/.test(event.key) || event.key in KEYS)) return;
  event.preventDefault();
  if (busy()) {
    waiting = event.key; // The latest key pressed, once the page is ready for it.
    return;
  }
  act(event.key);
});
