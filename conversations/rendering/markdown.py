"""Model output to HTML that can never run script or fetch from another host.

Markdown (CommonMark with tables, strikethrough, task lists, bare URLs as links, and
math) is rendered by markdown-it-py, then everything goes through nh3's allow-list.
Math (`$…$`, `$$…$$`, `\\(…\\)`, `\\[…\\]`) becomes MathML on the server (latex2mathml):
the browser draws it natively, with no script and no font from anywhere else.

Each message renders within a budget of time, formulas, highlighted code and HTML
(rendering/budget.py); one that would cost more is shown as its escaped text, after a note.

The chat page previews the one block still streaming with markdown-it and DOMPurify
(static/stream.js): keep its element kinds and allowed tags in step with these.
"""

import asyncio
import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache
from typing import TypeVar

import nh3
from markdown_it import MarkdownIt
from markdown_it.common.utils import escapeHtml
from markdown_it.renderer import RendererHTML
from markdown_it.rules_block import StateBlock
from markdown_it.rules_core import StateCore
from markdown_it.rules_inline import StateInline
from markdown_it.token import Token
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import get_lexer_by_name
from pygments.util import ClassNotFound

from . import budget as render_budget
from .budget import RenderBudget, RenderCache, TooCostly, plain_html
from .formulas import math_plugin

# The page's own h1 (the conversation's title) and h2 stay above anything a model writes:
# a reply's "#" is an h3.
HEADING_SHIFT = 2
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


@lru_cache(maxsize=64)
def _lexer(lang: str):
    """The lexer for a language name, made once (finding and making one is a third of the
    cost of highlighting a short block)."""
    try:
        return get_lexer_by_name(lang)
    except ClassNotFound:
        return None


def _highlight(code: str, lang: str, _attrs: str) -> str:
    lexer = _lexer(lang) if lang and len(lang) <= MAX_LANGUAGE_CHARS else None
    budget = render_budget.current()
    if lexer is None or (budget is not None and not budget.highlight(len(code))):
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


# ---- the budget (rendering/budget.py), counted as the parser and renderer go ----


def _tick_inline(_state: StateInline, _silent: bool) -> bool:
    if (budget := render_budget.current()) is not None:
        budget.tick()
    return False  # Never a match: the other rules go on as before.


def _tick_block(_state: StateBlock, _start: int, _end: int, _silent: bool) -> bool:
    if (budget := render_budget.current()) is not None:
        budget.tick()
    return False


class _BudgetedRenderer(RendererHTML):
    """markdown-it's renderer, counting each token's step and the HTML it makes."""

    def render(self, tokens, options, env) -> str:
        budget = render_budget.current()
        out: list[str] = []
        for i, token in enumerate(tokens):
            if token.type == "inline":
                if token.children:
                    out.append(self.renderInline(token.children, options, env))
                continue  # Counted piece by piece in renderInline.
            if token.type in self.rules:
                piece = self.rules[token.type](tokens, i, options, env)
            else:
                piece = self.renderToken(tokens, i, options, env)
            if budget is not None:
                budget.tick()
                budget.output(len(piece))
            out.append(piece)
        return "".join(out)

    def renderInline(self, tokens, options, env) -> str:
        budget = render_budget.current()
        out: list[str] = []
        for i, token in enumerate(tokens):
            if token.type in self.rules:
                piece = self.rules[token.type](tokens, i, options, env)
            else:
                piece = self.renderToken(tokens, i, options, env)
            if budget is not None:
                budget.tick()
                budget.output(len(piece))
            out.append(piece)
        return "".join(out)


md = (
    MarkdownIt(
        "commonmark",
        {"html": False, "highlight": _highlight, "linkify": True},
        renderer_cls=_BudgetedRenderer,
    )
    .enable(["table", "strikethrough", "linkify"])
    .use(math_plugin)
)
# Bare URLs with a scheme (https://…) become links; "main.py" is a file name, not a site.
md.linkify.set({"fuzzy_link": False})
md.add_render_rule("image", _image_as_link)
md.add_render_rule("fence", _code_block)
md.core.ruler.after("inline", "task_lists", _task_lists)
md.core.ruler.push("shift_headings", _shift_headings)
md.core.ruler.push("table_alignment", _table_alignment)
# First in their chains: called at every step of the inline parser and every block start.
md.inline.ruler.before(md.inline.ruler.__rules__[0].name, "budget_tick", _tick_inline)
md.block.ruler.before(md.block.ruler.__rules__[0].name, "budget_tick", _tick_block)


render_cache = RenderCache()  # Of this process: rendered messages by their text.
RENDER_THREADS = 2  # Renderings at once off the event loop, per process (they share the GIL).
_threads = ThreadPoolExecutor(RENDER_THREADS, thread_name_prefix="render")
T = TypeVar("T")


async def rendered(work: Callable[..., T], *args) -> T:
    """`work(*args)` on a rendering thread: a long reply's Markdown holds up neither the
    event loop nor the database thread that every socket shares."""
    return await asyncio.get_running_loop().run_in_executor(_threads, work, *args)


def render_markdown(text: str) -> str:
    """Render Markdown to sanitized HTML: no script, no raw HTML, no remote images.

    Within one message's budget (rendering/budget.py), else the text escaped after a note.
    Kept in a cache bounded in bytes, so a message opened again costs nothing.
    """
    html = render_cache.get(text)
    if html is None:
        html = render_within(text, RenderBudget.for_text(text))
        if html is None:
            html = plain_html(text)
        render_cache.put(text, html)
    return html


def render_within(text: str, budget: RenderBudget) -> str | None:
    """Sanitized HTML for `text` as far as `budget` allows, or None when it would cost more."""
    if len(text) > render_budget.RENDER_MAX_CHARS:
        return None
    try:
        raw = render_budget.spending(budget, lambda: md.render(text))
    except TooCostly:
        return None
    return sanitize(raw)


def sanitize(raw: str) -> str:
    """markdown-it's HTML through nh3's allow-list: what the page may show of it."""
    return nh3.clean(
        raw,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        tag_attribute_values=TAG_ATTRIBUTE_VALUES,
        set_tag_attribute_values=SET_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel=LINK_REL,
    )


class ReplyRenderer:
    """Renders a streaming reply's finished blocks under one budget for the whole reply:
    however its blocks fall, the reply costs no more than one message of its length.
    Once the budget is spent, this block and the later ones are shown as text (the note
    once)."""

    def __init__(self) -> None:
        self.budget = RenderBudget()
        self.plain = False

    def __call__(self, text: str) -> str:
        if not self.plain:
            self.budget.allow(len(text))
            html = render_within(text, self.budget)
            if html is not None:
                return html
            self.plain = True
            return plain_html(text)
        return plain_html(text, note=False)


def highlight_css() -> str:
    """Stylesheet rules for highlighted code, light and dark (the system's, or the user's choice)."""
    light = HtmlFormatter(style="default").get_style_defs(".md pre")
    dark = HtmlFormatter(style="monokai").get_style_defs(":root[data-theme=dark] .md pre")
    system_dark = HtmlFormatter(style="monokai").get_style_defs(
        ":root:not([data-theme=light]) .md pre"
    )
    return f"{light}\n{dark}\n@media (prefers-color-scheme: dark) {{\n{system_dark}\n}}\n"
