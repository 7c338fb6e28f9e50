// Under a reply: how it ended (failed, stopped, cut off), its facts, and "What was sent".
import { state } from "./state.js";

/** The spoken name holds the word on the button (WCAG 2.5.3, "label in name"), then says more. */
export function spokenName(label, title) {
  const named = !/\p{L}/u.test(label) || title.toLowerCase().includes(label.toLowerCase());
  return named ? title : `${label}: ${title}`;
}

/** A small button that asks for an action on a message ("message-action", see render.js). */
export function actionButton(label, title, kind, message, extra) {
  const b = document.createElement("button");
  b.type = "button";
  b.className = "action";
  b.textContent = label;
  b.title = title;
  b.setAttribute("aria-label", spokenName(label, title));
  b.addEventListener("click", (event) => requestAction(event.currentTarget, kind, message, extra));
  return b;
}

export function requestAction(from, kind, message, extra) {
  from.dispatchEvent(new CustomEvent("message-action", { bubbles: true, detail: { kind, message, extra } }));
}

/** How a reply ended, when it is worth saying: with Retry, or Continue, to act on it. */
export function buildNotice(message) {
  const problems = {
    error: message.error || "The reply failed.",
    stopped: message.error || "Stopped.",
    interrupted: message.error || "This reply was interrupted.",
  };
  let text = problems[message.status];
  const cutOff = message.finish_reason === "length" && message.status === "complete";
  if (cutOff) text = "Cut off at the length limit.";
  if (!text) return null;
  const note = document.createElement("div");
  note.className = `notice ${cutOff ? "cut-off" : message.status}`;
  note.setAttribute("role", message.status === "error" ? "alert" : "note");
  const words = document.createElement("span");
  words.textContent = text;
  note.appendChild(words);
  if (message.status === "error" || message.status === "interrupted") {
    const retry = actionButton("Retry", "Try this reply again", "retry", message);
    retry.className = "retry";
    note.appendChild(retry);
  }
  if (cutOff || (message.content && ["stopped", "interrupted"].includes(message.status))) {
    note.appendChild(actionButton("Continue", "Continue this reply", "continue", message));
  }
  return note;
}

/** Model, tokens and times; then what the request was made of. */
export function buildFooter(message) {
  const footer = document.createElement("div");
  footer.className = "meta";
  const facts = [];
  if (message.model) facts.push(message.model);
  if (message.usage && message.usage.completion_tokens != null) {
    const approx = message.usage.estimated ? "≈" : "";
    facts.push(`${approx}${message.usage.prompt_tokens ?? "?"} → ${approx}${message.usage.completion_tokens} tokens`);
  }
  const timing = message.timing || {};
  if (timing.first_token_ms != null) facts.push(`${(timing.first_token_ms / 1000).toFixed(1)} s to first token`);
  if (timing.total_ms != null) facts.push(`${(timing.total_ms / 1000).toFixed(1)} s total`);
  const unusual = message.finish_reason && !["stop", "length", "tool_calls"].includes(message.finish_reason);
  if (unusual) facts.push(`finish: ${message.finish_reason}`);
  const info = document.createElement("span");
  info.className = "facts";
  info.textContent = facts.join(" · ");
  footer.appendChild(info);
  if (message.request) footer.appendChild(buildSent(message.request));
  return footer;
}

const MODEL_SOURCES = {
  persona: "the persona's",
  conversation: "chosen for this chat",
  default: "the default",
  reply: "the reply's own",
};

