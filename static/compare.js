// A compare's replies side by side: one column each on a desktop, tabs on a phone, each
// streaming as any reply does (messages.js keys them by id), each with its own Stop and
// facts; once all have ended, "Which is better?"; after the choice, the names revealed
// and the conversation going on from the chosen reply (its `conversation.state`).
// The frames are in docs/protocol.md ("Compare").
import { dropAfter, renderInto, setStreaming } from "./messages.js";
import { $ } from "./page.js";
import { send } from "./socket.js";
import { state } from "./state.js";

const messagesEl = $("messages");
const phone = window.matchMedia("(max-width: 700px)");
const LETTERS = "ABCD";
const REASON_CHARS = 2000;
const SWIPE = 50; // px a finger moves sideways, more than up or down, to switch tabs.

/**
 * A compare on screen.
 * @typedef {Object} CompareView
 * @property {number} group
 * @property {number} prompt  The user message the replies answer.
 * @property {boolean} blind
 * @property {HTMLElement} el
 * @property {HTMLElement[]} tabs
 * @property {HTMLElement[]} cols
 * @property {(number|null)[]} ids  Each slot's reply, once it has come.
 * @property {number} selected  The tab shown on a phone.
 * @property {HTMLElement} choose
 */

/** @type {Map<number, CompareView>} */
const views = new Map();
// The last choice made here, to say which model each label was once the branch is redrawn.
let lastResult = null;

/** A compare reply's `message.created`: its column (the compare's columns the first time). */
export function compareCreated(message) {
  lastResult = null;
  let view = views.get(message.compare.group);
  if (!view || !view.el.isConnected) {
    dropAfter(message.parent);
    view = buildView(message.compare, message.parent);
  }
  place(view, message);
  settle(view);
}

/** A compare reply's `message.completed`, after messages.js has finished it in place. */
export function compareCompleted(message) {
  const view = views.get(message.compare.group);
  if (!view || !view.el.isConnected) return;
  place(view, message, false);
  settle(view, true);
}

/** After `conversation.state`: an unchosen compare gets its columns again (streaming ones
 * go on), and the note on a choice just made goes under the chosen reply. (A chosen
 * compare's replies say so by their names: render.js.) */
export function showCompare(compare) {
  if (compare) {
    dropAfter(compare.prompt); // The branch ends with one of the replies: they all go in columns.
    const view = buildView({ ...compare, count: compare.replies.length }, compare.prompt);
    for (const reply of compare.replies) place(view, reply);
    settle(view);
  }
  placeResult();
}

/** `compare.chosen`: the real names, said once; the `conversation.state` after it redraws. */
export function compareChosen(frame) {
  if (frame.conversation !== state.conversationId) return;
  const letter = (reply) => LETTERS[reply.slot];
  const chosen = frame.replies.find((r) => r.message === frame.chosen);
  const said = {
    winner: chosen ? `You chose Model ${letter(chosen)}.` : "Choice saved.",
    tie: "You called it a tie.",
    both_bad: "You found them all bad.",
  }[frame.verdict];
  const names = frame.replies.map((r) => `Model ${letter(r)} was ${r.label}`).join("; ");
  lastResult = { chosen: frame.chosen, text: `${said} ${names}.` };
  const view = views.get(frame.group);
  if (view) {
    for (const reply of frame.replies) setName(view, reply.slot, reply.label, true);
    view.choose.hidden = true;
  }
  $("announcer").textContent = lastResult.text;
}

// ---- Building -------------------------------------------------------------------------

function buildView(info, promptId) {
  // Only compares on screen are kept: one drawn over, or another conversation's, is let go.
  for (const [group, old] of views) if (!old.el.isConnected) views.delete(group);
  const count = Math.max(1, Math.min(info.count, LETTERS.length));
  const el = document.createElement("section");
  el.className = "compare";
  el.dataset.compare = String(info.group);
  el.setAttribute("aria-label", `${count} replies to compare`);
  const tablist = document.createElement("div");
  tablist.className = "compare-tabs";
  tablist.setAttribute("aria-label", "Replies");
  const cols = document.createElement("div");
  cols.className = "compare-cols";
  cols.dataset.count = String(count);
  const view = {
    group: info.group, prompt: promptId, blind: Boolean(info.blind), el, tabs: [], cols: [],
    ids: new Array(count).fill(null), selected: 0, choose: null,
  };
  for (let slot = 0; slot < count; slot++) {
    const id = `compare-${info.group}-${slot}`;
    const tab = document.createElement("button");
    tab.type = "button";
    tab.className = "compare-tab";
    tab.id = `${id}-tab`;
    tab.textContent = `Model ${LETTERS[slot]}`;
    tab.addEventListener("click", () => select(view, slot, true));
    const col = document.createElement("section");
    col.className = "compare-col";
    col.id = `${id}-col`;
    col.dataset.slot = String(slot);
    const head = document.createElement("div");
    head.className = "compare-head";
    const name = document.createElement("h3");
    name.className = "compare-name";
    name.id = `${id}-name`;
    name.textContent = `Model ${LETTERS[slot]}`;
    const status = document.createElement("span");
    status.className = "compare-status";
    status.textContent = "Waiting…";
    head.append(name, status);
    col.appendChild(head);
    tablist.appendChild(tab);
    cols.appendChild(col);
    view.tabs.push(tab);
    view.cols.push(col);
  }
  tablist.addEventListener("keydown", (event) => onTabKey(view, event));
  swipes(view, cols);
  view.choose = buildChoose(view);
  el.append(tablist, cols, view.choose);
  const promptEl = state.nodes.get(promptId)?.el;
  if (promptEl?.isConnected) promptEl.after(el);
  else messagesEl.appendChild(el);
  views.set(info.group, view);
  layout(view);
  return view;
}

