// The chat page's entry module: wires the modules together, the shortcuts, then connects.
// One websocket, the protocol in docs/protocol.md, no framework. Model output only ever
// arrives as HTML the server sanitized; everything else goes into the page as text.
import { initComposer, stop } from "./composer.js";
import { initDrafts } from "./drafts.js";
import { initJump } from "./jump.js";
import { escapeSidebar, initLayout } from "./layout.js";
import { escapeMenu, initMenus } from "./menus.js";
import { initMessages } from "./messages.js";
import { initModelPicker, loadModels } from "./modelpicker.js";
import { initNavigation, openConversation } from "./navigation.js";
import { $ } from "./page.js";
import { handle } from "./protocol.js";
import { initReport, openReport } from "./report.js";
import { initSettings } from "./settings.js";
import { focusSearch, initSidebar } from "./sidebar.js";
import { connect } from "./socket.js";
import { isStreaming, state } from "./state.js";
import { initTools } from "./tools.js";

// Esc closes what is open, innermost first; only then does it stop a reply.
function shortcuts(event) {
  if (event.key === "Escape" && !event.defaultPrevented) {
    if (document.querySelector("dialog[open]")) return; // The dialog closes itself.
    if (escapeMenu() || escapeSidebar()) {
      event.preventDefault();
      return;
    }
    if (isStreaming()) stop();
  }
  if ((event.ctrlKey || event.metaKey) && event.shiftKey && event.key.toLowerCase() === "o") {
    event.preventDefault();
    openConversation(null);
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
$("report-conversation").addEventListener("click", (event) => {
  $("export").open = false;
  openReport(state.conversationId, $("export").querySelector("summary"));
  event.preventDefault();
});
initDrafts();
initMenus();
initLayout();
initMessages();
initSidebar();
initTools();
initSettings();
initModelPicker();
initComposer();
initReport();
initNavigation();
loadModels();
connect(handle);
initJump();
