// The few icons the page draws, as inline SVG (no icon font, nothing fetched).
const SVG = "http://www.w3.org/2000/svg";
const PATHS = {
  // A thumb up; the thumb down is the same, turned over.
  thumb:
    "M3 10h4v11H3zM7 10l4-7c1.5 0 2.5 1 2.2 2.6L12.6 9H19c1.2 0 2 1.1 1.8 2.2l-1.4 8C19.2 20.2 18.4 21 17.4 21H7z",
  // A paperclip: attach files.
  paperclip:
    "M21 11.5l-8.6 8.6a5 5 0 0 1-7.1-7.1l8.6-8.6a3.3 3.3 0 0 1 4.7 4.7l-8.6 8.6a1.7 1.7 0 0 1-2.4-2.4l7.9-7.9",
};

/** An icon for a button: hidden from assistive technology (the button has a name). */
export function icon(name, { flip = false } = {}) {
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("aria-hidden", "true");
  svg.setAttribute("class", `icon${flip ? " flip" : ""}`);
  const path = document.createElementNS(SVG, "path");
  path.setAttribute("d", PATHS[name]);
  svg.appendChild(path);
  return svg;
}