// "What was sent": the exact ingredients of this reply's request.
function buildSent(record) {
  const details = document.createElement("details");
  details.className = "sent";
  const summary = document.createElement("summary");
  summary.textContent = "What was sent";
  details.appendChild(summary);
  const list = document.createElement("dl");
  const persona = record.persona ? `${record.persona.name} (version ${record.persona.version})` : "None";
  const own = new Set(record.conversation_settings || []);
  const params = Object.entries(record.params || {})
    .map(([k, v]) => `${k}=${v}${own.has(k) ? " (this chat's)" : ""}`)
    .join(", ") || "provider defaults";
  let tools = record.tools?.length ? `${record.tools.join(", ")} (tool_choice: ${record.tool_choice})` : "None";
  if (record.tools_unsupported?.length) tools += ` (not offered, the model cannot call tools: ${record.tools_unsupported.join(", ")})`;
  if (record.tools_not_allowed?.length) tools += ` (not offered, kept to other groups: ${record.tools_not_allowed.join(", ")})`;
  if (record.tools_unavailable?.length) tools += ` (not offered, no longer available: ${record.tools_unavailable.join(", ")})`;
  // External tools: which server each lives on, and whether its calls ask the user first.
  const external = Object.entries(record.tools_external || {})
    .map(([name, t]) => `${name}: server ${t.server}, tool ${t.remote_name}${t.needs_approval ? ", asks before each call" : ""}`)
    .join("; ");
  // The tool results this request carried, with how each call went (its record).
  const calls = (record.sent || [])
    .map((id) => state.nodes.get(id)?.message)
    .filter((m) => m?.role === "tool" && m.tool_record)
    .map((m) => {
      const r = m.tool_record;
      return `${r.tool}${r.server ? ` (server ${r.server})` : ""}: ${r.outcome}, ${r.duration_ms} ms, arguments ${r.arguments}`;
    })
    .join("; ");
  const source = MODEL_SOURCES[record.model_source];
  const rows = [
    ["Persona", persona],
    ...(record.project ? [["Project", record.project.name]] : []),
    ["Model", source ? `${record.model} (${source})` : record.model],
    ["Parameters", params],
    ["Tools", tools],
    ...(external ? [["External tools", external]] : []),
    ...(calls ? [["Tool calls sent", calls]] : []),
    ["Messages sent", `${record.sent?.length ?? 0}${record.left_out?.length ? `, ${record.left_out.length} left out` : ""}`],
    ["Estimated prompt", `${record.estimated_prompt_tokens ?? "?"} tokens of a ${record.context_window} window`],
  ];
  const files = sentFiles(record);
  if (files.length) rows.push(["Files", files.map((f) => `${f.name} (${f.kind === "image" ? "image" : "text"})`).join(", ")]);
  const continuation = record.continuation;
  if (continuation) {
    const how = continuation.method === "prefill"
      ? "the model was asked to go on writing the reply itself"
      : `the reply so far, then an instruction not shown as yours: “${continuation.instruction}”`;
    rows.push(["Continued", `from character ${continuation.from}: ${how}`]);
  }
  for (const [term, value] of rows) {
    const dt = document.createElement("dt");
    dt.textContent = term;
    const dd = document.createElement("dd");
    dd.textContent = value;
    list.append(dt, dd);
  }
  details.appendChild(list);
  if (record.project?.instructions) {
    // The project's part of the system prompt, as it was when this was sent.
    const theirs = document.createElement("div");
    theirs.className = "project-instructions";
    const heading = document.createElement("strong");
    heading.textContent = `Project instructions (${record.project.name})`;
    const text = document.createElement("pre");
    text.textContent = record.project.instructions;
    theirs.append(heading, text);
    details.appendChild(theirs);
  }
  if (record.custom_instructions) {
    // The user's own part of the system prompt (Settings), as it was when this was sent.
    const mine = document.createElement("div");
    mine.className = "custom-instructions";
    const heading = document.createElement("strong");
    heading.textContent = "Your custom instructions";
    const text = document.createElement("pre");
    text.textContent = record.custom_instructions;
    mine.append(heading, text);
    details.appendChild(mine);
  }
  const prompt = document.createElement("div");
  prompt.className = "system-prompt";
  const label = document.createElement("strong");
  const whose = own.has("system_prompt") ? "System prompt (this chat's)" : "System prompt";
  label.textContent = record.custom_instructions ? `${whose}, as sent (with them)` : whose;
  const pre = document.createElement("pre");
  pre.textContent = record.system_prompt || "(none)";
  prompt.append(label, pre);
  details.appendChild(prompt);
  return details;
}

/** The files that went with the messages of a request: the record's own list when it has
 * one, else those of its sent messages that are on screen. */
function sentFiles(record) {
  if (Array.isArray(record.files)) return record.files;
  const files = new Map();
  for (const id of record.sent || []) {
    for (const file of state.nodes.get(id)?.message.attachments || []) files.set(file.id, file);
  }
  return [...files.values()];
}

/** The first reply of the turn a message ends: what Regenerate writes again. */
export function turnStart(message) {
  let start = message;
  for (;;) {
    const parent = state.nodes.get(start.parent)?.message;
    if (!parent || parent.role === "user" || parent.role === "system") return start;
    start = parent;
  }
}
