// The "Persona and settings" panel: the persona, then this chat's temperature, top_p,
// max_tokens and system prompt, each blank to follow the persona's (shown as the hint).
import { chooseParam, choosePersona, currentPersona, onChoices, resetParams } from "./choices.js";
import { $, selectOption } from "./page.js";
import { state } from "./state.js";

const personaSelect = $("persona");
const saved = $("settings-saved");
const NUMBERS = { temperature: parseFloat, top_p: parseFloat, max_tokens: (text) => parseInt(text, 10) };
const field = (name) => $(`param-${name}`);

/** The inputs show this chat's own values; their hints, the persona's. */
function show() {
  const persona = currentPersona();
  selectOption(personaSelect, state.choices.persona ?? "");
  // The persona's name shows on the button; its spoken name begins with what it shows.
  $("settings-label").textContent = persona ? persona.name : "Chat settings";
  $("settings-button").setAttribute("aria-label", persona ? `${persona.name}: persona and chat settings` : "Chat settings");
  for (const name of Object.keys(NUMBERS)) {
    const own = state.choices.params[name];
    if (document.activeElement !== field(name)) field(name).value = own ?? "";
    const inherited = persona?.[name];
    field(name).placeholder = inherited != null ? `${inherited} (persona's)` : "provider default";
  }
  const prompt = field("system_prompt");
  if (document.activeElement !== prompt) prompt.value = state.choices.params.system_prompt || "";
  prompt.placeholder = persona?.system_prompt ? `${persona.name}'s: ${persona.system_prompt}` : "None";
}

function onNumber(name) {
  const input = field(name);
  if (!input.checkValidity()) {
    saved.textContent = input.validationMessage;
    return;
  }
  const value = input.value.trim() === "" ? null : NUMBERS[name](input.value);
  chooseParam(name, Number.isNaN(value) ? null : value);
  noteSaved();
}

function noteSaved() {
  saved.textContent = state.conversationId === null ? "Used from your first message." : "Saved for this chat.";
}

export function initSettings() {
  personaSelect.addEventListener("change", () => {
    choosePersona(personaSelect.value);
    noteSaved();
  });
  for (const name of Object.keys(NUMBERS)) field(name).addEventListener("change", () => onNumber(name));
  field("system_prompt").addEventListener("change", () => {
    chooseParam("system_prompt", field("system_prompt").value.trim() ? field("system_prompt").value : "");
    noteSaved();
  });
  $("settings-panel").addEventListener("submit", (event) => event.preventDefault());
  $("settings-reset").addEventListener("click", () => {
    resetParams();
    noteSaved();
  });
  $("settings-menu").addEventListener("toggle", () => {
    saved.textContent = "";
  });
  onChoices(show);
  show();
}
