"""Rendering replies that try hard to be slow: long runs of unclosed math delimiters,
long task lists, and an ordinary long reply, each parsed and rendered once.

Target (issue 10): every one renders in time that grows with its length, not its square
(four times the text, about four times the time; this machine is noisy). Measured here,
on 2 cores: 40,000 unclosed `$$` lines (160 kB) in 1.8 s, where the plugin alone took
minutes; 2.2 MB of prose with a link in every paragraph in about 7 s, a third of it
markdown-it itself and most of the rest finding the links.

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

from conversations.rendering import md, render_markdown  # noqa: E402

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
    started = time.perf_counter()
    render_markdown.__wrapped__(text)  # Not the cache: the work itself.
    return time.perf_counter() - started


def main() -> None:
    md.parse("warm up $x$")
    print("Markdown rendering, seconds for 10,000 and 40,000 repeats (linear: about 4x):")
    for name, unit in CASES.items():
        small, large = timed(unit * 10_000), timed(unit * 40_000)
        print(f"  {name:32} {small:6.2f} s  {large:6.2f} s  ({large / small:.1f}x)")


if __name__ == "__main__":
    main()
