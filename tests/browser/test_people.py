"""The "Users and groups" page in Chromium: read on a desktop and a phone, in light and
dark (axe at each screenshot), and worked by keyboard: finding a person and signing them
out everywhere, which sends their open chat page to the sign-in page."""

import re

import pytest

from tests.a11y import SMALL_TARGETS, shoot
from tests.browser_support import PASSWORD, django, sign_in, start_site

pytestmark = pytest.mark.browser

DESKTOP = {"width": 1280, "height": 860}
PHONE = {"width": 390, "height": 844}

SEED = f"""
import datetime as dt, json
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import timezone
from conversations.access import services as access_services
from conversations.limits.models import DailyTokens, TokenQuota
User = get_user_model()
User.objects.create_superuser(username="boss", password="{PASSWORD}")
alice = User.objects.create_user(username="alice", password="{PASSWORD}")
User.objects.create_user(username="bob", password="{PASSWORD}")
research = Group.objects.create(name="Research")
alice.groups.add(research)
TokenQuota.objects.create(group=research, daily_tokens=50000)
DailyTokens.objects.create(user=alice, day=timezone.now().astimezone(dt.UTC).date(), tokens=1234)
access_services.rule_set(kind="tool", name="calculator", group_ids=[research.pk])
print(json.dumps(alice.pk))
"""


@pytest.fixture(scope="module")
def site(upstream, tmp_path_factory):
    server = start_site(upstream, tmp_path_factory, "people-site")
    server.alice = django(server, SEED)
    yield server
    server.stop()


def small_targets_in_content(page) -> list[str]:
    """Touch targets under 44 px in the page's own part (the admin's frame is Django's)."""
    script = SMALL_TARGETS.replace(
        "document.querySelectorAll(", "document.querySelector('#content-main').querySelectorAll("
    )
    return page.evaluate(script)


def test_staff_find_a_person_and_sign_them_out_everywhere_by_keyboard(site, browser):
    from playwright.sync_api import expect

    alice = browser.new_page(viewport=DESKTOP)
    sign_in(alice, site.url, "alice")  # Her chat page, its socket open.

    staff = browser.new_page(viewport=DESKTOP)
    sign_in(staff, site.url, "boss")
    staff.goto(f"{site.url}/admin/")
    staff.get_by_role("link", name="Users and groups").click()
    person = staff.locator(f"#person-{site.alice}")
    expect(person.locator(".pp-groups")).to_have_text("Research")
    expect(person.locator(".pp-two-factor")).to_have_text("off")
    expect(person.locator(".pp-sessions")).to_have_text("1")
    expect(person.locator(".pp-tokens")).to_contain_text("1,234 of 50,000 today")
    expect(person.locator(".pp-last time")).to_have_count(1)
    research = staff.locator(".pp-group", has_text="Research")
    expect(research.locator(".pp-may-use")).to_have_text("Tool calculator")
    person.locator("summary").click()
    expect(person.locator(".pp-session-list li")).to_have_count(1)
    shoot(staff, "people")

    # By keyboard: find her, then Tab to her button and press it.
    staff.locator("#pp-q").focus()
    staff.keyboard.type("ali")
    staff.keyboard.press("Enter")
    staff.wait_for_url(re.compile(r"q=ali"))
    expect(staff.locator("[aria-labelledby=pp-people-title] > li")).to_have_count(1)
    button = staff.get_by_role("button", name="Sign alice out everywhere")
    for _ in range(40):
        if button.evaluate("element => element === document.activeElement"):
            break
        staff.keyboard.press("Tab")
    expect(button).to_be_focused()
    staff.keyboard.press("Enter")
    expect(staff.locator(".messagelist")).to_contain_text(
        "Signed alice out everywhere: 1 session ended"
    )
    staff.wait_for_url(re.compile(r"/admin/people/\?q=ali"))  # Back where staff were.
    # Her open chat page hears of it at once and goes to the sign-in page.
    alice.wait_for_url(re.compile(r"/accounts/login/"))
    expect(staff.locator(f"#person-{site.alice} .pp-sessions")).to_have_text("0")
    alice.close()
    staff.close()


def test_the_page_fits_a_phone(site, browser):
    phone = browser.new_page(viewport=PHONE, has_touch=True, is_mobile=True)
    sign_in(phone, site.url, "boss")
    phone.goto(f"{site.url}/admin/people/")
    phone.locator(".pp-person").first.wait_for()
    shoot(phone, "people-phone")
    assert phone.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")
    assert small_targets_in_content(phone) == []
    phone.close()
