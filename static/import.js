// The import page: sends the chosen file and, when the server finds conversations in it that
// were imported before, asks here whether to import copies, keeping the file chosen (the
// page works without this module too: it then asks for the file again). Titles go into the
// page as text.
const form = document.getElementById("import-form");
const errorBox = document.getElementById("import-error");
const panel = document.getElementById("import-duplicates");
const choice = document.getElementById("duplicates-choice");
const summary = document.getElementById("duplicates-summary");
const list = document.getElementById("duplicates-list");
const cancel = document.getElementById("import-cancel");
const submit = document.getElementById("import-submit");

function showError(text) {
  errorBox.textContent = text;
  errorBox.hidden = !text;
}

function askAboutDuplicates(data) {
  const were = data.count === 1 ? "was" : "were";
  summary.textContent = `${data.count} of the ${data.total} conversations in this file ${were} imported before:`;
  list.replaceChildren();
  for (const title of data.duplicates) {
    const item = document.createElement("li");
    item.textContent = title || "Untitled";
    list.appendChild(item);
  }
  if (data.count > data.duplicates.length) {
    const item = document.createElement("li");
    item.textContent = `and ${data.count - data.duplicates.length} more`;
    list.appendChild(item);
  }
  document.getElementById("duplicates-ask")?.remove();
  choice.disabled = false;
  panel.hidden = false;
  cancel.hidden = false;
  document.getElementById("duplicates-skip").focus();
}

form.addEventListener("submit", async (event) => {
  if (!choice.disabled) return; // The question is answered: an ordinary submit.
  event.preventDefault();
  showError("");
  submit.disabled = true;
  try {
    const response = await fetch(form.action || location.href, {
      method: "POST",
      body: new FormData(form),
      headers: { Accept: "application/json" },
      credentials: "same-origin",
    });
    const data = await response.json();
    if (response.status === 409) askAboutDuplicates(data);
    else if (response.ok) location.href = data.redirect;
    else showError(data.error || "The import failed.");
  } catch {
    showError("The import failed: the server could not be reached. Try again.");
  } finally {
    submit.disabled = false;
  }
});
