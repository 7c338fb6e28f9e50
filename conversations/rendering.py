"""Model output to HTML that can never run script or fetch from another host.

Markdown (CommonMark with tables, strikethrough, task lists, bare URLs as links, and
math) is rendered by markdown-it-py, then everything goes through nh3's allow-list.
Math (`$…$`, `$$…$$`, `\\(…\\)`, `\\[…\\]`) becomes MathML on the server (latex2mathml):
the browser draws it natively, with no script and no font from anywhere else.

The chat page previews the one block still streaming with markdown-it and DOMPurify
(static/stream.js): keep its element kinds and allowed tags in step with these.
"""

import html
import re
from functools import lru_cache
from xml.etree.ElementTree import Element, SubElement, tostring

import nh3
from latex2mathml.converter import convert_to_element
from markdown_it import MarkdownIt
from markdown_it.common.utils import escapeHtml
from markdown_it.rules_block import StateBlock
from markdown_it.rules_core import StateCore
from markdown_it.rules_inline import StateInline
from markdown_it.token import Token
from mdit_py_plugins.dollarmath import dollarmath_plugin
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import get_lexer_by_name
from pygments.util import ClassNotFound

# The page's own h1 (the conversation's title) and h2 stay above anything a model writes:
# a reply's "#" is an h3.
HEADING_SHIFT = 2
# Longer formulas are shown as their TeX source: converting is work, and nobody reads
# a 4,000-character formula rendered anyway.
MAX_MATH_CHARS = 4000
MAX_LANGUAGE_CHARS = 30

MATHML_TAGS = {
    "math", "semantics", "annotation", "mrow", "mi", "mn", "mo", "ms", "mspace", "mtext",
    "mfrac", "msqrt", "mroot", "msub", "msup", "msubsup", "munder", "mover", "munderover",
    "mtable", "mtr", "mtd", "mstyle", "mpadded", "mphantom", "menclose", "merror",
    "mmultiscripts", "mprescripts", "none",
}  # fmt: skip
ALLOWED_TAGS = {
    "p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "strong", "em", "del", "s",
    "code", "pre", "blockquote", "ul", "ol", "li", "a", "table", "thead", "tbody",
    "tr", "th", "td", "span", "div", "input", "label",
} | MATHML_TAGS  # fmt: skip
_MO = {"stretchy", "fence", "separator", "lspace", "rspace", "form", "largeop"}
_MO |= {"movablelimits", "symmetric", "minsize", "maxsize", "accent"}
_TABLE = {"columnalign", "rowalign", "columnspacing", "rowspacing", "columnlines", "rowlines"}
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "code": {"class"},
    "span": {"class"},
    "div": {"class"},
    "ul": {"class"},
    "li": {"class"},
    "ol": {"start", "class"},
    # Task list boxes, only ever shown ticked or not (`type` is pinned to checkbox below).
    "input": {"class", "checked", "disabled"},
    # MathML: layout only. No href (MathML allows links on any element), no colours.
    "math": {"display"},
    "annotation": {"encoding"},
    "mi": {"mathvariant"},
    "mn": {"mathvariant"},
    "mtext": {"mathvariant"},
    "mo": _MO,
    "mover": {"accent"},
    "munder": {"accentunder"},
    "munderover": {"accent", "accentunder"},
    "mtable": _TABLE | {"frame", "displaystyle"},
    "mtr": {"columnalign", "rowalign"},
    "mtd": {"columnalign", "rowalign", "columnspan", "rowspan"},
    "mstyle": {"displaystyle", "scriptlevel", "mathvariant"},
    "mfrac": {"linethickness"},
    "mspace": {"width", "height", "depth"},
    "mpadded": {"width", "height", "depth", "lspace", "voffset"},
    "menclose": {"notation"},
}
TAG_ATTRIBUTE_VALUES = {
    "input": {"type": {"checkbox"}},
    # A table column's alignment (`_table_alignment`), and no other class.
    "th": {"class": {"align-left", "align-center", "align-right"}},
    "td": {"class": {"align-left", "align-center", "align-right"}},
}
# Links open in a new tab, so following one never leaves the conversation.
SET_ATTRIBUTES = {"a": {"target": "_blank"}}
LINK_REL = "noopener noreferrer nofollow"
_formatter = HtmlFormatter(nowrap=True)


