"""Math in Markdown: `$…$` and `$$…$$` (mdit-py-plugins' dollarmath), `\\(…\\)` and
`\\[…\\]`, drawn as MathML (latex2mathml), each search for a closing delimiter bounded so
that no run of unclosed delimiters costs a reply its square, and each formula counted
against the rendering budget (rendering/budget.py) as the parser finds it.
"""

import html
import re
from xml.etree.ElementTree import Element, SubElement, tostring

from latex2mathml.converter import convert_to_element
from markdown_it import MarkdownIt
from markdown_it.common.utils import escapeHtml
from markdown_it.rules_block import StateBlock
from markdown_it.rules_inline import StateInline
from mdit_py_plugins.dollarmath import dollarmath_plugin

from . import budget as render_budget

# Longer formulas are shown as their TeX source: converting is work, and nobody reads
# a 4,000-character formula rendered anyway.
MAX_MATH_CHARS = 4000


def _math(latex: str, options: dict) -> str:
    """TeX as MathML, keeping its source for copying; TeX that does not convert stays as TeX."""
    display = "block" if options.get("display_mode") else "inline"
    budget = render_budget.current()
    if budget is not None:
        budget.check()
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


def math_plugin(md: MarkdownIt) -> None:
    """`$…$`, `$$…$$`, `\\(…\\)` and `\\[…\\]` as MathML, each formula counted against the
    rendering budget as it is found."""
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
    rules.at("math_block", _counted_block(_dollar_block(dollars)), interrupts)
    md.block.ruler.before("fence", "math_block_bracket", _counted_block(_bracket_block), interrupts)
    inline = md.inline.ruler
    inline.at("math_inline", _counted_inline(inline.__rules__[inline.__find__("math_inline")].fn))
    inline.before("escape", "math_inline_bracket", _counted_inline(_bracket_inline))


def _counted_inline(rule):
    """An inline math rule whose formulas count against the budget as they are found, so
    a reply of 250,000 formulas stops being parsed at the limit, not after all of them."""

    def counted(state: StateInline, silent: bool) -> bool:
        found = rule(state, silent)
        if found and not silent and (budget := render_budget.current()) is not None:
            budget.formula()
        return found

    return counted


def _counted_block(rule):
    def counted(state: StateBlock, start: int, end: int, silent: bool) -> bool:
        found = rule(state, start, end, silent)
        if found and not silent and (budget := render_budget.current()) is not None:
            budget.formula()
        return found

    return counted
