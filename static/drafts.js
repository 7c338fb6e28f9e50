// Unsent drafts, kept in the browser per user and conversation: the next person to sign
// in on the same browser never sees them, and signing out removes them.
import { boot } from "./state.js";

const prefix = `draft:${boot.user}:`;
const key = (conversationId) => `${prefix}${conversationId ?? "new"}`;

export function loadDraft(conversationId) {
  return localStorage.getItem(key(conversationId)) || "";
}

export function saveDraft(conversationId, text) {
  if (text) localStorage.setItem(key(conversationId), text);
  else localStorage.removeItem(key(conversationId));
}

/** Every draft of this user, removed from the browser. */
function forget() {
  for (let i = localStorage.length - 1; i >= 0; i -= 1) {
    const name = localStorage.key(i);
    if (name?.startsWith(prefix)) localStorage.removeItem(name);
  }
}

export function initDrafts() {
  // Drafts from before they were kept per user ("draft:12") belong to nobody we know.
  for (let i = localStorage.length - 1; i >= 0; i -= 1) {
    const name = localStorage.key(i);
    if (name && /^draft:(new|\d+)$/.test(name)) localStorage.removeItem(name);
  }
  document.getElementById("logout")?.addEventListener("submit", () => forget());
}
