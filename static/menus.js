// Menus and panels: every `details.popover-menu` (the model picker, Tools, Settings, the
// conversation menu, each sidebar item's ⋯). One is open at a time; Esc or a click
// outside closes it, and focus goes back to its button rather than being lost.

/** The open menu, if any. */
export function openMenu() {
  return document.querySelector("details.popover-menu[open]");
}

/** Closes every open menu but `except`. */
export function closeMenus(except = null) {
  for (const menu of document.querySelectorAll("details.popover-menu[open]")) {
    if (menu !== except) menu.open = false;
  }
}

/** Closes a menu and puts focus back on its button. */
export function closeMenu(menu) {
  if (!menu) return;
  menu.open = false;
  menu.querySelector(":scope > summary")?.focus({ preventScroll: true });
}

/** Esc: closes the open menu; says whether there was one. */
export function escapeMenu() {
  const menu = openMenu();
  if (!menu) return false;
  closeMenu(menu);
  return true;
}

const CONTROLS = "a[href], button, input, select, textarea, summary, [contenteditable]";

function nowhere(active) {
  return !active || active === document.body || (active.tabIndex < 0 && !active.matches(CONTROLS));
}

export function initMenus() {
  // `toggle` does not bubble: listen in the capture phase, for menus made later too.
  document.addEventListener(
    "toggle",
    (event) => {
      const menu = event.target;
      if (menu instanceof HTMLDetailsElement && menu.open && menu.classList.contains("popover-menu")) {
        closeMenus(menu);
      }
    },
    true,
  );
  document.addEventListener("pointerdown", (event) => {
    const menu = openMenu();
    if (!menu || menu.contains(event.target)) return;
    menu.open = false;
    // A click on nothing focusable leaves focus nowhere, or on a container focusable only
    // by script (<main tabindex="-1">): give it back to the button.
    setTimeout(() => {
      if (menu.isConnected && nowhere(document.activeElement)) {
        menu.querySelector(":scope > summary")?.focus({ preventScroll: true });
      }
    }, 0);
  });
  // Focus leaving a menu by keyboard (Tab past its end) closes it too; focus going to a
  // container the menu is in (a click on its own text focuses <main>) does not.
  document.addEventListener("focusin", (event) => {
    const menu = openMenu();
    const target = event.target;
    if (!menu || menu.contains(target) || target.contains(menu) || target.closest?.("dialog")) return;
    menu.open = false;
  });
}
