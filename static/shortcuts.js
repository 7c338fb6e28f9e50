// The keyboard shortcuts dialog: "?" (when nothing is being typed) or its button in the
// sidebar opens it; Esc, Close or a click beside it closes it, and focus goes back to where
// it was. It is a native modal dialog: the page behind it is inert while it is open.
import { $ } from "./page.js";

const dialog = $("shortcuts-dialog");
const FOCUSABLE = "a[href], button:not([disabled]), input:not([disabled]), select, textarea, [tabindex]:not([tabindex='-1'])";
let opener = null;

/** Opens the list of shortcuts, unless a dialog is open already. */
export function openShortcuts() {
  if (document.querySelector("dialog[open]")) return;
  opener = document.activeElement;
  dialog.showModal();
}

/** Tab from the dialog's last control goes to its first, Shift+Tab from its first to its
 * last: inert as the page is, Tab would otherwise leave for the browser's own controls. */
function keepFocusInside(event) {
  if (event.key !== "Tab") return;
  const stops = [...dialog.querySelectorAll(FOCUSABLE)].filter((el) => el.getClientRects().length);
  if (!stops.length) return;
  const [first, last] = [stops[0], stops[stops.length - 1]];
  const inside = dialog.contains(document.activeElement) && document.activeElement !== dialog;
  if (event.shiftKey && (!inside || document.activeElement === first)) {
    event.preventDefault();
    last.focus();
  } else if (!event.shiftKey && (!inside || document.activeElement === last)) {
    event.preventDefault();
    first.focus();
  }
}

export function initShortcuts() {
  $("show-shortcuts").addEventListener("click", openShortcuts);
  dialog.addEventListener("keydown", keepFocusInside);
  dialog.addEventListener("close", () => {
    const back = opener;
    opener = null;
    if (back?.isConnected && back !== document.body) back.focus({ preventScroll: true });
  });
  // A click on the backdrop (outside the dialog's box) closes it.
  dialog.addEventListener("click", (event) => {
    if (event.target === dialog) dialog.close();
  });
}
