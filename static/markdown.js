// The preview's Markdown: markdown-it set up to make the same elements as the server's
// conversations/rendering.py (keep the two in step), and DOMPurify's allow-list to match
// its nh3 allow-list. Math is the one difference: it previews as its TeX source until its
// block is finished and the server's MathML takes its place.
import markdownit from "./vendor/markdown-it.min.js";

export const md = markdownit({ html: false, linkify: true });
// Bare URLs with a scheme (https://…) become links; "main.py" is a file name, not a site.
md.linkify.set({ fuzzyLink: false });

// Images would be fetched on sight; the server shows them as links, and so does the preview.
md.renderer.rules.image = (tokens, idx) => {
  const token = tokens[idx];
  const src = token.attrGet("src") || "";
  const link = document.createElement("a");
  link.href = src;
  link.textContent = `[image: ${token.content || src}]`;
  return link.outerHTML;
};

// Links open in a new tab, so following one never leaves the conversation.
md.renderer.rules.link_open = (tokens, idx, options, env, self) => {
  tokens[idx].attrSet("target", "_blank");
  tokens[idx].attrSet("rel", "noopener noreferrer nofollow");
  return self.renderToken(tokens, idx, options);
};

// A fenced code block sits under a label naming its language, when it has one.
const fence = md.renderer.rules.fence;
md.renderer.rules.fence = (tokens, idx, options, env, self) => {
  const code = fence(tokens, idx, options, env, self);
  const language = (tokens[idx].info || "").trim().split(/\s+/)[0].slice(0, 30);
  const label = language ? `<div class="code-lang">${md.utils.escapeHtml(language)}</div>` : "";
  return `<div class="code-block">${label}${code}</div>\n`;
};

// The page's own h1 and h2 stay above anything a model writes: a reply's "#" is an h3.
const HEADING_SHIFT = 2;
md.core.ruler.push("shift_headings", (state) => {
  for (const token of state.tokens) {
    if (token.type === "heading_open" || token.type === "heading_close") {
      token.tag = `h${Math.min(6, Number(token.tag[1]) + HEADING_SHIFT)}`;
    }
  }
});

// A table column's alignment (`---:`) as a class on its cells, as the server writes it:
// markdown-it's own style attribute would break the page's CSP (style-src 'self'), even
// in the document DOMPurify parses it in.
md.core.ruler.push("table_alignment", (state) => {
  for (const token of state.tokens) {
    if (token.type !== "th_open" && token.type !== "td_open") continue;
    const style = token.attrGet("style");
    if (style === null) continue;
    token.attrs = token.attrs.filter(([name]) => name !== "style");
    if (style.startsWith("text-align:")) token.attrSet("class", `align-${style.slice("text-align:".length)}`);
  }
});

// Task lists: "[ ]" or "[x]" at the start of a list item is a box, ticked or not, that the
// item's text labels. One pass, with the lists open so far on a stack.
const TASK = /^\[([ xX])\][ \t\n\v\f\r]/;
md.core.ruler.after("inline", "task_lists", (state) => {
  const tokens = state.tokens;
  const lists = [];
  const html = (content) => Object.assign(new state.Token("html_inline", "", 0), { content });
  tokens.forEach((token, index) => {
    if (token.type === "bullet_list_open" || token.type === "ordered_list_open") lists.push(token);
    else if (token.type === "bullet_list_close" || token.type === "ordered_list_close") lists.pop();
    else if (
      token.type === "inline" &&
      index >= 2 &&
      tokens[index - 1].type === "paragraph_open" &&
      tokens[index - 2].type === "list_item_open" &&
      token.children?.[0]?.type === "text"
    ) {
      const task = TASK.exec(token.children[0].content);
      if (!task) return;
      const ticked = task[1] !== " " ? ' checked="checked"' : "";
      token.children[0].content = token.children[0].content.slice(3);
      token.children.unshift(
        html("<label>"),
        html(`<input class="task-list-item-checkbox"${ticked} disabled="disabled" type="checkbox">`),
      );
      token.children.push(html("</label>"));
      tokens[index - 2].attrSet("class", "task-list-item");
      lists[lists.length - 1].attrSet("class", "contains-task-list");
    }
  });
});

/** What DOMPurify lets through: the server's nh3 allow-list, less MathML (never previewed). */
export const ALLOWED = {
  ALLOWED_TAGS: ["p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "strong", "em", "del", "s",
    "code", "pre", "blockquote", "ul", "ol", "li", "a", "table", "thead", "tbody", "tr", "th",
    "td", "span", "div", "input", "label"],
  ALLOWED_ATTR: ["href", "title", "class", "start", "type", "checked", "disabled", "target", "rel"],
  ALLOWED_URI_REGEXP: /^(?:https?:|mailto:)/i,
  // DOMPurify holds every attribute but a few to ALLOWED_URI_REGEXP, which would strip
  // these (target="_blank", type="checkbox"…): none of them can hold a URL.
  ADD_URI_SAFE_ATTR: ["target", "rel", "start", "type", "checked", "disabled"],
};
