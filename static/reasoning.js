// A reply's reasoning: "Thinking… 12 s" with its latest line while the model reasons,
// "Thought for 12 s" after, the whole text inside the disclosure.

const thinking = new Set(); // Nodes whose reasoning is live; one timer ticks for them all.
let ticker = null;

const seconds = (ms) => (ms < 500 ? "< 1 s" : `${Math.round(ms / 1000)} s`);

/** The disclosure for a message's reasoning (hidden when it has none). */
export function buildReasoning(message) {
  const details = document.createElement("details");
  details.className = "reasoning";
  const summary = document.createElement("summary");
  const label = document.createElement("span");
  label.className = "reasoning-label";
  const latest = document.createElement("span");
  latest.className = "reasoning-latest";
  summary.append(label, latest);
  const pre = document.createElement("pre");
  pre.textContent = message.reasoning || "";
  details.append(summary, pre);
  details.hidden = !message.reasoning;
  const ms = message.timing?.reasoning_ms;
  label.textContent = ms != null ? `Thought for ${seconds(ms)}` : "Reasoning";
  return details;
}

/** A streaming reply shown with reasoning and no answer yet is still thinking. */
export function resumeThinking(node) {
  const message = node.message;
  if (message.status === "streaming" && message.reasoning && !message.content) {
    startThinking(node, Date.parse(message.created_at) || Date.now());
  }
}

function startThinking(node, since) {
  node.thinkingSince = since;
  thinking.add(node);
  tick();
  ticker ??= setInterval(tick, 1000);
}

/** New reasoning text arrived. */
export function addReasoning(node, text) {
  node.reasoning.hidden = false;
  const pre = node.reasoning.querySelector("pre");
  pre.textContent += text;
  if (node.thinkingSince == null && !node.text) startThinking(node, Date.now());
  const lines = pre.textContent.split("\n").map((line) => line.trim()).filter(Boolean);
  const last = lines.at(-1) || "";
  node.reasoning.querySelector(".reasoning-latest").textContent = last.length > 140 ? `…${last.slice(-140)}` : last;
}

/** The answer began (or the reply ended): the thinking is over. */
export function stopThinking(node) {
  if (!thinking.delete(node)) return;
  node.reasoning.querySelector(".reasoning-label").textContent = `Thought for ${seconds(Date.now() - node.thinkingSince)}`;
  node.reasoning.querySelector(".reasoning-latest").textContent = "";
}

function tick() {
  for (const node of thinking) {
    if (!node.el.isConnected) {
      thinking.delete(node);
      continue;
    }
    node.reasoning.querySelector(".reasoning-label").textContent = `Thinking… ${seconds(Date.now() - node.thinkingSince)}`;
  }
  if (!thinking.size) {
    clearInterval(ticker);
    ticker = null;
  }
}
