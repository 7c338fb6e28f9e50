// Tool calls that wait for the user's approval: a card under the reply that made the call,
// with the tool, its server and the arguments (as text, never HTML), and Allow / Deny.
import { $ } from "./page.js";
import { send } from "./socket.js";
import { state } from "./state.js";

/** A `tool.approval_requested` frame: show its card (once, however often it comes). */
export function showApproval(frame) {
  if (frame.conversation !== state.conversationId) return;
  if (document.querySelector(`.approval[data-call="${CSS.escape(frame.call_id)}"]`)) return;
  const card = document.createElement("section");
  card.className = "approval";
  card.dataset.call = frame.call_id;
  const headingId = `approval-${frame.call_id.replace(/[^A-Za-z0-9_-]/g, "_")}`;
  card.setAttribute("aria-labelledby", headingId);
  const heading = document.createElement("h3");
  heading.id = headingId;
  heading.textContent = `Allow ${frame.name} on server ${frame.server}?`;
  const note = document.createElement("p");
  note.className = "approval-note";
  const minutes = Math.max(1, Math.round(frame.seconds / 60));
  note.textContent = `This tool can change things. The reply waits for your answer (declined after about ${minutes} min).`;
  const label = document.createElement("div");
  label.className = "tool-label";
  label.textContent = "Arguments";
  const args = document.createElement("pre");
  args.textContent = prettyJson(frame.arguments);
  const actions = document.createElement("div");
  actions.className = "approval-actions";
  const allow = button("Allow", "approve-allow", () => answer(frame, true, card));
  const deny = button("Deny", "approve-deny", () => answer(frame, false, card));
  actions.append(allow, deny);
  card.append(heading, note, label, args, actions);
  const node = state.nodes.get(frame.message);
  (node ? node.el : $("messages")).appendChild(card);
  $("announcer").textContent = `${frame.name} asks for approval.`;
}

/** A `tool.approval_settled` frame: the card goes, whichever tab answered. */
export function settleApproval(frame) {
  document.querySelector(`.approval[data-call="${CSS.escape(frame.call_id)}"]`)?.remove();
}

function answer(frame, approve, card) {
  if (!send({ type: "tool.approve", conversation: frame.conversation, call_id: frame.call_id, approve })) return;
  for (const b of card.querySelectorAll("button")) b.disabled = true;
}

function button(text, className, onClick) {
  const el = document.createElement("button");
  el.type = "button";
  el.className = `button ${className}`;
  el.textContent = text;
  el.addEventListener("click", onClick);
  return el;
}

function prettyJson(text) {
  try {
    return JSON.stringify(JSON.parse(text || "{}"), null, 2);
  } catch {
    return text;
  }
}
