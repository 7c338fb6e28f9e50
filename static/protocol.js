// What each frame from the server does to the page (docs/protocol.md).
import { settleApproval, showApproval } from "./approvals.js";
import { applyServerChoices } from "./choices.js";
import { compareChosen, compareCompleted, compareCreated, showCompare } from "./compare.js";
import { giveBack } from "./composer.js";
import {
  applyDelta,
  dropAfter,
  finalHtml,
  finishReply,
  prependHistory,
  renderMessage,
  replaceMessage,
  resync,
  scrollToEnd,
  setStreaming,
  showConversation,
  showStreaming,
} from "./messages.js";
import { openConversation, setExport } from "./navigation.js";
import { $, announce, flash, setTitle, showModelProblem } from "./page.js";
import { markUnavailable } from "./modelpicker.js";
import * as sidebar from "./sidebar.js";
import { state } from "./state.js";
import { applyTagsChanged } from "./tags.js";
import { noteConversation, refreshTemporary } from "./temporary.js";
import { doneRunning, showRunning } from "./toolsteps.js";
import { showWaiting } from "./waiting.js";

const handlers = {
  "conversation.created": (f) => {
    state.titles.set(f.conversation, f.title);
    sidebar.upsert(f);
    noteConversation(f);
  },
  "conversation.updated": (f) => {
    sidebar.upsert(f);
    noteConversation(f);
    if (f.conversation !== state.conversationId) return;
    setTitle(f.title);
    applyServerChoices(f);
  },
  "conversation.deleted": (f) => {
    sidebar.remove(f.conversation);
    if (f.conversation !== state.conversationId) return;
    history.replaceState(null, "", "/");
    openConversation(null, { push: false });
  },
  "tags.changed": (f) => {
    applyTagsChanged(f);
    sidebar.render();
  },
  "conversation.history": (f) => {
    if (f.conversation !== state.conversationId) return;
    prependHistory(f.messages, f.has_more);
  },
  "conversation.state": (f) => {
    if (f.conversation !== state.conversationId) return;
    setTitle(f.title);
    applyServerChoices(f);
    noteConversation(f);
    if (f.model_available === false) {
      markUnavailable(f.model);
      showModelProblem(`This conversation's model, ${f.model}, is no longer available. Pick another model to continue.`);
    }
    showConversation(f.messages, f.has_more);
    showCompare(f.compare ?? null);
  },
  "message.created": (f) => {
    const item = f.message.client_id && state.pending.get(f.message.client_id);
    if (item) {
      state.pending.delete(f.message.client_id);
      item.el?.remove();
      if (state.conversationId === null) adoptConversation(f.conversation);
    }
    if (f.conversation !== state.conversationId) return;
    sidebar.touch(f.conversation);
    if (f.message.compare) {
      compareCreated(f.message); // Its own column, beside the other replies.
      scrollToEnd();
      return;
    }
    // A new version replaces everything after its parent on screen, and joins its siblings.
    const old = [...state.nodes.values()].find(
      (n) => n.message && n.message.parent === f.message.parent && n.message.id !== f.message.id,
    );
    const known = old ? old.message.siblings || [old.message.id] : [];
    f.message.siblings = [...new Set([...known, f.message.id])];
    dropAfter(f.message.parent);
    renderMessage(f.message);
    showStreaming();
    scrollToEnd();
  },
  "message.continued": (f) => {
    if (f.conversation !== state.conversationId) return;
    const before = state.nodes.get(f.message.id)?.message;
    f.message.siblings = before?.siblings || [f.message.id];
    f.message.feedback = before?.feedback ?? null;
    replaceMessage(f.message);
    setStreaming("reply", f.message.id);
    scrollToEnd();
  },
  "message.delta": (f) => applyDelta(f),
  "message.waiting": (f) => {
    if (f.conversation !== state.conversationId) return;
    const node = state.nodes.get(f.message);
    if (node && node.message.status === "streaming") showWaiting(node, f);
  },
  "message.completed": (f) => {
    if (f.conversation !== state.conversationId) return;
    const before = state.nodes.get(f.message.id)?.message;
    f.message.siblings = before?.siblings || [f.message.id];
    f.message.feedback = before?.feedback ?? null;
    if (!finishReply(f.message)) {
      const html = finalHtml(f.message);
      if (html === null) {
        resync(); // The blocks this HTML follows are not on screen.
        return;
      }
      f.message.html = html;
      delete f.message.html_from;
      replaceMessage(f.message);
    }
    if (f.message.compare) {
      announce(f.message);
      compareCompleted(f.message); // The turn ends with the last of its replies (said after).
      scrollToEnd();
      return;
    }
    // A reply that called tools is followed by their results and another reply.
    const toolsNext = f.message.status === "complete" && f.message.tool_calls?.length > 0;
    const { phase, messageId } = state.streaming;
    if ((phase === "reply" && messageId === f.message.id) || phase === "tools") {
      setStreaming(toolsNext ? "tools" : "idle");
    }
    if (!toolsNext) announce(f.message);
    scrollToEnd();
  },
  "message.tool_call": (f) => {
    state.toolCalls.set(f.tool_call.id, f.tool_call);
    if (f.conversation === state.conversationId) showRunning(state.nodes.get(f.message), f.tool_call);
  },
  "message.tool_result": (f) => {
    if (f.conversation !== state.conversationId) return;
    doneRunning(f.message.tool_call_id);
    renderMessage(f.message);
    scrollToEnd();
  },
  "compare.chosen": (f) => compareChosen(f),
  "tool.approval_requested": (f) => showApproval(f),
  "tool.approval_settled": (f) => settleApproval(f),
  error: (f) => {
    if (f.message_id !== undefined) return; // Shown on the reply itself.
    if (f.client_id) giveBack(f.client_id); // Nothing was saved: the text goes back.
    if (f.field === "model") {
      // The model cannot be used (turned off, unknown): say so where another is picked.
      if (f.model) markUnavailable(f.model);
      showModelProblem(f.message);
      $("model-button").focus();
      return;
    }
    flash(f.message);
  },
};

/** Applies one frame from the server; unknown types are ignored. */
export function handle(frame) {
  const handler = handlers[frame.type];
  if (handler) handler(frame);
}

/** A new chat's first message was saved: the page becomes that conversation's page. */
function adoptConversation(id) {
  state.conversationId = id;
  history.replaceState(null, "", `/conversations/${id}/`);
  setTitle(state.titles.get(id));
  setExport(id);
  sidebar.render();
  refreshTemporary();
}
