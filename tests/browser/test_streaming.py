"""Streaming and size, in Chromium: text streams where its final HTML puts it, the preview
lines up with the server's blocks whatever the characters, keeps the page's CSP and table
alignment, a 1 MB conversation opens and can be read to its first message, and a reply too
costly to format reads as plain text under its note, on a desktop and a phone, light and
dark."""

import re
import threading

import pytest

from tests.a11y import shoot
from tests.browser.tester import sign_in
from tests.browser_support import connected, django, start_site
from tests.fake_upstream import Reply, text_stream

pytestmark = pytest.mark.browser
PHONE = {"width": 390, "height": 844}

MARKERS = {"alphaword": "P", "betaword": "LI", "gammaword": "PRE", "deltaword": "TD"}
REPLY = (
    "Intro alphaword here.\n\n"
    "- item betaword\n- second item\n\n"
    "```python\nx = 1  # gammaword\ny = 2\n```\n\n"
    "| a | b |\n|---|---|\n| deltaword | 2 |\n\n"
    "Outro."
)

# Every 15 ms, for each marker on screen in the streaming reply: its enclosing block.
RECORDER = """markers => {
  const seen = Object.fromEntries(markers.map(m => [m, []]));
  const timer = setInterval(() => {
    const reply = [...document.querySelectorAll("article.message.assistant")].pop();
    if (!reply || !reply.classList.contains("status-streaming")) return;
    const walker = document.createTreeWalker(reply.querySelector(".body"), NodeFilter.SHOW_TEXT);
    while (walker.nextNode()) {
      for (const m of markers) {
        if (walker.currentNode.textContent.includes(m)) {
          const block = walker.currentNode.parentElement.closest("p, li, pre, td, th");
          seen[m].push(block ? block.tagName : "none");
        }
      }
    }
  }, 15);
  window.__streamSeen = () => { clearInterval(timer); return seen; };
}"""
FINAL = """markers => {
  const reply = [...document.querySelectorAll("article.message.assistant")].pop();
  const found = {};
  const walker = document.createTreeWalker(reply.querySelector(".body"), NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    for (const m of markers) {
      if (walker.currentNode.textContent.includes(m)) {
        found[m] = walker.currentNode.parentElement.closest("p, li, pre, td, th").tagName;
      }
    }
  }
  return found;
}"""


@pytest.fixture(scope="module")
def site(upstream, tmp_path_factory):  # This module's own server and database.
    server = start_site(upstream, tmp_path_factory, "streaming-site")
    yield server
    server.stop()


def test_streamed_text_sits_in_the_element_its_final_html_puts_it_in(site, upstream, browser):
    from playwright.sync_api import expect

    page = browser.new_page(viewport={"width": 1280, "height": 800})
    sign_in(page, site.url)
    pieces = [REPLY[i : i + 5] for i in range(0, len(REPLY), 5)]
    upstream.script(text_stream(*pieces, delay=0.06))
    page.evaluate(RECORDER, list(MARKERS))
    page.fill("#input", "Show me blocks")
    page.keyboard.press("Enter")
    reply = page.locator("article.message.assistant").last
    expect(reply).to_have_class(re.compile("status-complete"), timeout=15_000)
    seen = page.evaluate("window.__streamSeen()")
    final = page.evaluate(FINAL, list(MARKERS))
    assert final == MARKERS
    for marker, tag in MARKERS.items():
        assert seen[marker], f"{marker} was never seen while streaming"
        assert set(seen[marker]) == {tag}, (
            f"{marker} streamed in {set(seen[marker])}, ends in {tag}"
        )
    page.close()


SEED = """
import json
from django.contrib.auth import get_user_model
from conversations import services
from tests import factories
user = get_user_model().objects.get(username="tester")
conversation = services.conversation_create(owner=user, persona=None, model="test-model", title="Big")
parent = None
for i in range(25):
    parent = factories.message_append(conversation=conversation, role="user", content=f"Question {i}", parent=parent)
    parent = factories.message_append(conversation=conversation, role="assistant", content=f"Answer {i}. " + "Long text here. " * 2500, parent=parent)
print(json.dumps(conversation.pk))
"""