def _highlight(code: str, lang: str, _attrs: str) -> str:
    try:
        lexer = get_lexer_by_name(lang) if lang else None
    except ClassNotFound:
        lexer = None
    if lexer is None:
        return ""  # markdown-it escapes the code itself.
    return highlight(code, lexer, _formatter)


def _image_as_link(_renderer, tokens, idx, _options, _env) -> str:
    # An <img> pointing elsewhere would be fetched on sight and could carry the
    # conversation out in its URL; show a link the reader may choose to follow.
    token = tokens[idx]
    src = token.attrGet("src") or ""
    alt = "".join(child.content for child in token.children or []) or src
    return f'<a href="{escapeHtml(src)}">[image: {escapeHtml(alt)}]</a>'


def _code_block(renderer, tokens, idx, options, env) -> str:
    """A fenced code block under a label naming its language (when it has one)."""
    code = renderer.fence(tokens, idx, options, env)
    info = tokens[idx].info.strip()
    language = info.split(maxsplit=1)[0][:MAX_LANGUAGE_CHARS] if info else ""
    label = f'<div class="code-lang">{escapeHtml(language)}</div>' if language else ""
    return f'<div class="code-block">{label}{code}</div>\n'


_TASK = re.compile(r"\[([ xX])\][ \t\n\v\f\r]")


def _task_lists(state: StateCore) -> None:
    """GitHub's task lists: a list item starting `[ ]` or `[x]` gets a box, ticked or not.

    The markup is mdit-py-plugins' tasklists with `label=True` (the item's text labels its
    box), made in one pass: the plugin looks back for each item's list, which costs a long
    list its square.
    """
    tokens = state.tokens
    lists: list[Token] = []
    for index, token in enumerate(tokens):
        if token.type in ("bullet_list_open", "ordered_list_open"):
            lists.append(token)
        elif token.type in ("bullet_list_close", "ordered_list_close"):
            lists.pop()
        elif (
            token.type == "inline"
            and index >= 2
            and tokens[index - 1].type == "paragraph_open"
            and tokens[index - 2].type == "list_item_open"
            and token.children
            and token.children[0].type == "text"
            and (task := _TASK.match(token.children[0].content))
        ):
            ticked = ' checked="checked"' if task.group(1) != " " else ""
            box = Token("html_inline", "", 0)
            box.content = f'<input class="task-list-item-checkbox"{ticked} disabled="disabled" type="checkbox">'
            token.children[0].content = token.children[0].content[3:]
            opening, closing = Token("html_inline", "", 0), Token("html_inline", "", 0)
            opening.content, closing.content = "<label>", "</label>"
            token.children[:0] = [opening, box]
            token.children.append(closing)
            tokens[index - 2].attrSet("class", "task-list-item")
            lists[-1].attrSet("class", "contains-task-list")


def _table_alignment(state: StateCore) -> None:
    """A column's alignment (`---:`) as a class on its cells: markdown-it writes it as a
    `style` attribute, which the allow-list drops and the page's CSP would refuse."""
    for token in state.tokens:
        if token.type in ("th_open", "td_open") and token.attrs:
            style = str(token.attrs.pop("style", ""))
            if style.startswith("text-align:"):
                token.attrSet("class", f"align-{style.removeprefix('text-align:')}")


def _shift_headings(state: StateCore) -> None:
    for token in state.tokens:
        if token.type in ("heading_open", "heading_close"):
            token.tag = f"h{min(6, int(token.tag[1]) + HEADING_SHIFT)}"


# ---- math ----


