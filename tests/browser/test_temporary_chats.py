"""Temporary chats and the header's quick actions in Chromium, by keyboard only, on a
desktop and a phone, in both themes: start a temporary chat, see what the page says of it,
leave it and find it gone once the runner ran; rename and delete from the header; two
conversations with one title show their dates."""

import re

import pytest

from tests.a11y import shoot, small_targets
from tests.browser_support import connected, django, seed_conversation, sign_up, start_site
from tests.fake_upstream import text_stream

pytestmark = pytest.mark.browser

DESKTOP = {"width": 1280, "height": 860}
PHONE = {"width": 390, "height": 844}

RUN_THE_RUNNER = """
import json
from conversations.deletion import runner
print(json.dumps(runner.run(owner="browser-test").counts["temporary"]))
"""


@pytest.fixture(scope="module")
def site(upstream, tmp_path_factory):
    server = start_site(upstream, tmp_path_factory, "temporary-site")
    yield server
    server.stop()


def press_on(page, selector: str, key: str = "Enter") -> None:
    """Focus a control, as Tab would, and press a key on it."""
    page.locator(selector).focus()
    page.keyboard.press(key)


def open_from_sidebar(page, conversation_id: int, phone: bool) -> None:
    if phone:
        press_on(page, "#toggle-sidebar")
    press_on(page, f'#conversation-list li[data-id="{conversation_id}"] > a')


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_a_temporary_chat_by_keyboard_then_header_actions(site, upstream, browser, viewport):
    from playwright.sync_api import expect

    phone = viewport is PHONE
    name = "phone" if phone else "desktop"
    page = browser.new_page(viewport=viewport, has_touch=phone, is_mobile=phone)
    page.on("dialog", lambda dialog: dialog.accept())  # The delete confirmation.
    username = f"tess-{name}"
    sign_up(page, site.url, username)
    saved = seed_conversation(site, username, pairs=1, title="Kept chat")
    twins = [seed_conversation(site, username, pairs=1, title="Same title") for _ in range(2)]
    page.reload()
    connected(page)

    # Two conversations of one title: each shows its date beneath it; others do not.
    for twin in twins:
        expect(page.locator(f'#conversation-list li[data-id="{twin}"] .item-date')).to_have_text(
            re.compile(r"\d")
        )
    expect(page.locator(f'#conversation-list li[data-id="{saved}"] .item-date')).to_have_count(0)

    # Start a temporary chat.
    toggle = page.locator("#temporary-toggle")
    notice = page.locator("#temporary-notice")
    expect(notice).to_be_hidden()
    press_on(page, "#temporary-toggle")
    expect(toggle).to_have_attribute("aria-pressed", "true")
    expect(notice).to_be_visible()
    expect(notice).to_contain_text("not saved in your list or search")
    expect(notice).to_contain_text("after 24 hours")
    expect(notice).to_contain_text("never reviewed or used for datasets")
    expect(page.locator("#input")).to_be_focused()
    if phone:
        assert small_targets(page) == [], small_targets(page)
    upstream.script(text_stream("A secret ", "answer."))
    page.keyboard.type("Something private")
    page.keyboard.press("Enter")
    reply = page.locator("article.message.assistant").last
    expect(reply).to_have_class(re.compile("status-complete"))
    page.wait_for_url(re.compile(r"/conversations/\d+/$"))
    temporary_url = page.url
    temporary_id = int(temporary_url.rstrip("/").rsplit("/", 1)[1])
    expect(notice).to_be_visible()  # Still said while it is shown.
    expect(toggle).to_be_hidden()
    expect(page.locator(f'#conversation-list li[data-id="{temporary_id}"]')).to_have_count(0)
    expect(page.locator("#report-conversation")).to_be_hidden()  # Never reviewed.
    expect(page.locator("#share-conversation")).to_be_hidden()  # About to be deleted.
    shoot(page, f"temporary-chat-{name}")

    # Leave it: open a saved conversation. It is closed; the runner deletes it.
    open_from_sidebar(page, saved, phone)
    page.wait_for_url(f"{site.url}/conversations/{saved}/")
    expect(page.locator("article.message.assistant").last).to_have_class(
        re.compile("status-complete")
    )
    expect(notice).to_be_hidden()
    assert django(site, RUN_THE_RUNNER) == {"conversations": 1, "messages": 2}
    response = page.request.get(temporary_url)
    assert response.status == 404
    page.goto(temporary_url)
    expect(page.locator("body")).to_contain_text("Not Found")
    page.goto(f"{site.url}/conversations/{saved}/")
    connected(page)
    expect(page.locator(f'#conversation-list li[data-id="{temporary_id}"]')).to_have_count(0)

    # Rename from the header's ⋯ menu, by keyboard.
    press_on(page, "#export > summary")
    press_on(page, "#rename-conversation")
    field = page.locator("#title input.rename")
    expect(field).to_be_focused()
    page.keyboard.press("Control+A")
    page.keyboard.type("Renamed here")
    page.keyboard.press("Enter")
    expect(page.locator("#title")).to_have_text("Renamed here")
    expect(page.locator("#export > summary")).to_be_focused()
    expect(page.locator(f'#conversation-list li[data-id="{saved}"] > a')).to_have_text(
        "Renamed here"
    )
    # Esc leaves the title as it was.
    press_on(page, "#export > summary")
    press_on(page, "#rename-conversation")
    page.keyboard.type("Not this")
    page.keyboard.press("Escape")
    expect(page.locator("#title")).to_have_text("Renamed here")
    shoot(page, f"header-actions-{name}")

    # Delete from the header's ⋯ menu, by keyboard (it asks first).
    press_on(page, "#export > summary")
    shoot(page, f"header-menu-{name}")
    press_on(page, "#delete-conversation")
    page.wait_for_url(f"{site.url}/")
    expect(page.locator(f'#conversation-list li[data-id="{saved}"]')).to_have_count(0)
    expect(page.locator("#export")).to_be_hidden()
    expect(page.locator("#temporary-toggle")).to_be_visible()
    gone = django(
        site,
        "import json\nfrom conversations.models import Conversation\n"
        f"print(json.dumps(Conversation.objects.filter(pk={saved}).exists()))",
    )
    assert gone is False

    # Turning to a new chat (Ctrl+Shift+O) closes a temporary one, and the runner takes it.
    press_on(page, "#temporary-toggle")
    expect(notice).to_be_visible()
    upstream.script(text_stream("Another secret."))
    page.keyboard.type("Another private thing")
    page.keyboard.press("Enter")
    expect(page.locator("article.message.assistant").last).to_have_class(
        re.compile("status-complete")
    )
    page.wait_for_url(re.compile(r"/conversations/\d+/$"))
    page.keyboard.press("Control+Shift+O")
    page.wait_for_url(f"{site.url}/")
    for _ in range(50):  # The close frame is on its way: the runner takes it once it lands.
        taken = django(site, RUN_THE_RUNNER)
        if taken:
            break
    assert taken == {"conversations": 1, "messages": 2}
    page.close()
