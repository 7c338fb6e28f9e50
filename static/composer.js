// Writing: the composer, drafts, stop, and what the buttons under a message ask for.
import { renderPending, scrollToEnd } from "./messages.js";
import { $, chosenModel, flash, setStatus } from "./page.js";
import { button } from "./render.js";
import { send } from "./socket.js";
import { boot, isStreaming, state } from "./state.js";
import { chosenToolChoice, chosenTools } from "./tools.js";

const input = $("input");
const personaSelect = $("persona");

function newClientId() {
  if (crypto.randomUUID) return crypto.randomUUID();
  return [...crypto.getRandomValues(new Uint8Array(16))].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** The model, persona and tools every sending frame carries. */
function choices() {
  const frame = { model: chosenModel(), tools: chosenTools(), tool_choice: chosenToolChoice() };
  if (personaSelect.value) frame.persona = Number(personaSelect.value);
  return frame;
}

function submit() {
  const content = input.value;
  if (!content.trim() || isStreaming()) return;
  if (content.length > boot.maxChars) {
    flash(`The message is too long (${content.length} of ${boot.maxChars} characters).`);
    return;
  }
  const frame = {
    type: "chat.send",
    client_id: newClientId(),
    conversation: state.conversationId,
    content,
    ...choices(),
  };
  const el = renderPending({ id: null, role: "user", content, status: "pending" });
  state.pending.set(frame.client_id, { frame, el });
  input.value = "";
  saveDraft();
  autoGrow();
  scrollToEnd(true);
  if (!send(frame)) setStatus("Not connected. Your message will be sent when the connection is back.");
}

/** Stops the reply being written, if any. */
export function stop() {
  if (state.conversationId && isStreaming()) send({ type: "chat.stop", conversation: state.conversationId });
}

/** A send the server refused: nothing was saved, so the text goes back in the composer. */
export function giveBack(clientId) {
  const item = state.pending.get(clientId);
  if (!item) return;
  state.pending.delete(clientId);
  item.el?.remove();
  if (!input.value) input.value = item.frame.content;
  autoGrow();
}

// What the buttons under a message ask for (render.js sends "message-action").
function onAction(kind, message, extra) {
  if (kind === "switch") switchTo(extra);
  if (kind === "edit") startEdit(message, extra);
  if (kind === "regenerate") {
    send({
      type: "chat.regenerate",
      conversation: state.conversationId,
      message: message.id,
      tools: chosenTools(),
      tool_choice: chosenToolChoice(),
    });
  }
  if (kind === "continue") {
    input.value = "Continue exactly where you stopped.";
    submit();
  }
}

function switchTo(id) {
  if (id === undefined || isStreaming()) return;
  send({ type: "chat.switch", conversation: state.conversationId, message: id });
}

function startEdit(message, body) {
  if (isStreaming()) return;
  const editor = document.createElement("div");
  editor.className = "editor";
  const area = document.createElement("textarea");
  area.value = message.content;
  area.setAttribute("aria-label", "Edit message");
  const save = button("Save and send", "Save and send", () => {
    if (!area.value.trim()) return;
    const frame = {
      type: "chat.edit",
      client_id: newClientId(),
      conversation: state.conversationId,
      message: message.id,
      content: area.value,
      ...choices(),
    };
    state.pending.set(frame.client_id, { frame, el: null });
    send(frame);
  });
  const cancel = button("Cancel", "Cancel editing", () => editor.replaceWith(body));
  area.addEventListener("keydown", (event) => {
    if (event.key === "Escape") cancel.click();
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      save.click();
    }
  });
  editor.append(area, save, cancel);
  body.replaceWith(editor);
  area.focus();
}

const draftKey = () => `draft:${state.conversationId ?? "new"}`;

function saveDraft() {
  if (input.value) localStorage.setItem(draftKey(), input.value);
  else localStorage.removeItem(draftKey());
}

function autoGrow() {
  input.style.height = "auto";
  input.style.height = `${Math.min(input.scrollHeight, 240)}px`;
}

/** Wires the composer and the message actions, and restores this conversation's draft. */
export function initComposer() {
  $("composer").addEventListener("submit", (event) => {
    event.preventDefault();
    submit();
  });
  input.addEventListener("keydown", (event) => {
    if (event.key !== "Enter" || event.isComposing) return;
    // Settings' "Enter sends": on, Enter sends and Shift+Enter adds a line; off, Enter adds
    // a line and Ctrl/Cmd+Enter sends.
    const sends = boot.enterToSend !== false ? !event.shiftKey : event.ctrlKey || event.metaKey;
    if (sends) {
      event.preventDefault();
      submit();
    }
  });
  input.addEventListener("input", () => {
    autoGrow();
    saveDraft();
  });
  $("stop").addEventListener("click", stop);
  $("messages").addEventListener("message-action", (event) => {
    const { kind, message, extra } = event.detail;
    onAction(kind, message, extra);
  });
  input.value = localStorage.getItem(draftKey()) || "";
  autoGrow();
}
