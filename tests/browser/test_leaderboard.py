"""The leaderboard in Chromium, by keyboard, on a desktop and a phone, in both themes:
staff filter it in the admin, and a user reads the public page when it is on."""

import pytest

from tests.a11y import shoot
from tests.browser_support import PASSWORD, django, sign_in, start_site

pytestmark = pytest.mark.browser
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 860}

SEED = """
from django.contrib.auth import get_user_model
from conversations.tags.models import Tag
from tests.compare.builders import compare
User = get_user_model()
boss = User.objects.create_superuser(username="boss", password=PASSWORD)
alice = User.objects.create_user(username="alice", password=PASSWORD)
for _ in range(4):
    compare(alice, ["vendor/strong-model-with-a-long-name", "vendor/weak"])
compare(alice, ["vendor/weak", "vendor/middle"], chosen=1)
tagged = compare(boss, ["vendor/middle", "vendor/strong-model-with-a-long-name"], verdict="tie")
Tag.objects.create(owner=boss, name="Support", key="support").conversations.add(tagged.conversation)
print(1)
"""


@pytest.fixture(scope="module")
def site(upstream, tmp_path_factory):
    server = start_site(
        upstream, tmp_path_factory, "leaderboard-site", CHAT_LEADERBOARD_PUBLIC="true"
    )
    django(server, SEED.replace("PASSWORD", repr(PASSWORD)))
    yield server
    server.stop()


def signed_in(browser, site, name: str, viewport: dict):
    phone = viewport is PHONE
    options = {"has_touch": True, "is_mobile": True} if phone else {}
    page = browser.new_page(viewport=viewport, **options)
    sign_in(page, site.url, name)
    return page


def fits(page) -> None:
    """Nothing but the table's own scroller is wider than the screen."""
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"] + 1, width


@pytest.mark.parametrize(("viewport", "name"), [(DESKTOP, "desk"), (PHONE, "phone")])
def test_staff_filter_the_leaderboard_by_keyboard(site, browser, viewport, name):
    from playwright.sync_api import expect

    page = signed_in(browser, site, "boss", viewport)
    page.goto(f"{site.url}/admin/")
    page.get_by_role("link", name="Leaderboard").focus()
    page.keyboard.press("Enter")
    page.wait_for_url(f"{site.url}/admin/review/leaderboard/")
    rows = page.locator("#leaderboard tbody tr")
    expect(rows).to_have_count(3)
    expect(rows.first.locator("th")).to_contain_text("vendor/strong-model-with-a-long-name")
    expect(page.locator("#leaderboard-summary")).to_contain_text("6 choices counted")
    fits(page)
    shoot(page, f"leaderboard-admin-{name}")
    # Choose the tag by keyboard, then send the form with Enter on Apply.
    page.locator("#id_tag").focus()
    page.keyboard.press("ArrowDown")  # A closed select steps to its next option.
    expect(page.locator("#id_tag")).to_have_value("support")
    # On past the project and the two dates (each date's day, month and year are stops).
    apply = page.locator("#leaderboard-filters button[type=submit]")
    for _ in range(12):
        page.keyboard.press("Tab")
        if apply.evaluate("(el) => el === document.activeElement"):
            break
    expect(apply).to_be_focused()
    page.keyboard.press("Enter")
    page.wait_for_url("**tag=support**")
    expect(page.locator("#leaderboard-summary")).to_contain_text("1 choice counted")
    expect(rows).to_have_count(2)
    expect(rows.nth(1).locator("td").last).to_have_text("0 / 1 / 0")
    # The table scrolls sideways by keyboard on a phone: its region takes the focus.
    page.locator(".lb-scroll").focus()
    expect(page.locator(".lb-scroll")).to_be_focused()
    page.close()


def test_a_user_reads_the_public_leaderboard_on_a_phone(site, browser):
    from playwright.sync_api import expect

    page = signed_in(browser, site, "alice", PHONE)
    page.emulate_media(color_scheme="dark")
    page.goto(f"{site.url}/settings/")  # Settings link to it while it is public.
    page.locator("#settings-leaderboard a").focus()
    page.keyboard.press("Enter")
    page.wait_for_url(f"{site.url}/leaderboard/")
    expect(page.locator("#leaderboard tbody tr")).to_have_count(3)
    # Another user's tag is no filter here.
    expect(page.locator("#id_tag option")).to_have_count(1)
    fits(page)
    shoot(page, "leaderboard-public-phone")
    page.close()
