// The sidebar: on a phone an overlay with a close button, closed by Esc or a tap beside
// it (the tap never reaches the page under it); on a desktop a column that folds away.
import { $ } from "./page.js";

const phone = window.matchMedia("(max-width: 768px)");
const body = document.body;
const sidebar = $("sidebar");
const main = document.querySelector(".main");
const toggle = $("toggle-sidebar");
const backdrop = $("sidebar-backdrop");
const COLLAPSED_KEY = "chat:sidebar-collapsed";

export function sidebarOpenOnPhone() {
  return phone.matches && body.classList.contains("sidebar-open");
}

/** Opens or closes the phone overlay; focus goes into it, and back to ☰ after. */
function setOpen(open, { focus = true } = {}) {
  body.classList.toggle("sidebar-open", open);
  sync();
  if (!focus) return;
  if (open) $("close-sidebar").focus();
  else toggle.focus();
}

/** Closes the phone overlay (a conversation was opened from it, say). */
export function closeSidebarOnPhone() {
  if (sidebarOpenOnPhone()) setOpen(false, { focus: false });
}

/** Esc: closes the phone overlay; says whether it was open. */
export function escapeSidebar() {
  if (!sidebarOpenOnPhone()) return false;
  setOpen(false);
  return true;
}

/** The skip link's target: the list is shown (the phone's overlay opened, a folded column
 * unfolded) and focus goes into it. */
export function focusSidebar() {
  if (phone.matches) {
    setOpen(true);
    return;
  }
  if (body.classList.contains("sidebar-collapsed")) setCollapsed(false);
  sidebar.focus();
}

function setCollapsed(collapsed) {
  body.classList.toggle("sidebar-collapsed", collapsed);
  if (collapsed) localStorage.setItem(COLLAPSED_KEY, "1");
  else localStorage.removeItem(COLLAPSED_KEY);
  sync();
}

/** Brings labels, inertness and the backdrop in line with the layout. */
function sync() {
  const open = phone.matches
    ? body.classList.contains("sidebar-open")
    : !body.classList.contains("sidebar-collapsed");
  toggle.setAttribute("aria-expanded", String(open));
  toggle.setAttribute("aria-label", open ? "Hide the conversation list" : "Show the conversation list");
  const overlay = phone.matches && open;
  backdrop.hidden = !overlay;
  // Only what is on top can be reached: the overlay, or the page without the hidden list.
  main.inert = overlay;
  sidebar.inert = !open;
}

export function initLayout() {
  if (localStorage.getItem(COLLAPSED_KEY)) body.classList.add("sidebar-collapsed");
  toggle.addEventListener("click", () => {
    if (phone.matches) setOpen(!body.classList.contains("sidebar-open"));
    else setCollapsed(!body.classList.contains("sidebar-collapsed"));
  });
  $("close-sidebar").addEventListener("click", () => setOpen(false));
  backdrop.addEventListener("click", () => setOpen(false));
  phone.addEventListener("change", () => {
    body.classList.remove("sidebar-open");
    sync();
  });
  sync();
}
