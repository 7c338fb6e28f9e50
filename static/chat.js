// The chat page's entry module: wires the modules together, the shortcuts, then connects.
// One websocket, the protocol in docs/protocol.md, no framework. Model output only ever
// arrives as HTML the server sanitized; everything else goes into the page as text.
import { initComparePicker } from "./comparepicker.js";
import { initComposer, stop } from "./composer.js";
import { initDrafts } from "./drafts.js";
import { initJump } from "./jump.js";
import { escapeSidebar, focusSidebar, initLayout } from "./layout.js";
import { escapeMenu, initMenus } from "./menus.js";
import { initMessages } from "./messages.js";
import { initModelPicker, loadModels } from "./modelpicker.js";
import { initNavigation, openConversation } from "./navigation.js";
import { $ } from "./page.js";
import { handle } from "./protocol.js";
import { initProjects } from "./projects.js";
import { initReport, openReport } from "./report.js";
import { initSettings } from "./settings.js";
import { initShortcuts, openShortcuts } from "./shortcuts.js";
import { initSlash } from "./slash.js";
import { focusSearch, initSidebar } from "./sidebar.js";
import { connect } from "./socket.js";
import { isStreaming, state } from "./state.js";
import { initTemporary } from "./temporary.js";
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
  // Ctrl/Cmd+K always searches; "/" and "?" only when they would not be typed into
  // something (in the message box, "/" first opens the prompts: slash.js).
  if ((event.ctrlKey || event.metaKey) && !event.shiftKey && event.key.toLowerCase() === "k") {
    event.preventDefault();
    focusSearch();
    return;
  }
  if (event.ctrlKey || event.metaKey || event.altKey || event.defaultPrevented || typing()) return;
  if (event.key === "/") {
    event.preventDefault();
    focusSearch();
  } else if (event.key === "?" && !document.querySelector("dialog[open]")) {
    event.preventDefault();
    openShortcuts();
  }
}

// Fields that take typed text (a checkbox or a button does not).
const TYPED = "textarea, select, input:not([type=checkbox]):not([type=radio]):not([type=button]):not([type=submit]):not([type=reset]):not([type=range]):not([type=color]):not([type=file])";

/** Whether a key pressed now would be typed into something. */
function typing() {
  const active = document.activeElement;
  return Boolean(active && (active.matches(TYPED) || active.isContentEditable));
}

document.addEventListener("keydown", shortcuts);
// The skip link to the list shows it first where it is folded away or off screen.
$("skip-to-list").addEventListener("click", (event) => {
  event.preventDefault();
  focusSidebar();
});
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
initSlash();
initProjects();
initTemporary();
initSettings();
initModelPicker();
initComparePicker();
initComposer();
initReport();
initShortcuts();
initNavigation();
loadModels();
connect(handle);
initJump();