def _math(latex: str, options: dict) -> str:
    """TeX as MathML, keeping its source for copying; TeX that does not convert stays as TeX."""
    display = "block" if options.get("display_mode") else "inline"
    if len(latex) > MAX_MATH_CHARS:
        return _math_source(latex)
    try:
        converted = convert_to_element(latex, display=display)
    except Exception:  # noqa: BLE001 - any TeX it cannot read (or nests too deep) stays as text
        return _math_source(latex)
    # latex2mathml's own serializer leaves text unescaped; ElementTree's escapes it.
    for element in converted.iter():
        element.text = html.unescape(element.text) if element.text else element.text
        element.tail = html.unescape(element.tail) if element.tail else element.tail
    math = Element("math", display=display)
    semantics = SubElement(math, "semantics")
    semantics.extend(list(converted))
    annotation = SubElement(semantics, "annotation", encoding="application/x-tex")
    annotation.text = latex
    return tostring(math, encoding="unicode", short_empty_elements=False)


def _math_source(latex: str) -> str:
    return f'<code class="math-source">{escapeHtml(latex)}</code>'


def _bracket_inline(state: StateInline, silent: bool) -> bool:
    r"""`\(…\)`: inline math, its end looked for within MAX_MATH_CHARS."""
    src, start = state.src, state.pos
    if not src.startswith("\\(", start):
        return False
    limit = start + 4 + MAX_MATH_CHARS
    # Where an earlier search in this paragraph found no `\)`: not searched again, so a
    # paragraph of unclosed `\(` costs its length, not MAX_MATH_CHARS times as much.
    clear = getattr(state, "_no_bracket_close_before", 0)
    if clear >= limit - 1:
        return False
    end = src.find("\\)", max(start + 2, clear), limit)
    if end < 0:
        state._no_bracket_close_before = limit - 1
        return False
    if end == start + 2:
        return False
    if not silent:
        token = state.push("math_inline", "math", 0)
        token.content = src[start + 2 : end]
        token.markup = "\\("
    state.pos = end + 2
    return True


_DOLLARS_CLOSE = re.compile(r"\$\$[ \t]*$|^[ \t]*$", re.MULTILINE)
_BRACKET_CLOSE = re.compile(r"\\\][ \t]*$|^[ \t]*$", re.MULTILINE)


def _closing_line(state: StateBlock, start: int, end: int, closing: re.Pattern) -> int | None:
    """The line that closes a display formula opened on line `start`, or None.

    The closing is a line ending in the closing delimiter (it may be `start` itself), found
    within MAX_MATH_CHARS and before any blank line. A paragraph asks this at each of its
    lines: what one search found (or where it found nothing) answers the next lines too,
    so a paragraph costs its length, not its square.
    """
    begin = state.bMarks[start] + state.tShift[start] + 2
    limit = begin + MAX_MATH_CHARS
    searches = state.__dict__.setdefault("_math_searches", {})
    earlier = searches.get(closing)
    if earlier and earlier[0] <= begin and (earlier[1] is None or earlier[1] >= begin):
        searched_from, at, blank, searched_to = earlier
        if at is None and searched_to < limit:
            at, blank = _search(state.src, closing, max(begin, searched_to - 4), limit)
            searches[closing] = (searched_from, at, blank, limit)
    else:
        at, blank = _search(state.src, closing, begin, limit)
        searches[closing] = (begin, at, blank, limit)
    if at is None or blank:
        return None  # None in reach, or a blank line first.
    line = start
    while line < end and state.eMarks[line] < at:
        line += 1  # Every line passed here is inside the formula.
    return line if line < end else None


def _search(src: str, pattern: re.Pattern, begin: int, limit: int) -> tuple[int | None, bool]:
    """Where `pattern` first matches in src[begin:limit], and whether it matched a blank line."""
    found = pattern.search(src, begin, limit)
    if found is None or (found.end() == limit < len(src) and src[limit] not in "\r\n"):
        return None, False  # Nothing, or only a line cut short by the limit.
    return found.start(), not found.group()


