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
import { initTools } from "./tools.js";

function shortcuts(event) {
  if (event.key === "Escape" && isStreaming()) stop();
  if ((event.ctrlKey || event.metaKey) && event.shiftKey && event.key.toLowerCase() === "o") {
    event.preventDefault();
    location.href = "/";
  }
  const typing = ["INPUT", "TEXTAREA", "SELECT"].includes(document.activeElement?.tagName);
  if (event.key === "/" && !typing) {
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
