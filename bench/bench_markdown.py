"""Rendering replies that try hard to be slow: long runs of unclosed math delimiters,
long task lists, and an ordinary long reply, each parsed and rendered once.

Target (issue 10): every one renders in time that grows with its length, not its square
(four times the text, about four times the time; this machine is noisy). Measured here,
on 2 cores: 40,000 unclosed `$$` lines (160 kB) in 1.8 s, where the plugin alone took
minutes; 2.2 MB of prose with a link in every paragraph in about 7 s, a third of it
markdown-it itself and most of the rest finding the links. These time the parser and
sanitizer alone, with no budget: what the input costs them, not what the server allows.

Then two replies of a megabyte rendered as the server does (its budget on, its cache
off), against the ordinary one rendered with no budget in the same run: an ordinary
reply (prose, lists, code, tables, some math) renders whole at about the baseline's
cost; a megabyte of `$x$ ` (250,000 formulas: some 12 s of CPU and 41 MB of HTML with no
budget) is shown as text in a small fraction of it.

Run: make bench
"""

import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chatsite.settings_test")

import django  # noqa: E402

django.setup()

from conversations.rendering.budget import PLAIN_NOTE  # noqa: E402
from conversations.rendering.markdown import md, render_cache, render_markdown, sanitize  # noqa: E402
from tests.render_samples import math_reply, realistic_reply  # noqa: E402

CASES = {
    "unclosed $$ lines": "$$a\n",
    "unclosed \\[ lines": "\\[a\n",
    "unclosed \\( in one paragraph": "\\(a ",
    "single $ in one paragraph": "$a ",
    "task list items": "- [ ] x\n",
    "inline math": "Then $x^2 + y^2 = z^2$ holds.\n\n",
    "prose with links": "See https://example.com/page and **bold** text here.\n\n",
}


def timed(text: str) -> float:
    """Seconds the parser and sanitizer take over `text`, with no budget."""
    started = time.perf_counter()
    sanitize(md.render(text))
    return time.perf_counter() - started


def served(text: str) -> tuple[float, str]:
    """Seconds to render `text` as the server does, the cache left out, and the HTML."""
    render_cache.clear()
    started = time.perf_counter()
    html = render_markdown(text)
    return time.perf_counter() - started, html


def main() -> None:
    md.parse("warm up $x$")
    print("Markdown rendering, seconds for 10,000 and 40,000 repeats (linear: about 4x):")
    for name, unit in CASES.items():
        small, large = timed(unit * 10_000), timed(unit * 40_000)
        print(f"  {name:32} {small:6.2f} s  {large:6.2f} s  ({large / small:.1f}x)")

    ordinary, formulas = realistic_reply(), math_reply()
    baseline = timed(ordinary)
    print("Replies of a megabyte, rendered as the server does (budget on, cache off):")
    for name, text in (("ordinary Markdown", ordinary), ("`$x$ ` repeated", formulas)):
        seconds, html = served(text)
        shown = (
            "shown as text" if html.startswith(f'<p class="render-note">{PLAIN_NOTE}') else "whole"
        )
        print(f"  {name:32} {seconds:6.2f} s  ({seconds / baseline:.2f}x the baseline), {shown}")
    print(f"  baseline: the ordinary one with no budget {baseline:6.2f} s")


if __name__ == "__main__":
    main()