def test_a_one_megabyte_conversation_opens_and_reads_back_to_its_start(site, browser):
    from playwright.sync_api import expect

    page = browser.new_page(viewport={"width": 1280, "height": 800})
    sign_in(page, site.url)
    conversation = django(site, SEED)
    page.goto(f"{site.url}/conversations/{conversation}/")
    connected(page)
    messages = page.locator("article.message")
    expect(messages.last).to_contain_text("Answer 24.")
    expect(page.locator("#load-older")).to_be_visible()
    for _ in range(60):  # Scroll to the top until the first message is there.
        if page.locator("article.message.user").first.inner_text().find("Question 0") >= 0:
            break
        page.locator("#messages").evaluate("el => { el.scrollTop = 0; }")
        page.wait_for_timeout(200)
    expect(messages).to_have_count(50)
    expect(messages.first).to_contain_text("Question 0")
    expect(page.locator("#load-older")).to_be_hidden()
    page.close()


COSTLY = """
import json
from django.contrib.auth import get_user_model
from conversations import services
from tests import factories
user = get_user_model().objects.get(username="tester")
conversation = services.conversation_create(owner=user, persona=None, model="test-model", title="Costly")
asked = factories.message_append(conversation=conversation, role="user", content="Formulas", parent=None)
text = "Lines kept:\\n" + "$x$ " * 12000 + "\\n<b>not bold</b> " + "averyveryverylongword" * 40
factories.message_append(conversation=conversation, role="assistant", content=text, parent=asked)
print(json.dumps(conversation.pk))
"""


def test_a_reply_too_costly_to_format_reads_as_text_under_its_note(site, browser):
    from playwright.sync_api import expect

    conversation = None
    for viewport, device in (({"width": 1280, "height": 800}, "desktop"), (PHONE, "phone")):
        page = browser.new_page(viewport=viewport, is_mobile=device == "phone")
        sign_in(page, site.url)
        conversation = conversation or django(site, COSTLY)
        page.goto(f"{site.url}/conversations/{conversation}/")
        connected(page)
        body = page.locator("article.message.assistant .body").last
        expect(body.locator(".render-note")).to_have_text(
            "This reply is too large to format; shown as plain text."
        )
        text = body.locator(".plain-text")
        expect(text).to_contain_text("$x$ $x$")
        assert body.locator("math, b").count() == 0  # Text, not markup.
        assert text.inner_text().startswith("Lines kept:\n")  # Its lines as written.
        # Long words wrap: nothing reaches past the reply's own width.
        assert page.evaluate("el => el.scrollWidth <= el.clientWidth + 1", text.element_handle()), (
            f"{device}: the text runs past its reply"
        )
        body.locator(".render-note").scroll_into_view_if_needed()
        shoot(page, f"plain-text-reply-{device}", full_page=False)
        page.close()


def paused_after(reply: Reply, marker: str, event: threading.Event) -> Reply:
    """The reply's stream waits for `event` once the piece holding `marker` is sent."""
    at = next(
        i for i, step in enumerate(reply.steps) if step[0] == "send" and marker.encode() in step[1]
    )
    reply.steps.insert(at + 1, ("wait", event))
    return reply


# Emoji and other characters outside the Basic Multilingual Plane: one character each to the
# server, two UTF-16 code units each to JavaScript.
EMOJI_PIECES = [
    "😀" * 12 + " alphaword 𝄞𝄞\n\n",
    "𝄞" * 8 + " betaword 😀\n\n",
    "- gammaword 🎉\n- 🎉 more\n\n",
    "𝄞😀 deltaword",
    " and epsilonword 😀.\n\nLast 🎉.",
]
EMOJI_MARKERS = ["alphaword", "betaword", "gammaword", "deltaword", "epsilonword"]
COUNTS = r"""markers => {
  const reply = [...document.querySelectorAll("article.message.assistant")].pop();
  const text = reply.querySelector(".body").textContent;
  return {
    counts: Object.fromEntries(markers.map(m => [m, text.split(m).length - 1])),
    broken: /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]|\ufffd/.test(text),
    done: reply.querySelector(".done")?.textContent ?? null,
    preview: reply.querySelector(".preview")?.textContent ?? null,
  };
}"""


