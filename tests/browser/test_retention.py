"""Choosing how long one's conversations are kept, in Chromium on a phone, by keyboard,
in both themes: the Settings page offers only periods shorter than the site's rule and
says, with the privacy notice, which rule applies and that the review queue holds."""

import pytest

from tests.a11y import shoot, small_targets
from tests.browser_support import connected, sign_up, start_site

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def site(upstream, tmp_path_factory):  # Its own server: the site keeps conversations 30 days.
    server = start_site(upstream, tmp_path_factory, "retention-site", CHAT_RETENTION_DAYS="30")
    yield server
    server.stop()


def test_a_user_picks_a_shorter_period_by_keyboard_on_a_phone(site, browser):
    from playwright.sync_api import expect

    page = browser.new_page(viewport=PHONE, has_touch=True, is_mobile=True)
    sign_up(page, site.url, "keeper")
    page.goto(f"{site.url}/settings/")
    choice = page.locator("#id_retention_days")
    expect(choice.locator("option")).to_have_text(
        [
            "when untouched for 30 days (the site's rule)",
            "when untouched for 1 day",
            "when untouched for 7 days",
        ]
    )
    rule = page.locator("#retention-rule")
    expect(rule).to_contain_text("for 30 days")
    expect(page.locator("#privacy-retention + p + p")).to_contain_text(
        "A conversation in the review queue is kept until a reviewer resolves its item"
    )
    expect(page.locator("#retention-help")).to_contain_text("kept until a reviewer resolves")
    assert small_targets(page) == [], small_targets(page)

    choice.focus()
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    expect(choice).to_have_value("7")
    page.keyboard.press("Tab")  # The help's link to the privacy notice below,
    expect(page.locator("#retention-help a")).to_be_focused()
    page.keyboard.press("Tab")  # then Save.
    expect(page.locator("#preferences button[type=submit]")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator(".notice")).to_have_text("Settings saved.")
    expect(choice).to_have_value("7")
    expect(rule).to_contain_text("for 7 days")
    expect(rule).to_contain_text("your own choice")
    shoot(page, "settings-retention-phone")

    page.goto(f"{site.url}/settings/privacy/")
    expect(page.locator("#retention-rule")).to_contain_text("for 7 days")
    shoot(page, "privacy-retention-phone")
    page.goto(f"{site.url}/")
    connected(page)
    page.close()
