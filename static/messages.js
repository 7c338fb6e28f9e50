// The message list: messages on screen by id, streaming into them, older history, scrolling.
import { $ } from "./page.js";
import { addReasoning, stopThinking } from "./reasoning.js";
import { buildMessage as build, finishInPlace } from "./render.js";
import { send } from "./socket.js";
import { isStreaming, state } from "./state.js";
import { streamInto } from "./stream.js";
import { clearWaiting } from "./waiting.js";

const messagesEl = $("messages");
const olderButton = $("load-older");
const jumpButton = $("jump-latest");
const sendButton = $("send");
const stopButton = $("stop");

/** A message's element, its node kept by id; a streaming reply becomes the one streaming. */
function buildMessage(message) {
  const node = build(message);
  if (message.id !== null) {
    state.nodes.set(message.id, node);
    if (message.status === "streaming") state.streaming = { phase: "reply", messageId: message.id };
  }
  return node.el;
}

/** Adds a message at the end, in place of its old node if it had one. */
export function renderMessage(message) {
  if (state.nodes.has(message.id)) removeNode(message.id);
  $("empty").hidden = true;
  messagesEl.appendChild(buildMessage(message));
}

/** Adds a message at the end of `container` (a compare's column), in place of its old node. */
export function renderInto(message, container) {
  if (state.nodes.has(message.id)) removeNode(message.id);
  $("empty").hidden = true;
  container.appendChild(buildMessage(message));
}

/** A message the server has not saved yet (id null): returns its element to remove later. */
export function renderPending(message) {
  const el = buildMessage(message);
  messagesEl.appendChild(el);
  $("empty").hidden = true;
  return el;
}

/** Rebuilds a message in place (or adds it at the end). */
export function replaceMessage(message) {
  const old = state.nodes.get(message.id);
  const el = buildMessage(message);
  if (old) old.el.replaceWith(el);
  else messagesEl.appendChild(el);
}

// Messages of an older page put on screen per frame: a whole page of rich messages at once
// costs the browser a task of a few hundred ms (mostly styling and laying them out), which
// the reader feels as a stall; a slice of it stays well under 100 ms.
const HISTORY_SLICE = 20;
let historyRun = 0; // Counts pages being put on screen; another conversation ends one.

/** Older messages go above the ones shown, keeping the reader's place: the message at the
 * top of the view stays exactly where it was on screen. They go in a slice per frame, the
 * ones nearest the reader first; the next page is asked for once all are in. */
export function prependHistory(messages, hasMore) {
  const run = ++historyRun;
  const waiting = messages.filter((message) => !state.nodes.has(message.id));
  const slice = () => {
    if (run !== historyRun) return; // Another conversation, or its state again.
    prependSlice(waiting.splice(Math.max(0, waiting.length - HISTORY_SLICE)));
    if (waiting.length) {
      requestAnimationFrame(slice);
      return;
    }
    state.loadingOlder = false;
    olderButton.hidden = !hasMore;
    // Still at the top (the page was short, or the reader is fast): the next page, too.
    requestAnimationFrame(maybeLoadOlder);
  };
  slice();
}

function prependSlice(messages) {
  const first = firstMessageElement();
  const anchor = topVisibleMessage() || first;
  const anchorTop = anchor ? anchor.getBoundingClientRect().top : 0;
  const fragment = document.createDocumentFragment();
  for (const message of messages) fragment.appendChild(buildMessage(message));
  messagesEl.insertBefore(fragment, first);
  if (anchor) messagesEl.scrollTop += anchor.getBoundingClientRect().top - anchorTop;
}

/** The whole conversation as the server sent it in `conversation.state`. */
export function showConversation(messages, hasMore) {
  historyRun += 1;
  clearMessages();
  state.streaming = { phase: "idle", messageId: null };
  state.loadingOlder = false;
  for (const message of messages) renderMessage(message);
  olderButton.hidden = !hasMore;
  $("empty").hidden = messages.length > 0;
  showStreaming();
  scrollToEnd(true);
}

/** Empties the list, for another conversation (or a new chat). */
export function clearConversation() {
  historyRun += 1;
  clearMessages();
  for (const item of state.pending.values()) item.el?.remove();
  state.streaming = { phase: "idle", messageId: null };
  state.loadingOlder = false;
  state.stickToBottom = true;
  olderButton.hidden = true;
  showStreaming();
}

/** A `message.delta`: reasoning and text appended, finished blocks shown, in seq order. */
export function applyDelta(frame) {
  const node = state.nodes.get(frame.message);
  if (!node || node.seq === null || frame.seq <= node.seq) return; // Shown already, or not ours.
  if (frame.seq !== node.seq + 1 || !node.done) {
    resync(); // A frame went missing: ask for the conversation as it stands.
    return;
  }
  node.seq = frame.seq;
  clearWaiting(node);
  node.body.querySelector(".typing")?.remove();
  if (frame.reasoning) addReasoning(node, frame.reasoning);
  if (frame.content) stopThinking(node);
  streamInto(node, frame);
  scrollToEnd();
}

/** A finished reply that streamed blocks, shown in place when those blocks are on screen;
 * false when they are not (or it called tools): the caller then builds it again. */
export function finishReply(message) {
  const node = state.nodes.get(message.id);
  if (message.html_from === undefined || !node?.done || node.stable !== message.html_from) return false;
  return finishInPlace(node, message, message.html);
}

/** A finished reply's HTML: when it says it starts at `html_from`, the blocks already shown
 * come first. Returns null when those are not on screen (the page then asks again). */
