// "Share…" in a conversation's ⋯ menu: a dialog that makes a read-only link to what the
// conversation shows now. The link (its token) is shown once, with a Copy button: only
// its hash is kept, so it can never be shown again. Links are listed, and revoked, in Settings.
// Where the deployment forbids links open to anyone (CHAT_SHARE_ANYONE=false), that choice
// is shown disabled, with a note saying why, rather than refused after submitting.
import { api, problemText } from "./http.js";
import { boot } from "./state.js";

let dialog = null;
let opener = null;
let conversationId = null;

function element(tag, props = {}, children = []) {
  const node = document.createElement(tag);
  Object.assign(node, props);
  for (const child of children) node.append(child);
  return node;
}

function radio(value, label, checked) {
  // defaultChecked, not only checked: the form is reset each time the dialog opens.
  const input = element("input", {
    type: "radio",
    name: "audience",
    value,
    defaultChecked: checked,
    checked,
    id: `share-audience-${value}`,
  });
  return element("label", {}, [input, ` ${label}`]);
}

/** Whether the deployment lets a link be open to anyone with it (boot data). */
function anyoneAllowed() {
  return boot.shareAnyone !== false;
}

/** The dialog, built once (its words are text, never HTML). */
function build() {
  const form = element("form", { method: "dialog", id: "share-form" });
  const title = element("h2", { id: "share-title" });
  const warning = element("p", {
    className: "share-warning",
    id: "share-warning",
    textContent:
      "The link shows this conversation as it is now, to whoever opens it: its messages, " +
      "the tools it called with their results, and its files. Later messages are not shared.",
  });
  const instructions = element("label", {}, [
    element("input", { type: "checkbox", name: "instructions", id: "share-instructions" }),
    " Include the instructions (the system prompt, the persona's and your custom instructions)",
  ]);
  const audience = element("fieldset", {}, [
    element("legend", { textContent: "Who may open it" }),
    radio("signed_in", "Signed-in users of this site", true),
    radio("anyone", "Anyone with the link", false),
  ]);
  if (!anyoneAllowed()) {
    const note = element("p", {
      id: "share-anyone-note",
      className: "muted",
      textContent: "This site allows links for its signed-in users only.",
    });
    audience.append(note);
    audience.querySelector("#share-audience-anyone").setAttribute("aria-describedby", "share-anyone-note");
  }
  const expiry = element("select", { id: "share-expiry", name: "expiry" }, [
    element("option", { value: "", textContent: "Never" }),
    element("option", { value: "1", textContent: "In a day" }),
    element("option", { value: "7", textContent: "In a week" }),
    element("option", { value: "30", textContent: "In 30 days" }),
  ]);
  const error = element("p", { id: "share-error", className: "form-error", hidden: true });
  error.setAttribute("role", "alert");
  const url = element("input", { id: "share-url", readOnly: true, type: "text" });
  const copy = element("button", { type: "button", id: "share-copy", textContent: "Copy" });
  const copied = element("p", { id: "share-copied", className: "muted" });
  copied.setAttribute("role", "status");
  const result = element("div", { id: "share-result", hidden: true }, [
    element("label", { htmlFor: "share-url", textContent: "The link: copy it now, it is shown only once" }),
    element("div", { className: "share-url" }, [url, copy]),
    copied,
  ]);
  const close = element("button", { type: "button", id: "share-close", textContent: "Cancel" });
  const submit = element("button", { type: "submit", id: "share-submit", className: "primary", textContent: "Create link" });
  form.append(
    title,
    warning,
    instructions,
    audience,
    element("label", { htmlFor: "share-expiry", textContent: "Expires" }),
    expiry,
    error,
    result,
    element("div", { className: "dialog-actions" }, [close, submit]),
  );
  dialog = element("dialog", { id: "share-dialog", className: "report-dialog share-dialog" }, [form]);
  dialog.setAttribute("aria-labelledby", "share-title");
  dialog.setAttribute("aria-describedby", "share-warning");
  document.body.append(dialog);

  form.addEventListener("submit", create);
  close.addEventListener("click", () => dialog.close());
  copy.addEventListener("click", copyLink);
  dialog.addEventListener("close", () => {
    url.value = ""; // The token leaves the page with the dialog.
    if (opener?.isConnected) opener.focus();
  });
  dialog.addEventListener("click", (event) => {
    if (event.target === dialog) dialog.close();
  });
}

function showError(text) {
  const error = dialog.querySelector("#share-error");
  error.textContent = text;
  error.hidden = !text;
}

/** Opens the dialog for one conversation; focus returns to `from` when it closes. */
export function openShare(id, title, from) {
  if (!dialog) build();
  conversationId = id;
  opener = from;
  const form = dialog.querySelector("form");
  form.reset();
  showError("");
  dialog.querySelector("#share-title").textContent = `Share “${title || "Untitled"}”`;
  dialog.querySelector("#share-result").hidden = true;
  dialog.querySelector("#share-submit").hidden = false;
  dialog.querySelector("#share-close").textContent = "Cancel";
  dialog.querySelector("#share-copied").textContent = "";
  for (const input of form.querySelectorAll("input:not(#share-url), select")) input.disabled = false;
  form.querySelector("#share-audience-anyone").disabled = !anyoneAllowed();
  dialog.showModal();
}

async function create(event) {
  event.preventDefault();
  const form = dialog.querySelector("form");
  const days = form.elements.expiry.value;
  const submit = dialog.querySelector("#share-submit");
  submit.disabled = true;
  const result = await api("POST", `/api/conversations/${conversationId}/shares`, {
    audience: form.elements.audience.value,
    include_instructions: form.elements.instructions.checked,
    expires_in_days: days ? Number(days) : null,
  });
  submit.disabled = false;
  if (!result.ok) {
    showError(result.data?.error || problemText(result));
    return;
  }
  showError("");
  for (const input of form.querySelectorAll("input:not(#share-url), select")) input.disabled = true;
  submit.hidden = true;
  dialog.querySelector("#share-close").textContent = "Done";
  dialog.querySelector("#share-result").hidden = false;
  const url = dialog.querySelector("#share-url");
  url.value = result.data.url;
  url.focus();
  url.select();
}

async function copyLink() {
  const url = dialog.querySelector("#share-url");
  const said = dialog.querySelector("#share-copied");
  try {
    await navigator.clipboard.writeText(url.value);
    said.textContent = "Copied.";
  } catch {
    url.select();
    said.textContent = "Select the link and copy it (Ctrl+C or ⌘+C).";
  }
}
