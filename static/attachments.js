// Files on the composer: the paperclip, paste and drop; each file uploads at once (POST
// /api/files) and shows as a chip with its name, size and a remove button. The chips'
// ids go with the next message; what the server refuses is said in its own words.
import { csrfToken } from "./http.js";
import { icon } from "./icons.js";
import { $ } from "./page.js";
import { state } from "./state.js";

const composer = $("composer");
const chips = $("attachments");
const picker = $("attach-input");
const problem = $("attach-problem");

// The most files one message may hold (the server's CHAT_MAX_FILES_PER_MESSAGE; it checks).
const maxFiles = () => Number(chips.dataset.max) || 10;
// The largest file (CHAT_MAX_FILE_BYTES): the page refuses a larger one itself, with the
// numbers, rather than send megabytes the server will refuse (a proxy's body limit may
// even cut such an upload off with no words to read).
const maxBytes = () => Number(chips.dataset.maxBytes) || Infinity;

/**
 * A file on the composer.
 * @typedef {Object} Attached
 * @property {string|null} id  The server's id once uploaded.
 * @property {string} name
 * @property {number} size
 * @property {string} kind  "text" or "image" (a guess from the type until uploaded).
 * @property {number|null} [pages]
 * @property {string} [note]
 * @property {AbortController} [abort]  While uploading.
 */

/** @type {Attached[]} */
let attached = [];
// The chips of conversations not on screen, by conversation id ("new" for a new chat): a
// file attached and left in one chat is still there on coming back, as its draft is.
const parked = new Map();

