// Writing: the composer, drafts, example prompts, stop, and what the buttons under a
// message ask for.
import {
  attachedCount,
  giveBackAttachments,
  initAttachments,
  parkAttachments,
  takeAttachments,
  unparkAttachments,
  uploading,
} from "./attachments.js";
import { choiceFields } from "./choices.js";
import { compareFields } from "./comparepicker.js";
import { loadDraft, saveDraft } from "./drafts.js";
import { turnStart } from "./meta.js";
import { renderPending, scrollToEnd } from "./messages.js";
import { imagesFit } from "./modelpicker.js";
import { $, flash, setStatus } from "./page.js";
import { button } from "./render.js";
import { send } from "./socket.js";
import { newChatProject } from "./projects.js";
import { boot, isStreaming, state } from "./state.js";
import { startsTemporary } from "./temporary.js";
import { chosenToolChoice, chosenTools } from "./tools.js";

const input = $("input");

function newClientId() {
  if (crypto.randomUUID) return crypto.randomUUID();
  return [...crypto.getRandomValues(new Uint8Array(16))].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** The persona, model, parameters and tools every sending frame carries; with a compare
 * set up, the models and personas whose replies are compared. */
function choices() {
  return { ...choiceFields(), tools: chosenTools(), tool_choice: chosenToolChoice(), ...compareFields() };
}

/** Sends what the composer holds, or an example prompt (leaving the composer's text be). */
function submit(content = input.value, fromComposer = true) {
  // Files alone may be sent (ask about them with no words); nothing at all may not.
  if ((!content.trim() && !(fromComposer && attachedCount())) || isStreaming()) return;
  if (content.length > boot.maxChars) {
    flash(`The message is too long (${content.length} of ${boot.maxChars} characters).`);
    return;
  }
  if (fromComposer && uploading()) {
    flash("A file is still uploading: send once it shows its size.");
    return;
  }
  if (fromComposer && !imagesFit()) {
    $("model-button").focus();
    return;
  }
  const files = fromComposer ? takeAttachments() : [];
  const frame = {
    type: "chat.send",
    client_id: newClientId(),
    conversation: state.conversationId,
    content,
    ...choices(),
  };
  if (files.length) frame.attachments = files.map((f) => f.id);
  if (newChatProject() !== null) frame.project = newChatProject();
  if (startsTemporary()) frame.temporary = true;
  const el = renderPending({ id: null, role: "user", content, status: "pending", attachments: files });
  state.pending.set(frame.client_id, { frame, el, files });
  if (fromComposer) {
    input.value = "";
    keepDraft();
    autoGrow();
  }
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
  if (item.files?.length) giveBackAttachments(item.files);
  autoGrow();
}

// What the buttons under a message ask for (render.js and meta.js send "message-action").
function onAction(kind, message, extra) {
  if (kind === "switch") switchTo(extra);
  if (kind === "edit") startEdit(message, extra);
  if (kind === "regenerate" || kind === "retry") {
    // Regenerate writes the whole turn again, tool steps and all; Retry, the failed reply.
    const target = kind === "regenerate" ? turnStart(message) : message;
    send({
      type: "chat.regenerate",
      conversation: state.conversationId,
      message: target.id,
      tools: chosenTools(),
      tool_choice: chosenToolChoice(),
    });
  }
  if (kind === "continue" && !isStreaming()) {
    send({ type: "chat.continue", conversation: state.conversationId, message: message.id });
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
    // The new version keeps the files of the one it replaces, as ChatGPT's edit does.
    if (message.attachments?.length) frame.attachments = message.attachments.map((a) => a.id);
    state.pending.set(frame.client_id, { frame, el: null });
    send(frame);
  });
  const cancel = button("Cancel", "Cancel editing", () => editor.replaceWith(body));
  area.addEventListener("keydown", (event) => {
    if (event.key === "Escape") {
      event.stopPropagation();
      cancel.click();
    }
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      save.click();
    }
  });
  editor.append(area, save, cancel);
  body.replaceWith(editor);
  area.focus();
}

function keepDraft() {
  saveDraft(state.conversationId, input.value);
}

/** The composer shows the draft of the conversation now open. */
export function showDraft() {
  input.value = loadDraft(state.conversationId);
  unparkAttachments(state.conversationId);
  autoGrow();
}

/** Keeps what is being written before the page shows another conversation. */
export function leaveDraft() {
  keepDraft();
  parkAttachments(state.conversationId);
}

function autoGrow() {
  input.style.height = "auto";
  input.style.height = `${Math.min(input.scrollHeight, 240)}px`;
}

/** Wires the composer, the example prompts and the message actions; shows the draft. */
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
    keepDraft();
  });
  $("stop").addEventListener("click", stop);
  $("messages").addEventListener("message-action", (event) => {
    const { kind, message, extra } = event.detail;
    onAction(kind, message, extra);
  });
  for (const example of document.querySelectorAll("#examples .example")) {
    example.addEventListener("click", () => submit(example.textContent.trim(), false));
  }
  initAttachments();
  showDraft();
}