def test_a_reply_with_emoji_shows_each_piece_once_while_streaming_and_after(
    site, upstream, browser
):
    from playwright.sync_api import expect

    page = browser.new_page(viewport={"width": 1280, "height": 800})
    sign_in(page, site.url)
    resume = threading.Event()
    upstream.script(paused_after(text_stream(*EMOJI_PIECES, delay=0.05), "deltaword", resume))
    page.fill("#input", "Emoji, please")
    page.keyboard.press("Enter")
    reply = page.locator("article.message.assistant").last
    try:
        # Paused in the paragraph after the list: the two paragraphs before it are finished
        # blocks (the list may still grow), the list and that paragraph are previewed.
        expect(reply.locator(".done p")).to_have_count(2)
        expect(reply.locator(".preview")).to_contain_text("deltaword")
        seen = page.evaluate(COUNTS, EMOJI_MARKERS[:4])
        assert seen["counts"] == dict.fromkeys(EMOJI_MARKERS[:4], 1), seen
        assert not seen["broken"], seen
        assert re.sub(r"\s+", "", seen["preview"]) == "gammaword🎉🎉more𝄞😀deltaword", seen
    finally:
        resume.set()
    expect(reply).to_have_class(re.compile("status-complete"), timeout=15_000)
    final = page.evaluate(COUNTS, EMOJI_MARKERS)
    assert final["counts"] == dict.fromkeys(EMOJI_MARKERS, 1), final
    assert not final["broken"] and "😀" * 12 + " alphaword 𝄞𝄞" in reply.inner_text()
    page.close()


# Every CSP violation the page reports, from its first script on.
CSP_LISTENER = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__violations.push(`${e.violatedDirective} at ${e.sourceFile}:${e.lineNumber}:${e.columnNumber}`);
});
"""
MARKDOWN_REPLY = (
    "## Plan\n\nSome **bold**, `code` and ~~old~~ text, with $e^{i\\pi}$ inline.\n\n"
    "| item | qty | price |\n|:-----|:---:|------:|\n| apples | 3 | 1.20 |\n| pears | 10 | 12.00 |\n\n"
    "```python\ndef total(rows):\n    return sum(rows)\n```\n\n"
    "1. first\n2. second\n   - nested\n\n- [x] done\n- [ ] to do\n\n"
    "$$\n\\frac{a}{b} + \\sqrt{2}\n$$\n\n"
    "> a quote\n\n"
    "| left | centre | right |\n|:--|:-:|--:|\n| l | c | rightword |"
)


def test_streaming_markdown_breaks_no_rule_of_the_pages_csp(site, upstream, browser):
    from playwright.sync_api import expect

    page = browser.new_page(viewport={"width": 1280, "height": 800})
    page.add_init_script(CSP_LISTENER)
    sign_in(page, site.url)
    pieces = [MARKDOWN_REPLY[i : i + 7] for i in range(0, len(MARKDOWN_REPLY), 7)]
    upstream.script(text_stream(*pieces, delay=0.03))
    page.fill("#input", "A plan with a table")
    page.keyboard.press("Enter")
    reply = page.locator("article.message.assistant").last
    expect(reply).to_have_class(re.compile("status-complete"), timeout=20_000)
    expect(reply.locator("math")).to_have_count(2)
    assert page.evaluate("window.__violations") == []
    page.reload()  # The conversation as saved, drawn from the server's HTML.
    connected(page)
    expect(page.locator("article.message.assistant td", has_text="rightword")).to_be_visible()
    assert page.evaluate("window.__violations") == []
    page.close()


TABLE_REPLY = "| left | centre | right |\n|:--|:-:|--:|\n| l | c | 1.50 |\n| l2 | c2 | rightword |"


def test_table_columns_keep_their_alignment_while_streaming_and_after(site, upstream, browser):
    from playwright.sync_api import expect

    page = browser.new_page(viewport={"width": 1280, "height": 800})
    sign_in(page, site.url)
    resume = threading.Event()
    head = TABLE_REPLY.removesuffix("rightword |")
    pieces = [head[i : i + 7] for i in range(0, len(head), 7)] + ["rightword", " |"]
    upstream.script(paused_after(text_stream(*pieces, delay=0.03), "rightword", resume))
    page.fill("#input", "A table")
    page.keyboard.press("Enter")
    reply = page.locator("article.message.assistant").last
    align = "cell => getComputedStyle(cell).textAlign"
    try:
        # The table is still being written: the preview aligns its columns.
        cell = reply.locator(".preview td", has_text="rightword")
        expect(cell).to_have_class("align-right")
        assert cell.evaluate(align) == "right"
    finally:
        resume.set()
    expect(reply).to_have_class(re.compile("status-complete"), timeout=20_000)
    cells = reply.locator("th, td")
    assert [c.evaluate(align) for c in cells.all()] == ["left", "center", "right"] * 3
    page.close()