/** A reply into its column: built by messages.js (`fresh`) or already finished in place. */
function place(view, message, fresh = true) {
  const slot = message.compare.slot;
  const col = view.cols[slot];
  if (!col) return;
  view.ids[slot] = message.id;
  if (fresh) {
    message.siblings = [message.id]; // Versions are for after the choice.
    renderInto(message, col);
  }
  setName(view, slot, message.compare.label, message.compare.revealed || !message.compare.blind);
  trim(state.nodes.get(message.id));
  head(view, slot);
}

/** While the choice is open a column offers no actions on its reply (a regeneration or a
 * continuation would add to the versions being compared); they come with the branch. */
function trim(node) {
  if (!node) return;
  node.el.querySelector(":scope > .actions")?.remove();
  for (const b of node.el.querySelectorAll(":scope > .notice button")) b.remove();
}

function setName(view, slot, label, revealed) {
  const name = view.cols[slot]?.querySelector(".compare-name");
  if (!name) return;
  const letter = `Model ${LETTERS[slot]}`;
  name.textContent = revealed && label && label !== letter ? `${letter} · ${label}` : letter;
  view.tabs[slot].title = name.textContent;
}

const STATUS = { streaming: "Writing…", complete: "Done", stopped: "Stopped", error: "Failed", interrupted: "Interrupted" };

/** A column's head: how its reply stands, and Stop while it streams. */
function head(view, slot) {
  const col = view.cols[slot];
  const message = state.nodes.get(view.ids[slot])?.message;
  const status = message?.status || "waiting";
  col.querySelector(".compare-status").textContent = STATUS[status] || "Waiting…";
  col.dataset.status = status;
  view.tabs[slot].dataset.status = status;
  let stop = col.querySelector(".compare-stop");
  if (status === "streaming" && !stop) {
    stop = document.createElement("button");
    stop.type = "button";
    stop.className = "compare-stop";
    stop.textContent = "Stop";
    stop.setAttribute("aria-label", `Stop Model ${LETTERS[slot]}`);
    stop.addEventListener("click", () => {
      stop.disabled = true;
      send({ type: "chat.stop", conversation: state.conversationId, message: view.ids[slot] });
    });
    col.querySelector(".compare-head").appendChild(stop);
  } else if (status !== "streaming" && stop) {
    if (stop === document.activeElement) {
      col.tabIndex = -1; // Focus stays by the reply it stopped, rather than lost.
      col.focus({ preventScroll: true });
    }
    stop.remove();
  }
}

/** The turn is busy while any reply streams; once all have ended, the choice opens. */
function settle(view, justEnded = false) {
  const statuses = view.ids.map((id) => state.nodes.get(id)?.message.status);
  const writing = statuses.some((s) => s === undefined || s === "streaming");
  if (writing) {
    setStreaming("compare");
    return;
  }
  if (state.streaming.phase === "compare") setStreaming("idle");
  const chosen = state.nodes.get(view.ids[0])?.message.compare?.verdict;
  const wasHidden = view.choose.hidden;
  view.choose.hidden = Boolean(chosen);
  if (justEnded && wasHidden && !chosen) {
    $("announcer").textContent = "All replies are in. Which is better? Choose under the replies.";
  }
}

