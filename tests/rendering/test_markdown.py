"""Markdown to sanitized HTML: math as MathML, task lists, links, headings, code labels."""

import re

import pytest

from conversations.chat.blocks import BlockSplitter, _block_starts
from conversations.rendering.formulas import MAX_MATH_CHARS
from conversations.rendering.markdown import md, render_markdown


def test_dollar_math_becomes_mathml_and_money_stays_text():
    html = render_markdown(r"Euler: $e^{i\pi}+1=0$, and it costs $5 or $10.")
    assert '<span class="math inline"><math display="inline">' in html
    assert "<msup><mi>e</mi>" in html and "<mi>π</mi>" in html
    # The TeX is kept for copying, in MathML's own annotation (not drawn).
    assert '<annotation encoding="application/x-tex">e^{i\\pi}+1=0</annotation>' in html
    assert "it costs $5 or $10." in html


def test_display_math_in_both_notations_even_right_after_a_line_of_text():
    html = render_markdown("The formula:\n$$\nE = mc^2\n$$\nand\n\\[\n\\int_0^1 x\\,dx\n\\]")
    assert html.count('<div class="math block">') == 2
    assert html.count('<math display="block">') == 2
    assert "<p>The formula:</p>" in html and "<msubsup><mo>∫</mo>" in html
    inline = render_markdown(r"where \(a < b\) holds")
    assert '<math display="inline">' in inline and "<mo>&lt;</mo>" in inline


def test_math_that_does_not_convert_or_is_too_long_stays_as_its_source():
    assert '<code class="math-source">x^{</code>' in render_markdown("$x^{$")
    long = "x+" * (MAX_MATH_CHARS // 2 + 10) + "x"
    html = render_markdown(f"$${long}$$")
    assert "<math" not in html and '<code class="math-source">' in html
    deep = "{" * 2000 + "x" + "}" * 2000  # Deeper than latex2mathml can recurse.
    assert '<code class="math-source">' in render_markdown(f"$${deep}$$")


def test_math_cannot_carry_script_links_or_markup():
    html = render_markdown(
        r"$\text{<script>alert(1)</script> a<b}$ $\href{javascript:alert(1)}{x}$ "
        r"$\color{red}{x}$"
    )
    assert "<script" not in html and "&lt;script&gt;" in html
    assert "javascript" not in html.replace("\\href{javascript", "")  # Only in the TeX source.
    assert "href=" not in html and "mathcolor" not in html


def test_task_lists_are_labelled_boxes_that_cannot_be_ticked():
    html = render_markdown("- [ ] write tests\n- [x] **ship** it\n- plain\n\n1. [X] ordered")
    assert '<ul class="contains-task-list">' in html
    assert (
        '<li class="task-list-item"><label><input class="task-list-item-checkbox" '
        'disabled="disabled" type="checkbox"> write tests</label></li>'
    ) in html
    assert 'checked="checked" disabled="disabled" type="checkbox"> <strong>ship</strong>' in html
    assert "<li>plain</li>" in html and '<ol class="contains-task-list">' in html
    # The model cannot make any other kind of input.
    assert "<input" not in render_markdown('<input type="text" value="x">')


def test_bare_urls_become_links_that_open_in_a_new_tab_safely():
    html = render_markdown(
        "See https://example.com/a?b=1 and [docs](https://docs.example) and main.py"
    )
    assert html.count('target="_blank" rel="noopener noreferrer nofollow"') == 2
    assert '<a href="https://example.com/a?b=1" target="_blank"' in html
    assert "main.py</p>" in html  # A file name, not a link.


def test_headings_sit_below_the_pages_own():
    html = render_markdown("# One\n\n## Two\n\n##### Five\n\n###### Six")
    assert "<h3>One</h3>" in html and "<h4>Two</h4>" in html
    assert "<h6>Five</h6>" in html and "<h6>Six</h6>" in html
    assert "<h1>" not in html and "<h2>" not in html


def test_code_blocks_carry_a_language_label_and_quotes_stay_quotes():
    html = render_markdown("```python\nx = 1\n```\n\n```\nplain\n```\n\n> quoted")
    assert '<div class="code-block"><div class="code-lang">python</div><pre><code' in html
    assert '<div class="code-block"><pre><code>plain' in html
    assert "<blockquote>\n<p>quoted</p>\n</blockquote>" in html
    label = render_markdown('```<img/src=x>"\nx\n```')
    assert "<img" not in label


def test_table_columns_keep_their_alignment_as_classes():
    html = render_markdown("| a | b | c | d |\n|:--|:-:|--:|---|\n| 1 | 2 | 3 | 4 |")
    for cell in ("th", "td"):
        assert f'<{cell} class="align-left">' in html
        assert f'<{cell} class="align-center">' in html
        assert f'<{cell} class="align-right">' in html
    assert "<th>d</th>" in html and "<td>4</td>" in html and "style" not in html


REPLY = (
    "Intro with $a^2$ and a link https://example.com.\n"
    "$$\nE = mc^2\n$$\n\n"
    "- [ ] first\n- [x] second\n\n"
    "\\[\n\\sum_{i=1}^n i\n\\]\n\n"
    "## Heading\n\n"
    "```python\nx = 1\n\ny = 2\n```\n\n"
    "> a quote\n\n"
    "Outro \\(x\\)."
)


@pytest.mark.parametrize("size", [1, 3, 7, 40])
def test_streamed_blocks_render_once_each_and_add_up_to_the_final_html(size):
    rendered: list[str] = []

    def render(text: str) -> str:
        rendered.append(text)
        return render_markdown(text)

    splitter = BlockSplitter(render)
    blocks = []
    for start in range(0, len(REPLY), size):
        splitter.feed(REPLY[start : start + size])
        splitter._next_try = 0  # Split at every chance, not as the clock allows.
        html = splitter.split()
        if html is not None:
            blocks.append(html)
    final = "".join(blocks) + render_markdown(REPLY[splitter.stable :])
    assert final == render_markdown(REPLY)
    # Every block was rendered once: the pieces rendered are the reply, in order, no overlap.
    assert "".join(rendered) == REPLY[: splitter.stable]
    assert len(blocks) >= 3 and splitter.stable > len(REPLY) // 2
    # Math blocks are top-level blocks with a place in the text, so they split like others.
    top = [t for t in md.parse(REPLY) if t.level == 0 and t.map]
    assert sum(t.type == "math_block" for t in top) == 2


def test_the_splitter_finds_blocks_where_a_full_parse_does():
    """It parses block rules only, for speed: the blocks it finds must be the full parse's."""
    whole = REPLY[: REPLY.rfind("\n") + 1]
    full = [t.map[0] for t in md.parse(whole) if t.level == 0 and t.map]
    assert _block_starts(whole) == full and len(full) > 5


def test_math_delimiters_never_cost_a_long_reply_its_square():
    """A long run of unclosed delimiters parses in one pass (the search is remembered)."""
    for text in ("$$a\n" * 3000, "\\[a\n" * 3000, "\\(a " * 3000, "- [ ] x\n" * 3000):
        tokens = md.parse(text)
        assert tokens  # Finishing at all, quickly, is the point; bench/ has the timings.
    assert re.search(r"<math", render_markdown("$$a\n" * 10 + "$$"))
