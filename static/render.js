// Messages as DOM: bodies, reasoning, tool cards, footers, "What was sent" and actions.
// Model output is only ever the HTML the server sanitized; all else goes in as text.
// Its buttons ask for actions with a bubbling "message-action" event, whose detail is
// {kind: "switch"|"edit"|"regenerate"|"continue", message, extra}.
import { state } from "./state.js";
import { streamInto, streamingParts } from "./stream.js";

/** A message's DOM; the caller keeps the returned node to stream into it. */
export function buildMessage(message) {
  if (message.role === "tool") return buildToolCard(message);
  const el = document.createElement("article");
  el.className = `message ${message.role} status-${message.status}`;
  if (message.id !== null) el.dataset.id = message.id;
  const label = document.createElement("div");
  label.className = "role";
  label.textContent = message.role === "user" ? "You" : "Assistant";
  el.appendChild(label);

  const reasoning = document.createElement("details");
  reasoning.className = "reasoning";
  reasoning.innerHTML = "<summary>Reasoning</summary><pre></pre>";
  reasoning.querySelector("pre").textContent = message.reasoning || "";
  reasoning.hidden = !message.reasoning;
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
    }
  } else {
    body.className = "body plain";
    body.textContent = message.content;
  }
  el.appendChild(body);

  if (message.role === "assistant") {
    for (const call of message.tool_calls || []) {
      state.toolCalls.set(call.id, call);
      const chip = document.createElement("div");
      chip.className = "tool-chip";
      chip.textContent = `${message.status === "streaming" ? "Calling" : "Called"} ${call.name}`;
      el.appendChild(chip);
    }
    const leftOut = message.request?.left_out?.length || 0;
    if (leftOut) {
      const note = document.createElement("div");
      note.className = "left-out";
      note.textContent = `${leftOut} earlier message${leftOut === 1 ? " was" : "s were"} left out to fit the model's context window.`;
      el.insertBefore(note, body);
    }
  }
  if (message.role === "assistant" && message.status !== "streaming") {
    el.appendChild(buildFooter(message));
  }
  if (message.id !== null && message.status !== "streaming" && message.status !== "pending") {
    el.appendChild(buildActions(message, body));
  }
  if (message.role === "assistant") decorateCode(body);
  const node = {
    el, body, reasoning, message, ...parts,
    // null: not lined up with the live deltas (they are skipped until message.completed).
    seq: message.seq === undefined ? 0 : message.seq,
    text: message.content || "",
    stable: message.stable ?? (message.content || "").length,
  };
  if (parts.preview && node.text.length > node.stable) streamInto(node, { content: "" });
  return node;
}

export function button(label, title, run) {
  const b = document.createElement("button");
  b.type = "button";
  b.className = "action";
  b.textContent = label;
  b.title = title;
  // The spoken name holds the word on the button (WCAG 2.5.3, "label in name"), then says more.
  const named = !/\p{L}/u.test(label) || title.toLowerCase().includes(label.toLowerCase());
  b.setAttribute("aria-label", named ? title : `${label}: ${title}`);
  b.addEventListener("click", run);
  return b;
}

// Asks for an action on a message: a bubbling event that composer.js handles on #messages.
function requestAction(from, kind, message, extra) {
  from.dispatchEvent(new CustomEvent("message-action", { bubbles: true, detail: { kind, message, extra } }));
}

function actionButton(label, title, kind, message, extra) {
  return button(label, title, (event) => requestAction(event.currentTarget, kind, message, extra));
}

// Copy, edit or regenerate, continue, and "‹ 2/3 ›" between versions.
function buildActions(message, body) {
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
  bar.appendChild(button("Copy", "Copy message", (event) => copyText(message.content, event.currentTarget)));
  if (message.role === "user") bar.appendChild(actionButton("Edit", "Edit message", "edit", message, body));
  if (message.role === "assistant") {
    bar.appendChild(actionButton("Regenerate", "Write a new version of this reply", "regenerate", message));
    if (message.finish_reason === "length") {
      bar.appendChild(actionButton("Continue", "Continue this reply", "continue", message));
    }
  }
  return bar;
}

