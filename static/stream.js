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

/** The open block's text: what follows the first `stable` characters. The server counts
 * characters as Unicode code points (Python's), a JavaScript string in UTF-16 code units,
 * two for an emoji or any character beyond U+FFFF: the count is converted here, walking
 * on from where the last conversion ended (`stable` only grows while a reply streams). */
export function openText(node) {
  const text = node.text || "";
  const goal = node.stable || 0;
  let { points, units } = node.stableAt && node.stableAt.points <= goal ? node.stableAt : { points: 0, units: 0 };
  while (points < goal && units < text.length) {
    const code = text.charCodeAt(units);
    const pair = code >= 0xd800 && code <= 0xdbff && (text.charCodeAt(units + 1) & 0xfc00) === 0xdc00;
    units += pair ? 2 : 1;
    points += 1;
  }
  node.stableAt = { points, units };
  return text.slice(units);
}

function preview(node) {
  node.previewQueued = false;
  if (!node.preview?.isConnected) return; // Finished, or no longer on screen.
  const started = performance.now();
  const open = openText(node);
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