function buildChoose(view) {
  const form = document.createElement("form");
  form.className = "compare-choose";
  form.hidden = true;
  const headingId = `compare-${view.group}-choose`;
  form.setAttribute("aria-labelledby", headingId);
  const heading = document.createElement("h3");
  heading.id = headingId;
  heading.textContent = "Which is better?";
  const reasonId = `compare-${view.group}-reason`;
  const label = document.createElement("label");
  label.htmlFor = reasonId;
  label.textContent = "Why? (optional)";
  const reason = document.createElement("textarea");
  reason.id = reasonId;
  reason.rows = 2;
  reason.maxLength = REASON_CHARS;
  reason.className = "compare-reason";
  const buttons = document.createElement("div");
  buttons.className = "compare-buttons";
  const choice = (text, verdict, slot = null) => {
    const b = document.createElement("button");
    b.type = "button";
    b.textContent = text;
    b.dataset.verdict = verdict;
    b.addEventListener("click", () => choose(view, verdict, slot, reason.value, form));
    return b;
  };
  view.ids.forEach((_, slot) => buttons.appendChild(choice(`${LETTERS[slot]} is better`, "winner", slot)));
  buttons.append(choice("Tie", "tie"), choice(view.ids.length > 2 ? "All bad" : "Both bad", "both_bad"));
  const note = document.createElement("p");
  note.className = "muted compare-note";
  note.setAttribute("role", "status");
  form.append(heading, label, reason, buttons, note);
  form.addEventListener("submit", (event) => event.preventDefault());
  return form;
}

function choose(view, verdict, slot, reason, form) {
  const frame = { type: "compare.choose", conversation: state.conversationId, group: view.group, verdict };
  // A tie or "all bad" goes on from the reply being read on a phone; else the first.
  const from = slot ?? (phone.matches ? view.selected : 0);
  if (view.ids[from] !== null) frame.message = view.ids[from];
  if (reason.trim()) frame.reason = reason.trim().slice(0, REASON_CHARS);
  if (!send(frame)) {
    form.querySelector(".compare-note").textContent = "Not connected: choose again once the connection is back.";
    return;
  }
  form.querySelector(".compare-note").textContent = "Saving your choice…";
}

// ---- Tabs on a phone, columns on a desktop ---------------------------------------------

/** Roles follow the layout: tabs and tab panels on a phone, labelled groups on a desktop. */
function layout(view) {
  const tabs = phone.matches;
  const tablist = view.el.querySelector(".compare-tabs");
  tablist.hidden = !tabs;
  view.el.classList.toggle("tabbed", tabs);
  if (tabs) tablist.setAttribute("role", "tablist");
  else tablist.removeAttribute("role");
  view.tabs.forEach((tab, slot) => {
    const col = view.cols[slot];
    if (tabs) {
      tab.setAttribute("role", "tab");
      tab.setAttribute("aria-controls", col.id);
      tab.setAttribute("aria-selected", String(slot === view.selected));
      tab.tabIndex = slot === view.selected ? 0 : -1;
      col.setAttribute("role", "tabpanel");
      col.setAttribute("aria-labelledby", tab.id);
      col.hidden = slot !== view.selected;
    } else {
      col.setAttribute("role", "group");
      col.setAttribute("aria-labelledby", col.querySelector(".compare-name").id);
      col.hidden = false;
    }
  });
}

function select(view, slot, focus = false) {
  view.selected = (slot + view.tabs.length) % view.tabs.length;
  layout(view);
  if (focus) view.tabs[view.selected].focus();
}

function onTabKey(view, event) {
  const moves = { ArrowRight: view.selected + 1, ArrowLeft: view.selected - 1, Home: 0, End: view.tabs.length - 1 };
  if (!(event.key in moves)) return;
  event.preventDefault();
  select(view, moves[event.key], true);
}

/** A finger moving sideways across the replies shows the next or the previous one. */
function swipes(view, area) {
  let start = null;
  area.addEventListener("touchstart", (event) => {
    const t = event.changedTouches[0];
    start = { x: t.clientX, y: t.clientY };
  }, { passive: true });
  area.addEventListener("touchend", (event) => {
    if (!start || !phone.matches) return;
    const t = event.changedTouches[0];
    const dx = t.clientX - start.x;
    const dy = t.clientY - start.y;
    start = null;
    if (Math.abs(dx) >= SWIPE && Math.abs(dx) > Math.abs(dy)) select(view, view.selected + (dx < 0 ? 1 : -1));
  }, { passive: true });
}

phone.addEventListener("change", () => {
  for (const view of views.values()) if (view.el.isConnected) layout(view);
});

// ---- After the choice ------------------------------------------------------------------

/** The names behind the letters, under the reply the conversation goes on from. */
function placeResult() {
  if (!lastResult) return;
  const node = state.nodes.get(lastResult.chosen);
  if (!node || node.el.parentElement !== messagesEl) return;
  const note = document.createElement("p");
  note.className = "compare-result";
  note.dataset.compare = "result";
  note.textContent = lastResult.text;
  node.el.after(note);
  // The button pressed went with the columns: the keyboard goes on from the message box.
  if (!document.activeElement || document.activeElement === document.body) $("input").focus({ preventScroll: true });
}
