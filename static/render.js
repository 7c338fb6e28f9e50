// Messages as DOM: the role and time, reasoning, body, tool steps, how it ended, facts,
// "What was sent", actions and feedback. Model output is only ever the HTML the server
// sanitized; all else goes in as text. Buttons ask for actions with a bubbling
// "message-action" event, whose detail is {kind, message, extra}; kind is one of
// "switch", "edit", "regenerate", "retry" or "continue".
import { buildFeedback } from "./feedback.js";
import { buildFiles } from "./files.js";
import { actionButton, buildFooter, buildNotice, spokenName } from "./meta.js";
import { buildReasoning, resumeThinking, stopThinking } from "./reasoning.js";
import { state } from "./state.js";
import { openText, streamInto, streamingParts } from "./stream.js";
import { buildToolCard } from "./toolsteps.js";
import { clearWaiting, showWaiting } from "./waiting.js";

export { actionButton };

/** A message's DOM; the caller keeps the returned node to stream into it. */
export function buildMessage(message) {
  if (message.role === "tool") return buildToolCard(message);
  const el = document.createElement("article");
  const calls = message.role === "assistant" && message.tool_calls?.length > 0;
  // A reply that called tools is a step of its turn: no actions of its own.
  el.className = `message ${message.role} status-${message.status}${calls ? " step step-call" : ""}`;
  if (message.id !== null) el.dataset.id = message.id;
  el.appendChild(buildHeading(message));

  const reasoning = buildReasoning(message);
  el.appendChild(reasoning);

  const body = document.createElement("div");
  let parts = {};
  if (message.role === "assistant") {
    body.className = "body md";
    if (message.status === "streaming") {
      // `html` covers the first `stable` characters; the rest is previewed as it grows.
      parts = streamingParts(body, message.html);
      if (!message.content) body.appendChild(typingDots());
    } else {
      body.innerHTML = message.html || ""; // Sanitized by the server (nh3).
      body.hidden = calls && !message.content;
    }
  } else {
    body.className = "body plain";
    body.textContent = message.content;
  }
  el.appendChild(body);
  const files = buildFiles(message);
  if (files) el.appendChild(files);
  appendEnding(el, body, message, calls);
  const node = {
    el, body, reasoning, message, ...parts,
    // null: not lined up with the live deltas (they are skipped until message.completed).
    seq: message.seq === undefined ? 0 : message.seq,
    text: message.content || "",
    // Code points, as the server counts them (stream.js converts); only a streaming reply has it.
    stable: message.stable ?? 0,
    thinkingSince: null,
  };
  if (parts.preview && openText(node)) streamInto(node, { content: "" });
  if (message.status === "streaming" && message.waiting) showWaiting(node, message.waiting);
  resumeThinking(node);
  return node;
}

// Made once: a formatter costs far more to make than to use, and a page of history has a
// hundred messages to date.
const WHEN = {
  full: new Intl.DateTimeFormat(undefined, {
    year: "numeric", month: "numeric", day: "numeric", hour: "numeric", minute: "numeric", second: "numeric",
  }),
  clock: new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" }),
  day: new Intl.DateTimeFormat(undefined, { month: "short", day: "numeric" }),
};

/** What follows a message's body: the note on messages left out, how a reply ended, its
 * facts, and the actions of a finished message. */
function appendEnding(el, body, message, calls) {
  if (message.role === "assistant") {
    for (const call of message.tool_calls || []) state.toolCalls.set(call.id, call);
    const leftOut = message.request?.left_out?.length || 0;
    if (leftOut && !calls && !el.querySelector(":scope > .left-out")) {
      const note = document.createElement("div");
      note.className = "left-out";
      note.textContent = `${leftOut} earlier message${leftOut === 1 ? " was" : "s were"} left out to fit the model's context window.`;
      el.insertBefore(note, body);
    }
    if (message.status !== "streaming") {
      const notice = buildNotice(message);
      if (notice) el.appendChild(notice);
      if (!calls) el.appendChild(buildFooter(message));
    }
  }
  const finished = message.id !== null && message.status !== "streaming" && message.status !== "pending";
  // A failed reply with nothing to show offers only its Retry (in the notice).
  const empty = message.role === "assistant" && !message.content && message.status !== "complete";
  if (finished && !empty) {
    const actions = buildActions(message, body, calls);
    if (actions.childElementCount) el.appendChild(actions);
  }
  // A streaming reply's code is decorated once the reply is whole.
  if (message.role === "assistant" && message.status !== "streaming") decorateCode(body);
}

/** A streaming reply's end, shown in place: the finished blocks on screen stay as they are
 * (a long reply is neither parsed nor laid out again), the rest of its HTML (`tailHtml`,
 * from `html_from` on) follows them, and what a finished reply has below it is added.
 * Returns false for a reply that called tools, which the caller builds again instead. */
