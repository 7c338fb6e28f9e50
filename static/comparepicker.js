// Setting up a compare: the "Compare" panel by the message box lists the models and the
// personas the page offers (the picker's own data); two to four of them, checked, make
// every message sent a compare of their replies until the chip on the composer clears it.
// The list is one Tab stop: arrow keys move in it, Enter or Space checks, Esc closes
// (menus.js).
import { closeMenu } from "./menus.js";
import { labelledGroup } from "./modelpicker.js";
import { $ } from "./page.js";
import { boot, state } from "./state.js";

const MIN = 2;
const MAX = 4;

const menu = $("compare-menu");
const list = $("compare-list");
const blind = $("compare-blind");
/** What is checked, in the order it was: "m:<model id>" or "p:<persona id>". */
let picked = [];

/** The fields a sending frame carries for a compare (none unless two or more are picked). */
export function compareFields() {
  if (picked.length < MIN) return {};
  const compare = picked.map((key) => {
    const [kind, value] = [key.slice(0, 1), key.slice(2)];
    return kind === "m" ? { model: value, persona: null } : { model: null, persona: Number(value) };
  });
  return { compare, blind: blind.checked };
}

function nameOf(key) {
  const value = key.slice(2);
  if (key.startsWith("p:")) return boot.personas[value]?.name || "A persona";
  return state.models.find((m) => m.id === value)?.name || value.split("/").pop();
}

/** The list: models by name, then personas with the model each uses. */
function render() {
  const groups = [
    ["Models", state.models.map((m) => ({ key: `m:${m.id}`, name: m.name || m.id, facts: m.id }))],
    [
      "Personas",
      Object.entries(boot.personas).map(([id, p]) => ({ key: `p:${id}`, name: p.name, facts: p.model || boot.defaultModel })),
    ],
  ];
  list.replaceChildren();
  groups.forEach(([title, items], n) => {
    if (items.length) list.appendChild(labelledGroup(title, `compare-group-${n}`, items, option));
  });
  rove(boxes().find((b) => b.checked) || boxes()[0]);
  sync();
}

/** The list is one stop for Tab (a long list of models would be many); arrows move in it. */
function rove(current) {
  for (const box of boxes()) box.tabIndex = box === current ? 0 : -1;
}

function option({ key, name, facts }) {
  const label = document.createElement("label");
  label.className = "compare-option";
  const box = document.createElement("input");
  box.type = "checkbox";
  box.value = key;
  box.checked = picked.includes(key);
  box.addEventListener("change", () => {
    picked = box.checked ? [...picked, key] : picked.filter((k) => k !== key);
    sync();
  });
  const text = document.createElement("span");
  text.className = "compare-option-name";
  text.textContent = name;
  const more = document.createElement("span");
  more.className = "model-facts";
  more.textContent = facts;
  label.append(box, text, more);
  return label;
}

/** Boxes past the fourth are disabled; the count, the chip and the button say what is set. */
function sync() {
  for (const box of boxes()) box.disabled = !box.checked && picked.length >= MAX;
  const n = picked.length;
  $("compare-count").textContent =
    n === 0 ? `Check ${MIN} to ${MAX}.` : n < MIN ? `${n} checked: check at least ${MIN}.` : `${n} checked${n >= MAX ? " (the most)" : ""}: ${picked.map(nameOf).join(", ")}.`;
  const on = n >= MIN;
  $("compare-setup").hidden = !on;
  $("compare-chip-text").textContent = on ? `Comparing ${n} models${blind.checked ? ", blind" : ""}` : "";
  $("compare-button").classList.toggle("on", on);
  $("compare-button").setAttribute("aria-label", on ? `Compare models: ${n} set` : "Compare models");
}

function boxes() {
  return [...list.querySelectorAll("input[type=checkbox]")];
}

function clear() {
  picked = [];
  for (const box of boxes()) box.checked = false;
  sync();
}

/** Up and Down move through the boxes; Enter checks as Space does (it sends nothing here). */
function onKey(event) {
  const all = boxes().filter((b) => !b.disabled);
  const at = all.indexOf(document.activeElement);
  if (event.key === "ArrowDown" || event.key === "ArrowUp") {
    event.preventDefault();
    const next = at < 0 ? 0 : Math.max(0, Math.min(all.length - 1, at + (event.key === "ArrowDown" ? 1 : -1)));
    all[next]?.focus();
  } else if (event.key === "Enter" && at >= 0) {
    event.preventDefault();
    all[at].click();
  }
}

export function initComparePicker() {
  blind.checked = document.body.dataset.compareBlind === "true";
  menu.addEventListener("toggle", () => {
    if (!menu.open) return;
    render();
    (boxes().find((b) => b.checked) || boxes()[0])?.focus();
  });
  list.addEventListener("keydown", onKey);
  list.addEventListener("focusin", (event) => {
    if (event.target.matches("input[type=checkbox]")) rove(event.target);
  });
  blind.addEventListener("change", sync);
  // In the composer's form, Enter on a box would send the message: it checks the box.
  blind.addEventListener("keydown", (event) => {
    if (event.key !== "Enter") return;
    event.preventDefault();
    blind.click();
  });
  $("compare-clear").addEventListener("click", clear);
  $("compare-done").addEventListener("click", () => closeMenu(menu));
  $("compare-chip-clear").addEventListener("click", () => {
    clear();
    $("input").focus();
  });
}
