"""The chat page by keyboard, in Chromium: what "/" and "?" do, the order Tab takes through
the page, its landmarks and skip links, and the keyboard shortcuts dialog."""

import re

import pytest

from tests.a11y import shoot, small_targets
from tests.browser_support import connected, sign_up, start_site
from tests.fake_upstream import text_stream

pytestmark = pytest.mark.browser
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 860}

# What has focus, in words a failed assertion can show; `inSidebar` says where it is.
FOCUSED = """() => {
  const el = document.activeElement;
  return {
    id: el.id,
    tag: el.tagName.toLowerCase(),
    text: (el.getAttribute("aria-label") || el.textContent || "").trim().slice(0, 40),
    inSidebar: Boolean(el.closest("#sidebar")),
    inDialog: Boolean(el.closest("dialog")),
  };
}"""


@pytest.fixture(scope="module")
def site(upstream, tmp_path_factory):
    server = start_site(upstream, tmp_path_factory, "keyboard-site")
    yield server
    server.stop()


@pytest.fixture(scope="module")
def page(site, upstream, browser):
    """One signed-in page for the module, with a conversation to read."""
    from playwright.sync_api import expect

    page = browser.new_page(viewport=DESKTOP)
    sign_up(page, site.url, "kim")
    upstream.script(text_stream("Here:\n\n```python\nprint('hi')\n```\n\nDone."))
    page.fill("#input", "Show me code")
    page.keyboard.press("Enter")
    expect(page.locator("article.message.assistant").last).to_have_class(
        re.compile("status-complete")
    )
    yield page
    page.close()


def reopen(page, site, viewport=DESKTOP):
    """The module's conversation, freshly loaded at this size."""
    page.set_viewport_size(viewport)
    page.emulate_media(color_scheme="light")
    page.goto(page.url)
    connected(page)
    page.locator("article.message.assistant .code-block").wait_for()


def test_slash_starts_a_message_in_the_composer_and_searches_from_elsewhere(site, page):
    from playwright.sync_api import expect

    reopen(page, site)
    composer = page.locator("#input")
    composer.fill("")
    composer.focus()
    page.keyboard.type("/help me")
    expect(composer).to_have_value("/help me")
    page.keyboard.type(" ?")
    expect(composer).to_have_value("/help me ?")
    expect(page.locator("#shortcuts-dialog")).not_to_be_visible()
    composer.fill("")
    # Outside any text field (a message's button has focus): "/" goes to the search box.
    page.locator("article.message.assistant").get_by_role("button", name="Copy code").focus()
    page.keyboard.press("/")
    expect(page.locator("#search")).to_be_focused()
    expect(page.locator("#search")).to_have_value("")
    page.keyboard.press("Escape")
    expect(composer).to_have_value("")


def tab_until(page, target_id: str, *, limit: int = 80, back: bool = False) -> list[dict]:
    """Press Tab (or Shift+Tab) until the element with `target_id` has focus; what had
    focus on the way, the target last."""
    stops = []
    for _ in range(limit):
        page.keyboard.press("Shift+Tab" if back else "Tab")
        stops.append(page.evaluate(FOCUSED))
        if stops[-1]["id"] == target_id:
            return stops
    raise AssertionError(f"{target_id} never had focus: {stops}")


def test_tab_goes_through_the_header_then_the_messages_then_the_composer(site, page):
    from playwright.sync_api import expect

    reopen(page, site)
    # From the top of the page: the skip links, then the header's controls, the messages'
    # and the composer, and none of the list's on the way.
    page.locator(".skip-link").first.focus()
    stops = tab_until(page, "input")
    ids = [stop["id"] for stop in stops]
    assert [stop for stop in stops if stop["inSidebar"]] == []
    header = ["toggle-sidebar", "model-button", "settings-button"]
    assert all(name in ids for name in header), stops
    assert ids.index("settings-button") < ids.index("input")
    copy = next(i for i, stop in enumerate(stops) if stop["text"] == "Copy code")
    assert ids.index("settings-button") < copy < ids.index("input")
    # From the composer, back: the messages, then the header, still not the list.
    stops = tab_until(page, "model-button", back=True)
    assert [stop for stop in stops if stop["inSidebar"]] == []
    # From the composer, on: Send, then the list.
    page.locator("#input").focus()
    page.keyboard.press("Tab")
    expect(page.locator("#send")).to_be_focused()
    page.keyboard.press("Tab")
    assert page.evaluate(FOCUSED)["inSidebar"]

    # The landmarks: the header, the conversation, the message form, the list and its nav.
    expect(page.get_by_role("banner")).to_have_count(1)
    expect(page.get_by_role("banner").locator("#model-button")).to_have_count(1)
    expect(page.get_by_role("main")).to_have_count(1)
    expect(page.get_by_role("main").locator("#messages")).to_have_count(1)
    expect(page.get_by_role("form", name="Write a message")).to_have_count(1)
    expect(page.get_by_role("complementary", name="Conversations")).to_have_count(1)
    expect(page.get_by_role("navigation", name="Conversation list")).to_have_count(1)


