// A streaming reply that waits for its provider says so (`message.waiting`): silent for so
// many seconds, or refused for now and tried again in so many. The page counts the seconds
// itself; the next delta, or the reply's end, takes the note away.

/** Shows (or updates) what a streaming reply's node waits for. */
export function showWaiting(node, wait) {
  clearWaiting(node);
  const note = document.createElement("div");
  note.className = "waiting";
  note.setAttribute("role", "status"); // Said once when it appears, not at every second.
  const text = document.createElement("span");
  note.appendChild(text);
  const started = Date.now();
  const tick = () => {
    if (!note.isConnected) return stop();
    const passed = Math.floor((Date.now() - started) / 1000);
    text.textContent = describe(wait, passed);
  };
  const timer = setInterval(tick, 1000);
  const stop = () => clearInterval(timer);
  node.waiting = { note, stop };
  tick();
  node.body.after(note);
}

/** The provider was heard from again (or the reply ended): the note goes. */
export function clearWaiting(node) {
  if (!node.waiting) return;
  node.waiting.stop();
  node.waiting.note.remove();
  node.waiting = null;
}

function describe(wait, passed) {
  if (wait.state === "retrying") {
    const left = Math.max(0, wait.seconds - passed);
    const reason = wait.reason ? `${wait.reason} ` : "The model provider is busy. ";
    return left > 0 ? `${reason}Trying again in ${left} s.` : `${reason}Trying again now…`;
  }
  return `Waiting for the model provider… ${wait.seconds + passed} s`;
}
