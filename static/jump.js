// Opening a search hit: /conversations/<id>/#message=<mid>&q=<words> shows that message,
// scrolled into view and marked, with the words searched for marked inside it. A message
// older than the first page is reached by loading earlier pages, as scrolling up would; one
// on another version of the conversation (an edited question, a regenerated reply) by
// switching to that version. Everything here watches the page: no frame is handled twice.
import { highlighted } from "./sidebar.js";
import { $, flash } from "./page.js";
import { send } from "./socket.js";
import { state } from "./state.js";

const MAX_PAGES = 2000; // Far beyond any conversation, but an end all the same.
const MAX_MARKS = 200;

export function initJump() {
  jumpFromHash();
  // A hit in the conversation already open changes only the fragment: no new page.
  window.addEventListener("hashchange", jumpFromHash);
}

function jumpFromHash() {
  const params = new URLSearchParams(location.hash.slice(1));
  const wanted = Number(params.get("message"));
  if (!Number.isInteger(wanted) || wanted <= 0 || !state.conversationId) return;
  const words = [...new Set((params.get("q") || "").toLowerCase().match(/[\p{L}\p{N}_]+/gu) || [])];
  const messagesEl = $("messages");
  const older = $("load-older");
  let pages = 0;
  let switched = false;
  const observer = new MutationObserver(look);

  function finish() {
    observer.disconnect();
    history.replaceState(null, "", location.pathname + location.search); // Reloads show the end.
  }

  function look() {
    const found = messagesEl.querySelector(`article.message[data-id="${wanted}"]`);
    if (found) {
      finish();
      show(found, words.slice(0, 8));
      return;
    }
    if (!messagesEl.querySelector("article.message[data-id]") || state.loadingOlder) return;
    if (!older.hidden && pages < MAX_PAGES) {
      pages += 1;
      older.click(); // The page above, exactly as scrolling up would ask for it.
      return;
    }
    if (!switched) {
      switched = true; // Not on the version shown: show the one it is on.
      if (send({ type: "chat.switch", conversation: state.conversationId, message: wanted })) return;
    }
    finish();
    flash("That message is no longer in this conversation.");
  }

  observer.observe(messagesEl, { childList: true });
  observer.observe(older, { attributes: true, attributeFilter: ["hidden"] });
  look(); // It may be on screen already.
}

/** Brings the message into view, marks it, and marks the words searched for in it. */
function show(message, words) {
  state.stickToBottom = false;
  for (const earlier of document.querySelectorAll(".message.search-target")) {
    earlier.classList.remove("search-target");
  }
  message.classList.add("search-target");
  message.tabIndex = -1;
  const body = message.querySelector(".body");
  if (body && words.length) {
    const walker = document.createTreeWalker(body, NodeFilter.SHOW_TEXT);
    const texts = [];
    while (walker.nextNode() && texts.length < MAX_MARKS) texts.push(walker.currentNode);
    for (const text of texts) {
      if (text.parentElement.closest("math, mark")) continue;
      const marked = highlighted(text.textContent, words);
      if (marked.querySelector("mark")) text.replaceWith(marked);
    }
  }
  message.scrollIntoView({ block: "center" });
  message.focus({ preventScroll: true });
}
