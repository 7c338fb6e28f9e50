// Thumbs up or down on a reply, with optional categories and a comment; the user sees,
// changes or withdraws their own rating (docs/protocol.md, "Feedback over HTTP").
import { api, problemText } from "./http.js";
import { icon } from "./icons.js";

const CATEGORIES = {
  up: { helpful: "Helpful", accurate: "Accurate", well_written: "Well written", other: "Other" },
  down: {
    wrong: "Wrong",
    unhelpful: "Unhelpful",
    unsafe: "Unsafe",
    too_long: "Too long",
    too_short: "Too short",
    ignored_instructions: "Ignored instructions",
    other: "Other",
  },
};

/** The two thumbs for a reply, and (once rated) the rating's details to change. */
export function buildFeedback(message) {
  const box = document.createElement("div");
  box.className = "feedback";
  const thumbs = document.createElement("span");
  thumbs.className = "thumbs";
  const up = thumb("up", "Good reply");
  const down = thumb("down", "Bad reply");
  thumbs.append(up, down);
  const status = document.createElement("span");
  status.className = "feedback-status";
  status.setAttribute("role", "status");
  const change = document.createElement("button");
  change.type = "button";
  change.className = "link feedback-change";
  change.textContent = "Change";
  change.setAttribute("aria-label", "Change your feedback");
  box.append(thumbs, status, change);
  const show = () => {
    const rating = message.feedback?.rating;
    up.setAttribute("aria-pressed", String(rating === "up"));
    down.setAttribute("aria-pressed", String(rating === "down"));
    box.querySelector(".feedback-form")?.remove();
    status.textContent = summary(message.feedback);
    change.hidden = !rating;
  };
  change.addEventListener("click", () => {
    if (message.feedback && !box.querySelector(".feedback-form")) openForm(box, message, show);
  });
  const rate = async (rating) => {
    if (message.feedback?.rating === rating) {
      // Pressing the pressed thumb withdraws the rating.
      const result = await api("DELETE", `/messages/${message.id}/feedback`);
      if (!result.ok) return (status.textContent = problemText(result));
      message.feedback = null;
      show();
      return;
    }
    const result = await api("POST", `/messages/${message.id}/feedback`, { rating });
    if (!result.ok) return (status.textContent = problemText(result));
    message.feedback = result.data.feedback;
    show();
    openForm(box, message, show);
  };
  up.addEventListener("click", () => rate("up"));
  down.addEventListener("click", () => rate("down"));
  show();
  return box;
}

function thumb(rating, label) {
  const button = document.createElement("button");
  button.type = "button";
  button.className = `action thumb thumb-${rating}`;
  button.setAttribute("aria-label", label);
  button.title = label;
  button.appendChild(icon("thumb", { flip: rating === "down" }));
  return button;
}

function summary(feedback) {
  if (!feedback) return "";
  const names = CATEGORIES[feedback.rating];
  const parts = [feedback.rating === "up" ? "You rated this up" : "You rated this down"];
  if (feedback.categories?.length) parts.push(feedback.categories.map((c) => names[c] || c).join(", "));
  if (feedback.comment) parts.push(`“${feedback.comment}”`);
  return parts.join(" · ");
}

/** Categories and a comment for the rating just given; Save sends them, Esc closes. */
function openForm(box, message, show) {
  const rating = message.feedback.rating;
  const form = document.createElement("form");
  form.className = "feedback-form";
  const fieldset = document.createElement("fieldset");
  const legend = document.createElement("legend");
  legend.textContent = rating === "up" ? "What was good? (optional)" : "What was wrong? (optional)";
  fieldset.appendChild(legend);
  for (const [value, label] of Object.entries(CATEGORIES[rating])) {
    const item = document.createElement("label");
    const box = document.createElement("input");
    box.type = "checkbox";
    box.name = "categories";
    box.value = value;
    box.checked = message.feedback.categories?.includes(value) || false;
    item.append(box, ` ${label}`);
    fieldset.appendChild(item);
  }
  const commentLabel = document.createElement("label");
  commentLabel.textContent = "Comment (optional)";
  const comment = document.createElement("textarea");
  comment.name = "comment";
  comment.rows = 2;
  comment.maxLength = 2000;
  comment.value = message.feedback.comment || "";
  commentLabel.appendChild(comment);
  const error = document.createElement("p");
  error.className = "form-error";
  error.setAttribute("role", "alert");
  error.hidden = true;
  const save = document.createElement("button");
  save.type = "submit";
  save.className = "primary";
  save.textContent = "Send feedback";
  const close = document.createElement("button");
  close.type = "button";
  close.textContent = "Close";
  const actions = document.createElement("div");
  actions.className = "feedback-actions";
  actions.append(save, close);
  form.append(fieldset, commentLabel, error, actions);
  const thumbButton = box.querySelector(`.thumb-${rating}`);
  const done = () => {
    show();
    thumbButton.focus();
  };
  close.addEventListener("click", done);
  form.addEventListener("keydown", (event) => {
    if (event.key === "Escape") {
      event.stopPropagation();
      done();
    }
  });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const categories = [...form.querySelectorAll("input:checked")].map((input) => input.value);
    const result = await api("POST", `/messages/${message.id}/feedback`, {
      rating,
      categories,
      comment: comment.value.trim(),
    });
    if (!result.ok) {
      error.textContent = problemText(result);
      error.hidden = false;
      return;
    }
    message.feedback = result.data.feedback;
    done();
  });
  box.appendChild(form);
  form.querySelector("input").focus();
}
