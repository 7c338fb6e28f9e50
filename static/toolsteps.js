// Tool steps inside an assistant turn: the calls a reply made and each result, as small
// collapsible cards between the turn's start and its final answer.
import { state } from "./state.js";

/** A tool result as a step of the turn: a card to open for the arguments and result. */
export function buildToolCard(message) {
  const el = document.createElement("article");
  el.className = "message tool step";
  if (message.id !== null) el.dataset.id = message.id;
  const call = state.toolCalls.get(message.tool_call_id) || { name: message.name, arguments: "" };
  const card = document.createElement("details");
  card.className = "tool-card";
  const summary = document.createElement("summary");
  const failed = message.content.startsWith("Error:");
  const record = message.tool_record;
  // Where it ran, how long it took and how it went, when the call was recorded.
  const where = record?.server ? ` (${record.server})` : "";
  const how = record ? ` · ${record.outcome} · ${formatMs(record.duration_ms)}` : "";
  summary.textContent = `Tool · ${call.name}${where}${how} → ${failed ? "error" : message.content.slice(0, 60)}`;
  if (failed) card.classList.add("failed");
  card.appendChild(summary);
  const rows = [
    ["Arguments", prettyJson(call.arguments || record?.arguments)],
    ["Result", message.content],
  ];
  if (record) {
    const server = record.server ? `server ${record.server}, tool ${record.remote_name}` : "built-in";
    rows.push(["Call", `${server} · ${record.outcome} · ${formatMs(record.duration_ms)}`]);
  }
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
    { tool_call: call, result: { role: "tool", tool_call_id: message.tool_call_id, content: message.content }, record },
    null,
    2,
  );
  card.appendChild(raw);
  el.appendChild(card);
  return { el, body: card, reasoning: raw, seq: 0, text: "", stable: 0, message };
}

/** A call the reply made is running: a line that its result replaces. */
export function showRunning(node, call) {
  if (!node || node.el.querySelector(`[data-call="${CSS.escape(call.id)}"]`)) return;
  const line = document.createElement("div");
  line.className = "tool-running";
  line.dataset.call = call.id;
  line.textContent = `Running ${call.name}…`;
  node.el.appendChild(line);
}

/** A call's result came: its running line goes. */
export function doneRunning(toolCallId) {
  document.querySelector(`.tool-running[data-call="${CSS.escape(toolCallId)}"]`)?.remove();
}

function prettyJson(text) {
  try {
    return JSON.stringify(JSON.parse(text || "{}"), null, 2);
  } catch {
    return text;
  }
}

function formatMs(ms) {
  return ms >= 1000 ? `${(ms / 1000).toFixed(1)} s` : `${ms} ms`;
}
