// "Report conversation": a dialog with categories and a comment, sent over HTTP; a report
// already made shows, and can be changed or withdrawn.
import { api, problemText } from "./http.js";
import { flash } from "./page.js";
import { $ } from "./page.js";

const dialog = $("report-dialog");
const form = $("report-form");
const error = $("report-error");
let conversationId = null;
let opener = null;

function showError(text) {
  error.textContent = text;
  error.hidden = !text;
}

/** Opens the dialog for one conversation; focus returns to `from` when it closes. */
export async function openReport(id, from) {
  conversationId = id;
  opener = from;
  form.reset();
  showError("");
  $("report-withdraw").hidden = true;
  $("report-submit").textContent = "Report";
  dialog.showModal();
  const result = await api("GET", `/conversations/${id}/report`);
  const report = result.ok ? result.data.report : null;
  if (report) {
    for (const box of form.querySelectorAll("input[name=categories]")) box.checked = report.categories.includes(box.value);
    $("report-comment").value = report.comment;
    $("report-withdraw").hidden = false;
    $("report-submit").textContent = "Update report";
  }
}

async function submitReport(event) {
  event.preventDefault();
  const categories = [...form.querySelectorAll("input[name=categories]:checked")].map((box) => box.value);
  const comment = $("report-comment").value.trim();
  if (!categories.length && !comment) {
    showError("Choose what is wrong, or write a comment.");
    return;
  }
  const result = await api("POST", `/conversations/${conversationId}/report`, { categories, comment });
  if (!result.ok) {
    showError(problemText(result));
    return;
  }
  dialog.close();
  flash("Thank you: the conversation was reported to the reviewers.");
}

async function withdraw() {
  const result = await api("DELETE", `/conversations/${conversationId}/report`);
  if (!result.ok) {
    showError(problemText(result));
    return;
  }
  dialog.close();
  flash("Your report was withdrawn.");
}

export function initReport() {
  form.addEventListener("submit", submitReport);
  $("report-cancel").addEventListener("click", () => dialog.close());
  $("report-withdraw").addEventListener("click", withdraw);
  dialog.addEventListener("close", () => {
    if (opener?.isConnected) opener.focus();
  });
  // A click on the backdrop (outside the dialog's box) closes it.
  dialog.addEventListener("click", (event) => {
    if (event.target === dialog) dialog.close();
  });
}