export function finishInPlace(node, message, tailHtml) {
  if (!node.done || message.role !== "assistant" || message.tool_calls?.length) return false;
  stopThinking(node);
  clearWaiting(node);
  const reasoning = buildReasoning(message);
  reasoning.open = node.reasoning.open;
  node.reasoning.replaceWith(reasoning);
  const after = node.el.classList.contains("after-step") ? " after-step" : "";
  node.el.className = `message ${message.role} status-${message.status}${after}`;
  node.preview.remove();
  node.body.querySelector(".typing")?.remove();
  node.done.insertAdjacentHTML("beforeend", tailHtml); // Sanitized by the server (nh3).
  appendEnding(node.el, node.body, message, false);
  Object.assign(node, {
    reasoning, message, done: undefined, preview: undefined, previewQueued: false,
    seq: message.seq === undefined ? 0 : message.seq, text: message.content || "", stable: 0,
  });
  return true;
}

/** "You" or "Assistant", and when, shown on hover or focus. */
function buildHeading(message) {
  const heading = document.createElement("div");
  heading.className = "role";
  const who = document.createElement("span");
  who.textContent = message.role === "user" ? "You" : "Assistant";
  heading.appendChild(who);
  if (message.compare?.verdict) heading.appendChild(compareBadge(message.compare));
  const at = message.created_at ? new Date(message.created_at) : null;
  if (at && !Number.isNaN(at.getTime())) {
    const time = document.createElement("time");
    time.className = "when";
    time.dateTime = message.created_at;
    time.title = WHEN.full.format(at);
    const today = at.toDateString() === new Date().toDateString();
    const clock = WHEN.clock.format(at);
    time.textContent = today ? clock : `${WHEN.day.format(at)}, ${clock}`;
    heading.appendChild(time);
  }
  return heading;
}

const VERDICTS = { winner: "Chosen in a compare", tie: "A tie in a compare", both_bad: "All bad in a compare" };

/** A reply of a chosen compare (compare.js) says so by its name: chosen, or not. */
function compareBadge(compare) {
  const badge = document.createElement("span");
  badge.className = "compare-badge";
  badge.textContent = compare.chosen ? VERDICTS[compare.verdict] : "Not chosen in a compare";
  return badge;
}

export function button(label, title, run) {
  const b = document.createElement("button");
  b.type = "button";
  b.className = "action";
  b.textContent = label;
  b.title = title;
  b.setAttribute("aria-label", spokenName(label, title));
  b.addEventListener("click", run);
  return b;
}

// Versions "‹ 2/3 ›", then Copy, Edit or Regenerate, and the thumbs; a step has only
// its versions (Regenerate on its turn's answer writes the whole turn again).
function buildActions(message, body, step) {
  const bar = document.createElement("div");
  bar.className = "actions";
  const siblings = message.siblings || [message.id];
  if (siblings.length > 1) {
    const at = siblings.indexOf(message.id);
    const versions = document.createElement("span");
    versions.className = "versions";
    const previous = actionButton("‹", "Previous version", "switch", message, siblings[at - 1]);
    previous.disabled = at <= 0;
    const next = actionButton("›", "Next version", "switch", message, siblings[at + 1]);
    next.disabled = at >= siblings.length - 1;
    const label = document.createElement("span");
    label.textContent = `${at + 1}/${siblings.length}`;
    versions.append(previous, label, next);
    bar.appendChild(versions);
  }
  if (step) return bar;
  bar.appendChild(button("Copy", "Copy message", (event) => copyText(message.content, event.currentTarget)));
  if (message.role === "user") bar.appendChild(actionButton("Edit", "Edit message", "edit", message, body));
  if (message.role === "assistant") {
    bar.appendChild(actionButton("Regenerate", "Write a new version of this reply", "regenerate", message));
    bar.appendChild(buildFeedback(message));
  }
  return bar;
}

export async function copyText(text, target) {
  try {
    await navigator.clipboard.writeText(text);
  } catch {
    const area = document.createElement("textarea");
    area.value = text;
    document.body.appendChild(area);
    area.select();
    document.execCommand("copy");
    area.remove();
  }
  if (target) {
    const label = target.textContent;
    target.textContent = "Copied";
    setTimeout(() => (target.textContent = label), 1200);
  }
}

/** Each code block gets a bar above it (its language, Copy) that never covers the code
 * and stays in view while the block scrolls past. The server wraps blocks in
 * `div.code-block` with a `div.code-lang` label; the bar takes the label in. */
export function decorateCode(body) {
  for (const pre of body.querySelectorAll("pre")) {
    let wrap = pre.parentElement?.classList.contains("code-block") ? pre.parentElement : null;
    if (wrap?.querySelector(":scope > .code-bar")) continue;
    if (!wrap) {
      wrap = document.createElement("div");
      wrap.className = "code-block";
      pre.replaceWith(wrap);
      wrap.appendChild(pre);
    }
    pre.tabIndex = 0; // A long line scrolls sideways: the keyboard can scroll it too.
    const bar = document.createElement("div");
    bar.className = "code-bar";
    const language = wrap.querySelector(":scope > .code-lang") || document.createElement("span");
    language.classList.add("code-lang");
    const copy = button("Copy", "Copy code", (event) => copyText(pre.querySelector("code")?.textContent ?? pre.textContent, event.currentTarget));
    copy.classList.add("copy-code");
    bar.append(language, copy);
    wrap.insertBefore(bar, pre);
  }
}

function typingDots() {
  const dots = document.createElement("span");
  dots.className = "typing";
  dots.setAttribute("aria-label", "Writing");
  dots.textContent = "…";
  return dots;
}
