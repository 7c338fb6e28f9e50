// A message's files: a text file as a chip that downloads it, an image as a thumbnail that
// opens the full one. Names and notes are the user's or the server's words: text only.
import { sizeLabel } from "./attachments.js";

/**
 * A file on a message, as the `Message` frame carries it (docs/protocol.md).
 * @typedef {Object} AttachmentInfo
 * @property {string} id
 * @property {string} name
 * @property {number} size
 * @property {string} kind  "text" or "image".
 * @property {string} content_type
 * @property {number|null} pages
 * @property {string} note
 */

/** What a file is, in a few words: "12 KB, 3 pages, This PDF has no text layer." */
export function fileFacts(file) {
  const facts = [sizeLabel(file.size)];
  if (file.pages) facts.push(`${file.pages} page${file.pages === 1 ? "" : "s"}`);
  if (file.note) facts.push(file.note);
  return facts.join(", ");
}

/** The list of a message's files, or null when it has none. */
export function buildFiles(message) {
  const files = message.attachments || [];
  if (!files.length) return null;
  const list = document.createElement("ul");
  list.className = "files";
  list.setAttribute("aria-label", "Files");
  for (const file of files) {
    const li = document.createElement("li");
    // No id yet: shown while the message is being sent, nothing to link to.
    const link = document.createElement(file.id ? "a" : "span");
    if (file.id) link.href = `/files/${encodeURIComponent(file.id)}`;
    if (file.kind === "image" && file.id) {
      link.className = "thumb";
      link.title = `${file.name} (${fileFacts(file)}): download`;
      const img = document.createElement("img");
      img.src = `/files/${encodeURIComponent(file.id)}/view`;
      img.alt = file.name;
      img.loading = "lazy";
      link.appendChild(img);
    } else {
      link.className = "chip";
      link.dataset.kind = file.kind;
      const name = document.createElement("span");
      name.className = "chip-name";
      name.textContent = file.name;
      const facts = document.createElement("span");
      facts.className = "chip-size";
      facts.textContent = fileFacts(file);
      link.append(name, facts);
      if (file.id) link.title = `Download ${file.name}`;
    }
    li.appendChild(link);
    list.appendChild(li);
  }
  return list;
}
