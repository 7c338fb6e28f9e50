// The chat page: one websocket, the protocol in docs/protocol.md, no framework.
// Model output only ever arrives as HTML the server sanitized; everything else
// goes into the page as text.
(() => {
  "use strict";

  const boot = JSON.parse(document.getElementById("boot").textContent);
  const $ = (id) => document.getElementById(id);
  const messagesEl = $("messages");
  const input = $("input");
  const sendButton = $("send");
  const stopButton = $("stop");
  const personaSelect = $("persona");
  const modelSelect = $("model");
  const statusEl = $("status");
  const announcer = $("announcer");
  const toolsList = $("tools-list");
  const toolChoice = $("tool-choice");
  const toolCalls = new Map(); // tool call id -> {name, arguments}
  const olderButton = $("load-older");
  let loadingOlder = false;

  let conversationId = boot.conversation;
  let socket = null;
  let retryDelay = 500;
  let streamingId = null;
  let stickToBottom = true;
  const nodes = new Map(); // message id -> {el, body, tail, reasoning, seq}
  const pending = new Map(); // client_id -> {frame, el}
  const titles = new Map(); // conversation id -> title, from conversation.created

  // ---- the socket -------------------------------------------------------

  function connect() {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    socket = new WebSocket(`${scheme}://${location.host}/ws/chat/`);
    socket.addEventListener("open", () => {
      retryDelay = 500;
      document.body.dataset.connected = "true"; // Ready for sends (tests wait for it).
      setStatus("");
      if (conversationId) send({ type: "conversation.open", conversation: conversationId });
      // Anything not yet acknowledged goes again: client_id makes that safe.
      for (const item of pending.values()) send(item.frame);
    });
    socket.addEventListener("message", (event) => handle(JSON.parse(event.data)));
    socket.addEventListener("close", (event) => {
      delete document.body.dataset.connected;
      if (event.code === 4401) {
        location.href = `/accounts/login/?next=${encodeURIComponent(location.pathname)}`;
        return;
      }
      setStatus("Connection lost. Reconnecting…");
      setTimeout(connect, retryDelay);
      retryDelay = Math.min(retryDelay * 2, 10000);
    });
  }

  function send(frame) {
    if (socket && socket.readyState === WebSocket.OPEN) {
      socket.send(JSON.stringify(frame));
      return true;
    }
    return false;
  }

  const handlers = {
    "conversation.created": (f) => {
      titles.set(f.conversation, f.title);
      Sidebar.upsert(f);
    },
    "conversation.updated": (f) => {
      Sidebar.upsert(f);
      if (f.conversation === conversationId) setTitle(f.title);
    },
    "conversation.deleted": (f) => {
      Sidebar.remove(f.conversation);
      if (f.conversation === conversationId) location.href = "/";
    },
    "conversation.history": (f) => {
      if (f.conversation !== conversationId) return;
      loadingOlder = false;
      const before = messagesEl.scrollHeight;
      const first = firstMessageElement();
      for (const message of f.messages) {
        if (nodes.has(message.id)) continue;
        const el = buildMessage(message);
        messagesEl.insertBefore(el, first);
      }
      messagesEl.scrollTop += messagesEl.scrollHeight - before;
      olderButton.hidden = !f.has_more;
    },
    "conversation.state": (f) => {
      if (f.conversation !== conversationId) return;
      for (const id of [...nodes.keys()]) removeNode(id);
      setTitle(f.title);
      selectOption(personaSelect, f.persona ?? "");
      applyPersonaTools();
      selectOption(modelSelect, f.model, true);
      streamingId = null;
      for (const message of f.messages) renderMessage(message);
      olderButton.hidden = !f.has_more;
      setStreaming(streamingId);
      scrollToEnd(true);
    },
    "message.created": (f) => {
      const item = f.message.client_id && pending.get(f.message.client_id);
      if (item) {
        pending.delete(f.message.client_id);
        item.el?.remove();
        if (conversationId === null) adoptConversation(f.conversation);
      }
      if (f.conversation !== conversationId) return;
      Sidebar.touch(f.conversation);
      // A new version replaces everything after its parent on screen, and joins its siblings.
      const old = [...nodes.values()].find((n) => n.message && n.message.parent === f.message.parent && n.message.id !== f.message.id);
      f.message.siblings = old ? [...new Set([...(old.message.siblings || [old.message.id]), f.message.id])] : [f.message.id];
      dropAfter(f.message.parent);
      renderMessage(f.message);
      setStreaming(streamingId);
      scrollToEnd();
    },
    "message.delta": (f) => {
      const node = nodes.get(f.message);
      if (!node || f.seq <= node.seq) return; // Already in the state we were sent.
      node.seq = f.seq;
      node.body.querySelector(".typing")?.remove();
      if (f.reasoning) {
        node.reasoning.hidden = false;
        node.reasoning.querySelector("pre").textContent += f.reasoning;
      }
      if (f.html !== undefined) {
        node.body.innerHTML = f.html;
        node.tail.textContent = "";
        node.body.appendChild(node.tail);
      } else if (f.content) {
        node.tail.textContent += f.content;
        if (!node.tail.isConnected) node.body.appendChild(node.tail);
      }
      scrollToEnd();
    },
    "message.completed": (f) => {
      if (f.conversation !== conversationId) return;
      const old = nodes.get(f.message.id);
      f.message.siblings = old?.message?.siblings || [f.message.id];
      const el = buildMessage(f.message);
      if (old) old.el.replaceWith(el); else messagesEl.appendChild(el);
      // A reply that called tools is followed by their results and another reply.
      const toolsNext = f.message.status === "complete" && f.message.tool_calls?.length > 0;
      if (streamingId === f.message.id || streamingId === "tools") setStreaming(toolsNext ? "tools" : null);
      announce(f.message);
      scrollToEnd();
    },
    "message.tool_call": (f) => {
      toolCalls.set(f.tool_call.id, f.tool_call);
    },
    "message.tool_result": (f) => {
      if (f.conversation !== conversationId) return;
      renderMessage(f.message);
      scrollToEnd();
    },
    error: (f) => {
      if (f.message_id !== undefined) return; // Shown on the reply itself.
      const item = f.client_id && pending.get(f.client_id);
      if (item) {
        // Nothing was saved: give the text back rather than lose it.
        pending.delete(f.client_id);
        item.el?.remove();
        if (!input.value) input.value = item.frame.content;
        autoGrow();
      }
      flash(f.message);
    },
  };

  function handle(frame) {
    const handler = handlers[frame.type];
    if (handler) handler(frame);
  }

  // ---- sending ----------------------------------------------------------

  function newClientId() {
    if (crypto.randomUUID) return crypto.randomUUID();
    return [...crypto.getRandomValues(new Uint8Array(16))].map((b) => b.toString(16).padStart(2, "0")).join("");
  }

  function submit() {
    const content = input.value;
    if (!content.trim() || streamingId !== null) return;
    if (content.length > boot.maxChars) {
      flash(`The message is too long (${content.length} of ${boot.maxChars} characters).`);
      return;
    }
    const frame = {
      type: "chat.send",
      client_id: newClientId(),
      conversation: conversationId,
      content,
      model: modelSelect.value || null,
    };
    if (personaSelect.value) frame.persona = Number(personaSelect.value);
    frame.tools = chosenTools();
    frame.tool_choice = toolChoice.value;
    const el = buildMessage({ id: null, role: "user", content, status: "pending" });
    messagesEl.appendChild(el);
    pending.set(frame.client_id, { frame, el });
    input.value = "";
    saveDraft();
    autoGrow();
    $("empty").hidden = true;
    scrollToEnd(true);
    if (!send(frame)) setStatus("Not connected. Your message will be sent when the connection is back.");
  }

  function stop() {
    if (conversationId && streamingId !== null) send({ type: "chat.stop", conversation: conversationId });
  }

  function adoptConversation(id) {
    conversationId = id;
    history.replaceState(null, "", `/conversations/${id}/`);
    setTitle(titles.get(id));
    $("export-json").href = `/conversations/${id}/export.json`;
    $("export-md").href = `/conversations/${id}/export.md`;
    $("export").hidden = false;
    Sidebar.setCurrent(id);
  }

  // ---- rendering --------------------------------------------------------

  function buildMessage(message) {
    const node = Render.message(message);
    if (message.id !== null) {
      nodes.set(message.id, node);
      if (message.status === "streaming") streamingId = message.id;
    }
    return node.el;
  }

  // What the buttons under a message do.
  function onAction(kind, message, extra) {
    if (kind === "switch") switchTo(extra);
    if (kind === "edit") startEdit(message, extra);
    if (kind === "regenerate") {
      send({ type: "chat.regenerate", conversation: conversationId, message: message.id, tools: chosenTools(), tool_choice: toolChoice.value });
    }
    if (kind === "continue") {
      input.value = "Continue exactly where you stopped.";
      submit();
    }
  }

  function switchTo(id) {
    if (id !== undefined && streamingId === null) send({ type: "chat.switch", conversation: conversationId, message: id });
  }

  function startEdit(message, body) {
    if (streamingId !== null) return;
    const editor = document.createElement("div");
    editor.className = "editor";
    const area = document.createElement("textarea");
    area.value = message.content;
    area.setAttribute("aria-label", "Edit message");
    const save = Render.button("Save and send", "Save and send", () => {
      if (!area.value.trim()) return;
      const frame = {
        type: "chat.edit", client_id: newClientId(), conversation: conversationId, message: message.id,
        content: area.value, tools: chosenTools(), tool_choice: toolChoice.value, model: modelSelect.value || null,
      };
      if (personaSelect.value) frame.persona = Number(personaSelect.value);
      pending.set(frame.client_id, { frame, el: null });
      send(frame);
    });
    const cancel = Render.button("Cancel", "Cancel editing", () => editor.replaceWith(body));
    area.addEventListener("keydown", (event) => {
      if (event.key === "Escape") cancel.click();
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        save.click();
      }
    });
    editor.append(area, save, cancel);
    body.replaceWith(editor);
    area.focus();
  }

  function renderMessage(message) {
    if (nodes.has(message.id)) removeNode(message.id);
    $("empty").hidden = true;
    messagesEl.appendChild(buildMessage(message));
  }

  function removeNode(id) {
    const node = nodes.get(id);
    if (node) node.el.remove();
    nodes.delete(id);
  }

  function dropAfter(parentId) {
    if (parentId == null) {
      // A new first message: nothing before it stays.
      for (const id of [...nodes.keys()]) removeNode(id);
      return;
    }
    if (!nodes.has(parentId)) return;
    let el = nodes.get(parentId).el.nextElementSibling;
    while (el) {
      const next = el.nextElementSibling;
      if (el.dataset.id) removeNode(Number(el.dataset.id));
      el = next;
    }
  }

  function setStreaming(id) {
    streamingId = id;
    stopButton.hidden = id === null;
    sendButton.hidden = id !== null;
  }

  function announce(message) {
    // One polite announcement per finished reply, never one per token.
    const text = message.status === "error" ? `Error: ${message.error}` : message.content.slice(0, 500);
    announcer.textContent = text;
  }

  // ---- page chrome ------------------------------------------------------

  function setTitle(title) {
    $("title").textContent = title || "Chat";
    document.title = title || "Chat";
  }

  function firstMessageElement() {
    return olderButton.nextElementSibling;
  }

  function loadOlder() {
    const first = [...nodes.values()].map((n) => n.el).find((el) => el === firstMessageElement());
    const id = first ? Number(first.dataset.id) : null;
    if (loadingOlder || !id || olderButton.hidden) return;
    loadingOlder = true;
    send({ type: "conversation.history", conversation: conversationId, before: id });
  }

  function selectOption(select, value, addMissing = false) {
    if (value === undefined || value === null) return;
    const text = String(value);
    if (addMissing && text && ![...select.options].some((o) => o.value === text)) {
      select.add(new Option(text, text));
    }
    select.value = text;
  }

  async function loadModels() {
    try {
      const response = await fetch("/models.json", { credentials: "same-origin" });
      if (!response.ok) return;
      const data = await response.json();
      const current = modelSelect.value;
      modelSelect.innerHTML = "";
      for (const model of data.models) modelSelect.add(new Option(model.name, model.id));
      selectOption(modelSelect, current || data.default, true);
    } catch {
      // The picker keeps the current model; sending still works.
    }
  }

  function setStatus(text) {
    statusEl.textContent = text;
    statusEl.hidden = !text;
  }

  let flashTimer = null;
  function flash(text) {
    setStatus(text);
    clearTimeout(flashTimer);
    flashTimer = setTimeout(() => setStatus(socket.readyState === WebSocket.OPEN ? "" : statusEl.textContent), 6000);
  }

  function scrollToEnd(force = false) {
    if (force || stickToBottom) messagesEl.scrollTop = messagesEl.scrollHeight;
  }

  messagesEl.addEventListener("scroll", () => {
    // Follow the reply only while the reader is at the bottom.
    stickToBottom = messagesEl.scrollHeight - messagesEl.scrollTop - messagesEl.clientHeight < 40;
  });

  function renderToolsMenu() {
    for (const tool of boot.tools) {
      const label = document.createElement("label");
      label.className = "tool-option";
      const box = document.createElement("input");
      box.type = "checkbox";
      box.value = tool.name;
      box.addEventListener("change", updateToolsCount);
      const name = document.createElement("strong");
      name.textContent = tool.name;
      const description = document.createElement("span");
      description.textContent = tool.description;
      label.append(box, name, description);
      toolsList.appendChild(label);
      toolChoice.add(new Option(`always call ${tool.name}`, tool.name));
    }
  }

  function chosenTools() {
    return [...toolsList.querySelectorAll("input:checked")].map((box) => box.value);
  }

  function updateToolsCount() {
    const count = chosenTools().length;
    $("tools-count").textContent = count ? `(${count})` : "";
  }

  function applyPersonaTools() {
    // A persona's tools are the default; the menu can change them for each message.
    const persona = boot.personas[personaSelect.value];
    const tools = new Set(persona ? persona.tools : []);
    for (const box of toolsList.querySelectorAll("input")) box.checked = tools.has(box.value);
    toolChoice.value = persona ? persona.tool_choice : "auto";
    updateToolsCount();
  }

  const draftKey = () => `draft:${conversationId ?? "new"}`;
  function saveDraft() {
    if (input.value) localStorage.setItem(draftKey(), input.value);
    else localStorage.removeItem(draftKey());
  }

  function autoGrow() {
    input.style.height = "auto";
    input.style.height = `${Math.min(input.scrollHeight, 240)}px`;
  }

  $("composer").addEventListener("submit", (event) => {
    event.preventDefault();
    submit();
  });
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      submit();
    }
  });
  input.addEventListener("input", () => {
    autoGrow();
    saveDraft();
  });
  stopButton.addEventListener("click", stop);
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && streamingId !== null) stop();
    if ((event.ctrlKey || event.metaKey) && event.shiftKey && event.key.toLowerCase() === "o") {
      event.preventDefault();
      location.href = "/";
    }
    const typing = ["INPUT", "TEXTAREA", "SELECT"].includes(document.activeElement?.tagName);
    if (event.key === "/" && !typing) {
      event.preventDefault();
      Sidebar.focusSearch();
    }
  });
  olderButton.addEventListener("click", loadOlder);
  new IntersectionObserver((entries) => {
    if (entries.some((entry) => entry.isIntersecting)) loadOlder();
  }, { root: messagesEl }).observe(olderButton);
  $("toggle-sidebar").addEventListener("click", (event) => {
    const open = document.body.classList.toggle("sidebar-open");
    event.currentTarget.setAttribute("aria-expanded", String(open));
  });

  Sidebar.init({ send, current: conversationId, conversations: boot.conversations });
  Render.init({ toolCalls, onAction });
  personaSelect.addEventListener("change", applyPersonaTools);
  renderToolsMenu();
  applyPersonaTools();
  input.value = localStorage.getItem(draftKey()) || "";
  autoGrow();
  loadModels();
  connect();
})();
