"""Long replies for the rendering bounds: hostile math, and realistic mixed Markdown."""

PARAGRAPH = (
    "The **cache** keeps recent results close, so a second request for the same key is "
    "answered without touching the database. See https://example.com/docs/cache for the "
    "details, and note that `maxsize` counts entries, not bytes; with $n$ entries of "
    "average size $s$ the memory is about $n \\cdot s$.\n\n"
)
LIST = (
    "- First, measure where the time goes with a profiler.\n"
    "- Then bound the work: a *deadline*, a cap on the number of formulas.\n"
    "- [x] Write the test first\n"
    "- [ ] Make it pass\n"
    "  1. nested item with `code`\n"
    "  2. another nested item\n\n"
)
CODE = (
    "```python\n"
    "def fibonacci(n: int) -> int:\n"
    '    """The n-th Fibonacci number, iteratively."""\n'
    "    a, b = 0, 1\n"
    "    for _ in range(n):\n"
    "        a, b = b, a + b\n"
    "    return a\n"
    "```\n\n"
    "```javascript\n"
    "const total = items.reduce((sum, item) => sum + item.price * item.count, 0);\n"
    "console.log(`Total: ${total.toFixed(2)}`);\n"
    "```\n\n"
)
TABLE = (
    "| name | type | default | meaning |\n"
    "|---|---|---:|---|\n"
    "| `size` | int | 256 | how many entries |\n"
    "| `ttl` | float | 60.0 | seconds an entry lives |\n"
    "| `budget` | int | 8 MiB | bytes the cache may hold |\n\n"
)
DISPLAY = "$$\n\\sum_{i=1}^{n} i = \\frac{n(n+1)}{2}\n$$\n\n"
HEADING = "## Part {i}\n\n"


def realistic_reply(size: int = 1_000_000) -> str:
    """About `size` characters of what a model writes: headings, prose, lists, code,
    tables and a little math, over and over."""
    parts, total, i = [], 0, 0
    while total < size:
        section = HEADING.format(i=i) + PARAGRAPH * 2 + LIST + CODE + TABLE + PARAGRAPH + DISPLAY
        parts.append(section)
        total += len(section)
        i += 1
    return "".join(parts)


def math_reply(size: int = 1_000_000) -> str:
    """`size` characters of `$x$ `: a formula every four characters."""
    return "$x$ " * (size // 4)


def sections(text: str) -> int:
    """How many sections a realistic_reply has (each has one table, heading, display formula
    and Python block, and two code blocks and two task boxes)."""
    return text.count("## Part ")
