"""Streaming and size, in Chromium: text streams where its final HTML puts it, a 1 MB
conversation opens and can be read to its first message, and a reply too costly to format
reads as plain text under its note, on a desktop and a phone, light and dark."""

import re

import pytest

from tests.a11y import shoot
from tests.browser_support import django, start_site
from tests.fake_upstream import text_stream
from tests.test_browser import (  # noqa: F401 - fixtures shared with the other browser tests
    ARTIFACTS,
    browser,
    connected,
    no_script_errors,
    sign_in,
    upstream,
)

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
user = get_user_model().objects.get(username="tester")
conversation = services.conversation_create(owner=user, persona=None, model="test-model", title="Big")
parent = None
for i in range(25):
    parent = services.message_append(conversation=conversation, role="user", content=f"Question {i}", parent=parent)
    parent = services.message_append(conversation=conversation, role="assistant", content=f"Answer {i}. " + "Long text here. " * 2500, parent=parent)
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
user = get_user_model().objects.get(username="tester")
conversation = services.conversation_create(owner=user, persona=None, model="test-model", title="Costly")
asked = services.message_append(conversation=conversation, role="user", content="Formulas", parent=None)
text = "Lines kept:\\n" + "$x$ " * 12000 + "\\n<b>not bold</b> " + "averyveryverylongword" * 40
services.message_append(conversation=conversation, role="assistant", content=text, parent=asked)
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