/** "12 KB": a size as people read it. */
export function sizeLabel(bytes) {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${Math.round(bytes / 1024)} KB`;
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}

function changed() {
  render();
  document.dispatchEvent(new CustomEvent("attachments-changed"));
}

/** Says why a file was refused, by the composer ("" clears it). */
export function showAttachProblem(text) {
  problem.textContent = text;
  problem.hidden = !text;
}

function render() {
  chips.replaceChildren(...attached.map(chip));
  chips.hidden = attached.length === 0;
}

function chip(item) {
  const li = document.createElement("li");
  li.className = `chip${item.id ? "" : " uploading"}`;
  li.dataset.kind = item.kind;
  if (item.id) li.dataset.id = item.id;
  if (item.id && item.kind === "image") {
    const thumb = document.createElement("img");
    thumb.className = "chip-thumb";
    thumb.src = `/files/${encodeURIComponent(item.id)}/view`;
    thumb.alt = ""; // The name beside it says what it is.
    li.appendChild(thumb);
  }
  const name = document.createElement("span");
  name.className = "chip-name";
  name.textContent = item.name;
  name.title = item.name;
  const facts = document.createElement("span");
  facts.className = "chip-size";
  const extra = item.pages ? `, ${item.pages} page${item.pages === 1 ? "" : "s"}` : "";
  facts.textContent = item.id ? `${sizeLabel(item.size)}${extra}` : "Uploading…";
  li.append(name, facts);
  if (item.note) {
    const note = document.createElement("span");
    note.className = "chip-note";
    note.textContent = item.note;
    li.appendChild(note);
  }
  const remove = document.createElement("button");
  remove.type = "button";
  remove.className = "chip-remove";
  remove.textContent = "✕";
  remove.setAttribute("aria-label", `Remove ${item.name}`);
  remove.title = `Remove ${item.name}`;
  remove.addEventListener("click", () => removeFile(item));
  li.appendChild(remove);
  li.setAttribute("aria-busy", String(!item.id));
  return li;
}

function removeFile(item) {
  attached = attached.filter((a) => a !== item);
  item.abort?.abort();
  // An uploaded file not sent is the user's to throw away; nothing else holds it.
  if (item.id) fetch(`/api/files/${item.id}`, { method: "DELETE", headers: { "X-CSRFToken": csrfToken() }, credentials: "same-origin" }).catch(() => {});
  changed();
  $("input").focus();
}

/** Uploads each file at once; the chip shows it uploading, then what the server made of it. */
export function addFiles(files) {
  showAttachProblem("");
  for (const file of files) {
    if (attached.length >= maxFiles()) {
      showAttachProblem(`At most ${maxFiles()} files go with one message.`);
      break;
    }
    if (file.size > maxBytes()) {
      const [size, most] = [file.size, maxBytes()].map((n) => n.toLocaleString("en"));
      showAttachProblem(`${file.name}: This file is ${size} bytes; files may be at most ${most} bytes.`);
      continue;
    }
    const item = {
      id: null,
      name: file.name || "pasted file",
      size: file.size,
      kind: file.type.startsWith("image/") ? "image" : "text",
      abort: new AbortController(),
    };
    attached.push(item);
    upload(item, file);
  }
  changed();
}

async function upload(item, file) {
  const form = new FormData();
  form.append("file", file, item.name);
  if (state.choices.model) form.append("model", state.choices.model);
  let status = 0;
  let data = null;
  try {
    const response = await fetch("/api/files", {
      method: "POST",
      body: form,
      headers: { "X-CSRFToken": csrfToken() },
      credentials: "same-origin",
      signal: item.abort.signal,
    });
    status = response.status;
    data = await response.json().catch(() => null);
  } catch {
    if (item.abort.signal.aborted) return; // Removed while uploading.
  }
  delete item.abort;
  if (!attached.includes(item)) {
    // Removed while the answer was on its way: the server has it, so it goes.
    if (data?.id) fetch(`/api/files/${data.id}`, { method: "DELETE", headers: { "X-CSRFToken": csrfToken() }, credentials: "same-origin" }).catch(() => {});
    return;
  }
  if (status === 201 && data?.id) {
    Object.assign(item, {
      id: data.id, name: data.name, size: data.size, kind: data.kind,
      content_type: data.content_type, pages: data.pages ?? null, note: data.note || "",
    });
    $("announcer").textContent = `${item.name} attached.`; // The chip changed silently.
  } else {
    attached = attached.filter((a) => a !== item);
    const why = data?.error || (status === 0 ? "No connection: try again." : `${item.name} could not be uploaded.`);
    showAttachProblem(`${item.name}: ${why}`);
  }
  changed();
}

/** How many files are on the composer. */
export function attachedCount() {
  return attached.length;
}

/** Whether a file is still uploading (the message waits for it). */
export function uploading() {
  return attached.some((a) => !a.id);
}

/** Whether an image is on the composer (some models take none). */
export function hasImage() {
  return attached.some((a) => a.kind === "image");
}

/** The files on the composer, as the server describes them, taken off it (a send). */
export function takeAttachments() {
  const taken = attached.map(({ abort, ...rest }) => rest);
  attached = [];
  showAttachProblem("");
  changed();
  return taken;
}

/** Files of a send the server refused go back on the composer. */
export function giveBackAttachments(items) {
  const ids = new Set(attached.map((a) => a.id));
  attached.push(...(items || []).filter((a) => !ids.has(a.id)));
  changed();
}

/** Before another conversation shows: the chips stay with the one they were put on. */
export function parkAttachments(conversationId) {
  if (attached.length) parked.set(conversationId ?? "new", attached);
  else parked.delete(conversationId ?? "new");
  attached = [];
  changed();
}

/** The chips left on this conversation, back on the composer. */
export function unparkAttachments(conversationId) {
  attached = parked.get(conversationId ?? "new") || [];
  parked.delete(conversationId ?? "new");
  changed();
}

function filesOf(transfer) {
  return [...(transfer?.items || [])].filter((i) => i.kind === "file").map((i) => i.getAsFile()).filter(Boolean);
}

export function initAttachments() {
  $("attach").replaceChildren(icon("paperclip"));
  $("attach").addEventListener("click", () => picker.click());
  picker.addEventListener("change", () => {
    addFiles([...picker.files]);
    picker.value = ""; // The same file may be chosen again after removing it.
  });
  $("input").addEventListener("paste", (event) => {
    const files = filesOf(event.clipboardData);
    if (!files.length) return; // Text pastes as text.
    event.preventDefault();
    addFiles(files);
  });
  let depth = 0; // dragenter and dragleave fire for every child crossed.
  const dragging = (event) => [...(event.dataTransfer?.types || [])].includes("Files");
  composer.addEventListener("dragenter", (event) => {
    if (!dragging(event)) return;
    event.preventDefault();
    depth += 1;
    composer.classList.add("dropping");
  });
  composer.addEventListener("dragover", (event) => {
    if (!dragging(event)) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = "copy";
  });
  composer.addEventListener("dragleave", () => {
    depth = Math.max(0, depth - 1);
    if (!depth) composer.classList.remove("dropping");
  });
  composer.addEventListener("drop", (event) => {
    depth = 0;
    composer.classList.remove("dropping");
    const files = [...(event.dataTransfer?.files || [])];
    if (!files.length) return;
    event.preventDefault();
    addFiles(files);
  });
  render();
}