def test_the_list_has_its_own_skip_link_on_a_desktop_and_a_phone(site, page):
    from playwright.sync_api import expect

    reopen(page, site)
    page.locator("#skip-to-list").focus()
    expect(page.locator("#skip-to-list")).to_be_in_viewport()
    page.keyboard.press("Enter")
    expect(page.locator("#sidebar")).to_be_focused()
    page.keyboard.press("Tab")
    expect(page.locator(".new-chat")).to_be_focused()

    reopen(page, site, PHONE)  # The list is folded away: the link opens it.
    expect(page.locator("#sidebar")).not_to_be_in_viewport()
    page.locator("#skip-to-list").focus()
    page.keyboard.press("Enter")
    expect(page.locator("#sidebar")).to_be_in_viewport()
    expect(page.locator("#close-sidebar")).to_be_focused()
    page.keyboard.press("Escape")
    expect(page.locator("#sidebar")).not_to_be_in_viewport()


SHORTCUTS = [
    ("Enter", "Send the message"),
    ("Shift+Enter", "New line"),
    ("Ctrl/Cmd+Enter", "Send the message"),
    ("Esc", "Stop the reply"),
    ("Ctrl/Cmd+Shift+O", "new chat"),
    ("/", "Search conversations"),
    ("Ctrl/Cmd+K", "Search conversations"),
    ("?", "This list"),
    ("Esc", "Close the open menu"),
    ("↑ ↓", "Move through search results and models"),
    ("Enter", "Pick the model"),
]


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_question_mark_opens_the_shortcuts_which_keep_and_give_back_focus(site, page, viewport):
    from playwright.sync_api import expect

    reopen(page, site, viewport)
    dialog = page.locator("#shortcuts-dialog")
    copy = page.locator("article.message.assistant").get_by_role("button", name="Copy code")
    copy.focus()
    page.keyboard.press("?")
    expect(dialog).to_be_visible()
    expect(page.get_by_role("dialog", name="Keyboard shortcuts")).to_be_visible()
    expect(dialog.get_by_role("button", name="Close")).to_be_focused()
    rows = dialog.locator(".shortcuts > div").all_inner_texts()
    listed = [re.sub(r"\s+", " ", row).strip() for row in rows]
    for keys, action in SHORTCUTS:
        assert any(
            re.sub(r"\s", "", row).startswith(keys.replace(" ", "")) and action in row
            for row in listed
        ), (keys, action, listed)
    # Focus stays inside, both ways round.
    for key in ["Tab"] * 4 + ["Shift+Tab"] * 4:
        page.keyboard.press(key)
        assert page.evaluate(FOCUSED)["inDialog"], key
    name = "shortcuts" if viewport == DESKTOP else "shortcuts-phone"
    shoot(page, name, full_page=False)  # axe and control edges, light and dark.
    if viewport == PHONE:
        assert small_targets(page) == []
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(copy).to_be_focused()
    # Its button in the list opens it too; Close gives focus back to the button.
    if viewport == PHONE:
        page.locator("#toggle-sidebar").click()
    page.get_by_role("button", name="Keyboard shortcuts").click()
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name="Close").click()
    expect(dialog).to_be_hidden()
    expect(page.get_by_role("button", name="Keyboard shortcuts")).to_be_focused()
