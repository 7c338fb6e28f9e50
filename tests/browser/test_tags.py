"""Tags in Chromium, by keyboard only, on a desktop and a phone, in both themes: tag a
conversation from its ⋯ menu, filter the sidebar by that tag, find it with `tag:`, and
rename and delete the tag from the filter's list."""

import pytest

from tests.a11y import shoot
from tests.browser_support import connected, inside_viewport, seed_conversation, sign_up, start_site

pytestmark = pytest.mark.browser
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 860}

FOCUSED = "() => (document.activeElement.getAttribute('aria-label') || document.activeElement.textContent || '').trim()"


@pytest.fixture(scope="module")
def site(upstream, tmp_path_factory):
    server = start_site(upstream, tmp_path_factory, "tags-site")
    yield server
    server.stop()


def tab_to(page, wanted: str, *, most: int = 12) -> None:
    """Tab until the control named `wanted` has focus (bounded)."""
    for _ in range(most):
        if page.evaluate(FOCUSED) == wanted:
            return
        page.keyboard.press("Tab")
    assert page.evaluate(FOCUSED) == wanted


@pytest.mark.parametrize(("size", "name"), [(DESKTOP, "desktop"), (PHONE, "phone")])
def test_tag_from_the_menu_then_filter_and_search_by_keyboard(site, browser, size, name):
    from playwright.sync_api import expect

    page = browser.new_page(viewport=size)
    sign_up(page, site.url, f"tagger-{name}")
    tagged = seed_conversation(site, f"tagger-{name}", pairs=1, title="Budget review")
    other = seed_conversation(site, f"tagger-{name}", pairs=1, title="Holiday ideas")
    page.goto(site.url)
    connected(page)
    if size is PHONE:  # The list is an overlay on a phone: open it by its button.
        page.locator("#toggle-sidebar").focus()
        page.keyboard.press("Enter")
        expect(page.locator("#sidebar")).to_be_in_viewport()

    item = page.locator(f'#conversation-list li[data-id="{tagged}"]')
    item.locator(".item-menu > summary").focus()
    page.keyboard.press("Enter")
    tab_to(page, "Tags…")
    page.keyboard.press("Enter")
    dialog = page.locator("#tags-dialog")
    expect(dialog).to_be_visible()
    expect(page.locator("#tag-new")).to_be_focused()
    page.keyboard.type("Work trip")
    page.keyboard.press("Enter")  # Adds it, ticked; the dialog stays open.
    expect(dialog.get_by_role("checkbox", name="Work trip")).to_be_checked()
    page.keyboard.type("q4")
    page.keyboard.press("Enter")
    assert inside_viewport(page, dialog)
    shoot(page, f"tags-dialog-{name}", full_page=False)
    # Changed my mind about "q4": Shift+Tab back to its box and untick it with Space.
    dialog.get_by_role("checkbox", name="q4").focus()
    page.keyboard.press("Space")
    tab_to(page, "Save")
    page.keyboard.press("Enter")
    expect(dialog).not_to_be_visible()
    expect(item.locator(".tag-chip")).to_have_text(["Work trip"])
    # Focus came back to the item's ⋯ button, drawn again with its chips.
    expect(item.locator(".item-menu > summary")).to_be_focused()

    # The filter above the list: only the tagged conversation, then all again.
    page.locator("#search").focus()
    page.keyboard.press("Tab")
    expect(page.locator("#tag-filter > summary")).to_be_focused()
    page.keyboard.press("Enter")
    tab_to(page, "Work trip (1)")
    page.keyboard.press("Enter")
    expect(page.locator("#tag-filter > summary")).to_have_text("Tag: Work trip")
    expect(page.locator(f'#conversation-list li[data-id="{other}"]')).to_have_count(0)
    expect(item).to_be_visible()
    shoot(page, f"tags-filtered-{name}", full_page=False)
    page.keyboard.press("Tab")
    expect(page.locator("#tag-filter-clear")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator(f'#conversation-list li[data-id="{other}"]')).to_be_visible()
    expect(page.locator("#tag-filter-clear")).to_be_hidden()

    # Search: tag: alone, and with words.
    page.locator("#search").focus()
    page.keyboard.type('tag:"work trip"')
    hits = page.locator(".search-hit")
    expect(hits).to_have_count(1)
    expect(hits.first).to_contain_text("Budget review")
    page.keyboard.press("Control+a")
    page.keyboard.type('tag:"Work trip" holiday')
    expect(page.locator("#search")).to_have_value('tag:"Work trip" holiday')
    expect(page.locator("#conversation-list .group")).to_have_text(
        'Nothing found for “tag:"Work trip" holiday”'
    )

    # Rename, then delete, the tag from the filter's list (the browser's own prompt and
    # confirm, answered as a keyboard user would).
    page.keyboard.press("Control+a")
    page.keyboard.press("Backspace")  # Esc would also close the list on a phone.
    page.keyboard.press("Tab")
    expect(page.locator("#tag-filter > summary")).to_be_focused()
    page.keyboard.press("Enter")
    tab_to(page, "Rename tag Work trip")
    page.once("dialog", lambda asked: asked.accept("Office"))
    page.keyboard.press("Enter")
    expect(item.locator(".tag-chip")).to_have_text(["Office"])
    page.locator("#tag-filter > summary").focus()
    if not page.locator("#tag-filter").evaluate("menu => menu.open"):
        page.keyboard.press("Enter")
    tab_to(page, "Delete tag Office")
    page.once("dialog", lambda asked: asked.accept())
    page.keyboard.press("Enter")
    expect(item.locator(".tag-chip")).to_have_count(0)
    expect(page.locator("#tag-filter-list")).to_contain_text("No tags yet")
    page.close()