async function copyText(text, target) {
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

function decorateCode(body) {
  for (const pre of body.querySelectorAll("pre")) {
    if (pre.querySelector(".copy-code")) continue;
    const copy = button("Copy", "Copy code", (event) => copyText(pre.querySelector("code")?.textContent ?? pre.textContent, event.currentTarget));
    copy.classList.add("copy-code");
    pre.prepend(copy);
  }
}

function buildFooter(message) {
  const footer = document.createElement("div");
  footer.className = "meta";
  const problems = {
    error: message.error || "The reply failed.",
    stopped: "Stopped.",
    interrupted: message.error || "This reply was interrupted.",
  };
  if (problems[message.status]) {
    const note = document.createElement("div");
    note.className = `notice ${message.status}`;
    note.setAttribute("role", message.status === "error" ? "alert" : "note");
    note.textContent = problems[message.status];
    if (message.status === "error" || message.status === "interrupted") {
      const retry = document.createElement("button");
      retry.type = "button";
      retry.className = "retry";
      retry.textContent = "Retry";
      retry.addEventListener("click", (event) => requestAction(event.currentTarget, "regenerate", message));
      note.appendChild(retry);
    }
    footer.appendChild(note);
  }
  const facts = [];
  if (message.model) facts.push(message.model);
  if (message.usage && message.usage.completion_tokens != null) {
    const approx = message.usage.estimated ? "≈" : "";
    facts.push(`${approx}${message.usage.prompt_tokens ?? "?"} → ${approx}${message.usage.completion_tokens} tokens`);
  }
  const timing = message.timing || {};
  if (timing.first_token_ms != null) facts.push(`${(timing.first_token_ms / 1000).toFixed(1)} s to first token`);
  if (timing.total_ms != null) facts.push(`${(timing.total_ms / 1000).toFixed(1)} s total`);
  if (message.finish_reason && message.finish_reason !== "stop") facts.push(`finish: ${message.finish_reason}`);
  const info = document.createElement("span");
  info.className = "facts";
  info.textContent = facts.join(" · ");
  footer.appendChild(info);
  if (message.request) footer.appendChild(buildSent(message.request));
  return footer;
}

// "What was sent": the exact ingredients of this reply's request.
function buildSent(record) {
  const details = document.createElement("details");
  details.className = "sent";
  const summary = document.createElement("summary");
  summary.textContent = "What was sent";
  details.appendChild(summary);
  const list = document.createElement("dl");
  const persona = record.persona ? `${record.persona.name} (version ${record.persona.version})` : "None";
  const params = Object.entries(record.params || {}).map(([k, v]) => `${k}=${v}`).join(", ") || "provider defaults";
  let tools = record.tools?.length ? `${record.tools.join(", ")} (tool_choice: ${record.tool_choice})` : "None";
  if (record.tools_unsupported?.length) tools += ` (not offered, the model cannot call tools: ${record.tools_unsupported.join(", ")})`;
  const rows = [
    ["Persona", persona],
    ["Model", record.model],
    ["Parameters", params],
    ["Tools", tools],
    ["Messages sent", `${record.sent?.length ?? 0}${record.left_out?.length ? `, ${record.left_out.length} left out` : ""}`],
    ["Estimated prompt", `${record.estimated_prompt_tokens ?? "?"} tokens of a ${record.context_window} window`],
  ];
  for (const [term, value] of rows) {
    const dt = document.createElement("dt");
    dt.textContent = term;
    const dd = document.createElement("dd");
    dd.textContent = value;
    list.append(dt, dd);
  }
  details.appendChild(list);
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
  label.textContent = record.custom_instructions ? "System prompt, as sent (with them)" : "System prompt";
  const pre = document.createElement("pre");
  pre.textContent = record.system_prompt || "(none)";
  prompt.append(label, pre);
  details.appendChild(prompt);
  return details;
}

function buildToolCard(message) {
  const el = document.createElement("article");
  el.className = "message tool";
  if (message.id !== null) el.dataset.id = message.id;
  const call = state.toolCalls.get(message.tool_call_id) || { name: message.name, arguments: "" };
  const card = document.createElement("details");
  card.className = "tool-card";
  const summary = document.createElement("summary");
  const failed = message.content.startsWith("Error:");
  summary.textContent = `Tool · ${call.name} → ${failed ? "error" : message.content.slice(0, 60)}`;
  card.appendChild(summary);
  const rows = [
    ["Arguments", prettyJson(call.arguments)],
    ["Result", message.content],
  ];
  for (const [title, text] of rows) {
    const label = document.createElement("div");
    label.className = "tool-label";
    label.textContent = title;
    const pre = document.createElement("pre");
    pre.textContent = text;
    card.append(label, pre);
  }
  const raw = document.createElement("details");
  raw.className = "raw";
  raw.innerHTML = "<summary>Raw JSON</summary><pre></pre>";
  raw.querySelector("pre").textContent = JSON.stringify(
    { tool_call: call, result: { role: "tool", tool_call_id: message.tool_call_id, content: message.content } },
    null,
    2,
  );
  card.appendChild(raw);
  el.appendChild(card);
  return { el, body: card, reasoning: raw, seq: 0, text: "", stable: 0, message };
}

function prettyJson(text) {
  try {
    return JSON.stringify(JSON.parse(text || "{}"), null, 2);
  } catch {
    return text;
  }
}

function typingDots() {
  const dots = document.createElement("span");
  dots.className = "typing";
  dots.setAttribute("aria-label", "Writing");
  dots.textContent = "…";
  return dots;
}

