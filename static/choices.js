// What the next reply is sent with: persona, model and this chat's parameters.
// Choosing a persona chooses its model (and its tools); a model picked afterwards
// overrides the persona's for this conversation. Once the conversation exists, every
// change goes to the server at once (`conversation.settings`), so Regenerate and other
// tabs use it too; before that, the first message carries it.
import { send } from "./socket.js";
import { boot, newChatChoices, noParams, state } from "./state.js";

const listeners = [];

/** Runs `fn(personaChanged)` after every change of the choices, from here or the server. */
export function onChoices(fn) {
  listeners.push(fn);
}

function changed(personaChanged = false) {
  for (const fn of listeners) fn(personaChanged);
}

/** @returns {import("./state.js").PersonaInfo|null} */
export function currentPersona() {
  return state.choices.persona === null ? null : boot.personas[state.choices.persona] || null;
}

/** The model the chat uses when the user has chosen none: the persona's, else the default. */
export function followedModel() {
  return currentPersona()?.model || boot.defaultModel;
}

function tell(fields) {
  if (state.conversationId !== null) {
    send({ type: "conversation.settings", conversation: state.conversationId, ...fields });
  }
}

export function choosePersona(id) {
  const persona = id === "" || id === null ? null : Number(id);
  if (persona === state.choices.persona) return;
  state.choices.persona = persona;
  state.choices.model = followedModel();
  state.choices.modelChosen = false;
  tell({ persona, model: "" });
  changed(true);
}

export function chooseModel(id) {
  // Picking the model the chat would use anyway is no choice: it keeps following.
  const chosen = id !== followedModel();
  state.choices.model = id;
  state.choices.modelChosen = chosen;
  tell({ model: chosen ? id : "" });
  changed();
}

/** One of this chat's parameters; null (or "") follows the persona's again. */
export function chooseParam(name, value) {
  if (state.choices.params[name] === value) return;
  state.choices.params[name] = value;
  tell({ [name]: value });
  changed();
}

export function resetParams() {
  state.choices.params = noParams();
  tell({ ...noParams() });
  changed();
}

/** A new chat starts with the user's defaults (Settings). */
export function resetChoices() {
  const before = state.choices.persona;
  state.choices = newChatChoices();
  changed(before !== state.choices.persona);
}

/** The conversation as the server has it (`conversation.state`, `conversation.updated`). */
export function applyServerChoices(frame) {
  const personaChanged = frame.persona !== state.choices.persona;
  state.choices = {
    persona: frame.persona ?? null,
    model: frame.model,
    modelChosen: Boolean(frame.model_chosen),
    params: { ...noParams(), ...(frame.params || {}) },
  };
  changed(personaChanged);
}

/** The fields every sending frame carries: the page's view of the choices, whole. */
export function choiceFields() {
  const { persona, model, modelChosen, params } = state.choices;
  return { persona, model: modelChosen ? model : "", ...params };
}
