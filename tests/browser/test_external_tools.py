"""External tools in the chat page, in Chromium against real daphne (with the test-only
source of external tools in it) and the fake upstream: the Tools menu by server, a call
that asks first approved or denied by keyboard at desktop size and on a phone, in both
themes, and a hostile result that stays inert text."""

import json
import re
import sys

import pytest

from tests.a11y import shoot
from tests.browser_support import box, connected, inside_viewport, sign_up, start_site
from tests.fake_upstream import text_stream, tool_calls_stream
from tests.tools.external_for_tests import HOSTILE

pytestmark = pytest.mark.browser
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 860}
COMMAND = [sys.executable, "-m", "tests.deployment.external_tools_server"]


@pytest.fixture(scope="module")
def site(upstream, tmp_path_factory):
    server = start_site(upstream, tmp_path_factory, "external-tools-site", command=COMMAND)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def page(site, browser):
    page = browser.new_page(viewport=DESKTOP)
    sign_up(page, site.url, "ezra")
    yield page
    page.close()


def new_chat(page, site, viewport, scheme):
    page.set_viewport_size(viewport)
    page.emulate_media(color_scheme=scheme)
    page.goto(f"{site.url}/")
    connected(page)


def offer_delete(page):
    """Offer the tool that asks first, from the Tools menu, by keyboard."""
    from playwright.sync_api import expect

    page.locator("#tools-menu summary").focus()
    page.keyboard.press("Enter")
    panel = page.locator(".tools-panel")
    expect(panel.locator(".tool-server")).to_have_text("Server: files")
    option = panel.locator("label.tool-option", has=page.locator("input[value=files__delete]"))
    expect(option).to_contain_text("Asks you before each call")
    option.locator("input").focus()
    page.keyboard.press("Space")
    expect(option.locator("input")).to_be_checked()
    page.keyboard.press("Escape")


def ask_to_delete(page, upstream, name):
    from playwright.sync_api import expect

    upstream.script(
        tool_calls_stream(("files__delete", json.dumps({"text": name}))),
        text_stream("Done with ", name, "."),
    )
    page.fill("#input", f"Delete {name}")
    page.keyboard.press("Enter")
    card = page.locator("section.approval")
    expect(card).to_be_visible(timeout=15_000)
    expect(card.locator("h3")).to_have_text("Allow files__delete on server files?")
    expect(card.locator("pre")).to_have_text(json.dumps({"text": name}, indent=2))
    return card


@pytest.mark.parametrize(
    ("viewport", "scheme", "key", "outcome"),
    [(DESKTOP, "light", "Enter", "ok"), (PHONE, "dark", "Space", "declined")],
    ids=["desktop-light-allow", "phone-dark-deny"],
)
def test_a_call_that_asks_first_is_answered_by_keyboard_and_its_result_stays_text(
    site, upstream, page, viewport, scheme, key, outcome
):
    from playwright.sync_api import expect

    new_chat(page, site, viewport, scheme)
    offer_delete(page)
    name = f"old-{scheme}.txt"
    card = ask_to_delete(page, upstream, name)
    allow, deny = card.locator(".approve-allow"), card.locator(".approve-deny")
    for button in (allow, deny):
        assert inside_viewport(page, button) or viewport is DESKTOP
        assert box(button)["height"] >= 44 and box(button)["width"] >= 44
    shoot(page, f"chat-tool-approval-{scheme}")
    # By keyboard: Tab reaches Allow, then Deny.
    allow.focus()
    if outcome == "declined":
        page.keyboard.press("Tab")
        expect(deny).to_be_focused()
    page.keyboard.press(key)
    expect(card).to_have_count(0, timeout=15_000)
    answer = page.locator("article.message.assistant").last
    expect(answer.locator(".body")).to_have_text(f"Done with {name}.", timeout=15_000)

    step = page.locator("article.message.tool .tool-card").last
    expect(step.locator("summary").first).to_contain_text(
        re.compile(rf"Tool · files__delete \(files\) · {outcome} · \d+")
    )
    step.locator("summary").first.click()
    result = step.locator("pre").nth(1)
    if outcome == "ok":
        # The hostile result is shown as the text it is: no element, no script ran.
        expect(result).to_have_text(f"deleted {name} {HOSTILE}")
        assert step.locator("img, script, strong").count() == 0
        assert page.evaluate("window.__pwned") is None
    else:
        expect(result).to_have_text("Error: the user declined this call; it was not made.")
    sent = answer.locator("details.sent")
    sent.locator("summary").click()
    expect(sent).to_contain_text("files__delete: server files, tool delete, asks before each call")
    expect(sent).to_contain_text(re.compile(rf"files__delete \(server files\): {outcome}, \d+ ms"))
    shoot(page, f"chat-tool-approved-{scheme}")


def test_a_reloaded_page_shows_the_request_still_waiting(site, upstream, page):
    from playwright.sync_api import expect

    new_chat(page, site, DESKTOP, "light")
    offer_delete(page)
    ask_to_delete(page, upstream, "kept.txt")
    page.reload()
    connected(page)
    card = page.locator("section.approval")
    expect(card).to_be_visible(timeout=15_000)  # Sent again with the conversation's state.
    card.locator(".approve-allow").focus()
    page.keyboard.press("Enter")
    expect(card).to_have_count(0, timeout=15_000)
    expect(page.locator("article.message.assistant").last.locator(".body")).to_have_text(
        "Done with kept.txt.", timeout=15_000
    )