export function finalHtml(message) {
  if (message.html_from === undefined) return message.html;
  const node = state.nodes.get(message.id);
  if (!node?.done || node.stable !== message.html_from) return null;
  return node.done.innerHTML + message.html;
}

let lastResync = 0;

/** Asks for the open conversation again (at most once a second). */
export function resync() {
  if (!state.conversationId || Date.now() - lastResync < 1000) return;
  lastResync = Date.now();
  send({ type: "conversation.open", conversation: state.conversationId });
}

function removeNode(id) {
  const node = state.nodes.get(id);
  if (node) node.el.remove();
  state.nodes.delete(id);
}

function clearMessages() {
  for (const id of [...state.nodes.keys()]) removeNode(id);
  for (const el of messagesEl.querySelectorAll(":scope > [data-compare]")) el.remove();
}

/** A compare's columns (compare.js), or the note on its choice, with the replies in them. */
function removeCompare(el) {
  for (const inner of el.querySelectorAll(".message[data-id]")) removeNode(Number(inner.dataset.id));
  el.remove();
}

/** Removes every message after `parentId` (all of them for a new first message). */
export function dropAfter(parentId) {
  if (parentId == null) {
    clearMessages();
    return;
  }
  if (!state.nodes.has(parentId)) return;
  let el = state.nodes.get(parentId).el.nextElementSibling;
  while (el) {
    const next = el.nextElementSibling;
    if (el.dataset.id) removeNode(Number(el.dataset.id));
    else if (el.dataset.compare !== undefined) removeCompare(el);
    el = next;
  }
}

/** Sets what is streaming and shows Stop instead of Send while anything is. */
export function setStreaming(phase, messageId = null) {
  state.streaming = { phase, messageId };
  showStreaming();
}

/** Shows Stop or Send to match `state.streaming`. */
export function showStreaming() {
  stopButton.hidden = !isStreaming();
  sendButton.hidden = isStreaming();
  showJump();
}

let endQueued = false;

/** Keeps the newest output in view while the reader is at the bottom (or `force`). Done
 * once per frame, after the frame's changes: reading the list's height at once would make
 * the browser lay the page out for every delta, and again for the frame. */
export function scrollToEnd(force = false) {
  if (force) {
    // Asked for (a send, "Jump to latest"): at once, so the page is there when it answers.
    state.stickToBottom = true;
    messagesEl.scrollTop = messagesEl.scrollHeight;
  }
  if (state.stickToBottom && !endQueued) {
    endQueued = true;
    requestAnimationFrame(() => {
      endQueued = false;
      if (state.stickToBottom) messagesEl.scrollTop = messagesEl.scrollHeight;
      showJump();
    });
  }
  showJump();
}

/** "Jump to latest" while a reply streams below where the reader has scrolled to. */
function showJump() {
  jumpButton.hidden = state.stickToBottom || !isStreaming();
}

/** The oldest message on screen (the empty-state block and pending sends are not messages). */
function firstMessageElement() {
  return messagesEl.querySelector(".message[data-id]");
}

/** The first message whose bottom is below the top of the view. */
function topVisibleMessage() {
  const top = messagesEl.getBoundingClientRect().top;
  for (const el of messagesEl.querySelectorAll(".message[data-id]")) {
    if (el.getBoundingClientRect().bottom > top) return el;
  }
  return null;
}

function loadOlder() {
  const first = firstMessageElement();
  const id = first ? Number(first.dataset.id) : null;
  if (state.loadingOlder || !id || olderButton.hidden || !state.conversationId) return;
  state.loadingOlder = true;
  send({ type: "conversation.history", conversation: state.conversationId, before: id });
}

/** The reader is at (or near) the top and there is more: ask for it. */
function maybeLoadOlder() {
  if (!olderButton.hidden && messagesEl.scrollTop < 200) loadOlder();
}

/** Marks each message that now follows a step of a turn (a tool call or result) with
 * "after-step", and unmarks one that no longer does: run for every change to the list. */
function markSteps(records) {
  const touched = new Set();
  for (const record of records) {
    for (const added of record.addedNodes) touched.add(added);
    if (record.nextSibling) touched.add(record.nextSibling);
  }
  for (const el of touched) {
    if (el.nodeType !== Node.ELEMENT_NODE || !el.classList.contains("message") || !el.isConnected) continue;
    const before = el.previousElementSibling;
    el.classList.toggle("after-step", Boolean(before?.classList.contains("step")));
  }
}

/** Follows the reply while the reader is at the bottom; loads older messages on scroll up. */
export function initMessages() {
  new MutationObserver(markSteps).observe(messagesEl, { childList: true });
  let lastTop = messagesEl.scrollTop;
  messagesEl.addEventListener("scroll", () => {
    const top = messagesEl.scrollTop;
    // Only the reader moving up leaves the bottom. The list growing between a scroll to the
    // end and its scroll event (a delta that arrived meanwhile) must not: it would stop
    // following the reply, with "Jump to latest" just clicked.
    if (messagesEl.scrollHeight - top - messagesEl.clientHeight < 40) state.stickToBottom = true;
    else if (top < lastTop) state.stickToBottom = false;
    lastTop = top;
    showJump();
    maybeLoadOlder();
  }, { passive: true });
  olderButton.addEventListener("click", loadOlder);
  jumpButton.addEventListener("click", () => {
    scrollToEnd(true);
    $("input").focus({ preventScroll: true });
  });
}
