// The one websocket: connect, reconnect with backoff, send frames (docs/protocol.md).
import { setStatus } from "./page.js";
import { state } from "./state.js";

// Set as this tab's sign-out form is sent: the socket's close (4401) is then expected.
let signingOut = false;
document.getElementById("logout")?.addEventListener("submit", () => {
  signingOut = true;
});

let socket = null;
let retryDelay = 500;

/** Opens the socket and keeps it open; every frame the server sends goes to `onFrame`. */
export function connect(onFrame) {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  socket = new WebSocket(`${scheme}://${location.host}/ws/chat/`);
  socket.addEventListener("open", () => {
    retryDelay = 500;
    state.connected = true;
    document.body.dataset.connected = "true"; // Ready for sends (tests wait for it).
    setStatus("");
    if (state.conversationId) send({ type: "conversation.open", conversation: state.conversationId });
    // Anything not yet acknowledged goes again: client_id makes that safe.
    for (const item of state.pending.values()) send(item.frame);
  });
  const parts = new Map(); // A frame too large for one message comes in parts: id -> texts.
  socket.addEventListener("message", (event) => {
    const frame = JSON.parse(event.data);
    if (frame.type !== "frame.part") {
      onFrame(frame);
      return;
    }
    const got = parts.get(frame.id) || [];
    got[frame.index] = frame.data;
    parts.set(frame.id, got);
    if (got.filter((part) => part !== undefined).length === frame.count) {
      parts.delete(frame.id);
      onFrame(JSON.parse(got.join("")));
    }
  });
  socket.addEventListener("close", (event) => {
    state.connected = false;
    delete document.body.dataset.connected;
    if (event.code === 4401) {
      // Signed out elsewhere: to the sign-in page. Signing out here, the form's own answer
      // leads on (to the sign-in provider's sign-out, with single sign-on): let it.
      if (!signingOut) location.href = `/accounts/login/?next=${encodeURIComponent(location.pathname)}`;
      return;
    }
    if (event.code === 4429) {
      // Over a limit (too many tabs open, or too many requests): try again much later.
      setStatus("Disconnected: too many chat tabs are open, or too many requests. Reconnecting in 30 s…");
      setTimeout(() => connect(onFrame), 30000);
      return;
    }
    setStatus("Connection lost. Reconnecting…");
    setTimeout(() => connect(onFrame), retryDelay);
    retryDelay = Math.min(retryDelay * 2, 10000);
  });
}

/** Sends a frame if the socket is open; says whether it went. */
export function send(frame) {
  if (socket && socket.readyState === WebSocket.OPEN) {
    socket.send(JSON.stringify(frame));
    return true;
  }
  return false;
}