def _dollar_block(rule):
    """dollarmath's `$$` block rule, searching only as far as `_closing_line` found, and fit
    to end a paragraph: it ignores `silent` (it always adds its token), so a silent
    question is answered and its token taken back."""

    def block(state: StateBlock, start: int, end: int, silent: bool) -> bool:
        begin = state.bMarks[start] + state.tShift[start]
        if not state.src.startswith("$$", begin):
            return False
        closing = _closing_line(state, start, end, _DOLLARS_CLOSE)
        if closing is None:
            return False
        if not silent:
            return rule(state, start, closing + 1, False)
        tokens, line = len(state.tokens), state.line
        found = rule(state, start, closing + 1, False)
        del state.tokens[tokens:]
        state.line = line
        return found

    return block


def _bracket_block(state: StateBlock, start: int, end: int, silent: bool) -> bool:
    r"""`\[` … `\]` on lines of their own (or one line): display math, no blank lines inside."""
    if state.sCount[start] - state.blkIndent >= 4:
        return False  # Indented code.
    begin = state.bMarks[start] + state.tShift[start]
    if not state.src.startswith("\\[", begin):
        return False
    closing = _closing_line(state, start, end, _BRACKET_CLOSE)
    if closing is None:
        return False
    if silent:
        return True
    lines = [
        state.src[state.bMarks[line] + state.tShift[line] : state.eMarks[line]]
        for line in range(start, closing + 1)
    ]
    text = "\n".join(lines).rstrip()
    token = state.push("math_block", "math", 0)
    token.block = True
    token.content = text[2:-2].strip()
    token.markup = "\\["
    token.map = [start, closing + 1]
    state.line = closing + 1
    return True


def _math_plugin(md: MarkdownIt) -> None:
    # `$5 and $10` stays money: no space inside the dollars, no digit right after the closing one.
    md.use(
        dollarmath_plugin,
        allow_space=False,
        allow_digits=False,
        allow_labels=False,
        allow_blank_lines=False,
        renderer=_math,
    )
    # Display math may follow a line of text directly, as models often write it.
    interrupts = {"alt": ["paragraph", "reference", "blockquote", "list"]}
    rules = md.block.ruler
    dollars = rules.__rules__[rules.__find__("math_block")].fn
    rules.at("math_block", _dollar_block(dollars), interrupts)
    md.inline.ruler.before("escape", "math_inline_bracket", _bracket_inline)
    md.block.ruler.before("fence", "math_block_bracket", _bracket_block, interrupts)


md = (
    MarkdownIt("commonmark", {"html": False, "highlight": _highlight, "linkify": True})
    .enable(["table", "strikethrough", "linkify"])
    .use(_math_plugin)
)
# Bare URLs with a scheme (https://…) become links; "main.py" is a file name, not a site.
md.linkify.set({"fuzzy_link": False})
md.add_render_rule("image", _image_as_link)
md.add_render_rule("fence", _code_block)
md.core.ruler.after("inline", "task_lists", _task_lists)
md.core.ruler.push("shift_headings", _shift_headings)
md.core.ruler.push("table_alignment", _table_alignment)


@lru_cache(maxsize=256)
def render_markdown(text: str) -> str:
    """Render Markdown to sanitized HTML: no script, no raw HTML, no remote images."""
    return nh3.clean(
        md.render(text),
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        tag_attribute_values=TAG_ATTRIBUTE_VALUES,
        set_tag_attribute_values=SET_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel=LINK_REL,
    )


def highlight_css() -> str:
    """Stylesheet rules for highlighted code, light and dark (the system's, or the user's choice)."""
    light = HtmlFormatter(style="default").get_style_defs(".md pre")
    dark = HtmlFormatter(style="monokai").get_style_defs(":root[data-theme=dark] .md pre")
    system_dark = HtmlFormatter(style="monokai").get_style_defs(
        ":root:not([data-theme=light]) .md pre"
    )
    return f"{light}\n{dark}\n@media (prefers-color-scheme: dark) {{\n{system_dark}\n}}\n"
