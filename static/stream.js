// A reply as it streams: finished Markdown blocks arrive as HTML the server sanitized and
// are shown as they are; only the block still being written is previewed here, with the
// vendored markdown-it and DOMPurify, exactly where its final HTML will put it.
import { ALLOWED, md } from "./markdown.js";
import DOMPurify from "./vendor/purify.min.js";

const MIN_INTERVAL = 50; // ms between previews at least; more when previews cost more.

/** Adds a delta's finished blocks and new text to a streaming reply's node. */
export function streamInto(node, frame) {
  node.text = (node.text || "") + (frame.content || "");
  if (frame.blocks !== undefined) {
    node.done.insertAdjacentHTML("beforeend", frame.blocks); // Sanitized by the server (nh3).
    node.stable = frame.stable;
  }
  schedulePreview(node);
}

/** The open block, previewed: soon, but never more often than its cost allows. */
function schedulePreview(node) {
  if (node.previewQueued) return;
  node.previewQueued = true;
  const wait = Math.max(MIN_INTERVAL, 4 * (node.previewCost || 0));
  setTimeout(() => requestAnimationFrame(() => preview(node)), wait);
}

function preview(node) {
  node.previewQueued = false;
  if (!node.preview.isConnected) return;
  const started = performance.now();
  const open = (node.text || "").slice(node.stable || 0);
  node.preview.innerHTML = DOMPurify.sanitize(md.render(open), ALLOWED);
  node.previewCost = performance.now() - started;
}

/** The parts of an assistant body a stream writes into: finished blocks, then the preview. */
export function streamingParts(body, html) {
  const done = document.createElement("div");
  done.className = "done";
  done.innerHTML = html || ""; // Sanitized by the server (nh3).
  const previewEl = document.createElement("div");
  previewEl.className = "preview";
  body.append(done, previewEl);
  return { done, preview: previewEl };
}
