// The chat page's entry module: wires the modules together, the shortcuts, then connects.
// One websocket, the protocol in docs/protocol.md, no framework. Model output only ever
// arrives as HTML the server sanitized; everything else goes into the page as text.
import { initComposer, stop } from "./composer.js";
import { initMessages } from "./messages.js";
import { $, loadModels } from "./page.js";
import { handle } from "./protocol.js";
import { focusSearch, initSidebar } from "./sidebar.js";
import { connect } from "./socket.js";
import { isStreaming } from "./state.js";
import { initJump } from "./jump.js";
import { initTools } from "./tools.js";

function shortcuts(event) {
  if (event.key === "Escape" && isStreaming()) stop();
  if ((event.ctrlKey || event.metaKey) && event.shiftKey && event.key.toLowerCase() === "o") {
    event.preventDefault();
    location.href = "/";
  }
  // Ctrl/Cmd+K always searches; "/" only when it would not be typed into something (an
  // empty message box counts as nothing typed yet).
  if ((event.ctrlKey || event.metaKey) && !event.shiftKey && event.key.toLowerCase() === "k") {
    event.preventDefault();
    focusSearch();
    return;
  }
  const active = document.activeElement;
  const typing =
    ["INPUT", "TEXTAREA", "SELECT"].includes(active?.tagName) || active?.isContentEditable;
  const emptyComposer = active?.id === "input" && !active.value;
  if (event.key === "/" && !event.ctrlKey && !event.metaKey && (!typing || emptyComposer)) {
    event.preventDefault();
    focusSearch();
  }
}

document.addEventListener("keydown", shortcuts);
$("toggle-sidebar").addEventListener("click", (event) => {
  const open = document.body.classList.toggle("sidebar-open");
  event.currentTarget.setAttribute("aria-expanded", String(open));
});
initMessages();
initSidebar();
initTools();
initComposer();
loadModels();
connect(handle);
initJump();
