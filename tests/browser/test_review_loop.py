"""The reviewer's loop in Chromium, by keyboard alone: ten queued thumbs-down items are
scored and resolved from the item page with no full page load (htmx swaps the item;
the page's `load` events and a marker on `window` prove it), at 1280x860 and at 390x844
in the dark theme. A second reviewer, in another browser context, opens the item the
first has open and finds it locked to them, its controls off. The time per item is
printed for the notes."""

import re
import time

import pytest

from tests.a11y import shoot
from tests.browser_support import PASSWORD, django, start_site

pytestmark = pytest.mark.browser
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 860}
ITEMS = 10

SEED = """
import json
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from conversations.review.models import QueueItem
from tests.review.builders import chat, rate
User = get_user_model()
reviewers = Group.objects.get(name="Reviewers")
for name in ("rita-{tag}", "bob-{tag}"):
    person = User.objects.create_user(username=name, password="{password}", is_staff=True)
    person.groups.add(reviewers)
owner = User.objects.create_user(username="alice-{tag}", password="{password}")
for i in range({items}):
    conversation = chat(owner, title="Question {{}}".format(i), model="model-{tag}")
    rate(conversation.current_leaf, "down", categories=["wrong"], comment="Wrong {{}}".format(i))
# The builders' replies are all by model "m": one model per run keeps the two apart.
QueueItem.objects.filter(conversation__owner=owner).update(model="model-{tag}")
print(json.dumps(list(QueueItem.objects.filter(model="model-{tag}").values_list("pk", flat=True))))
"""

STATE = """
import json
from conversations.review.models import AuditEntry, QueueItem, Score
items = QueueItem.objects.filter(model="model-{tag}")
print(json.dumps({{
    "statuses": sorted(set(items.values_list("status", flat=True))),
    "scores": Score.objects.filter(author__username="rita-{tag}").count(),
    "opened": AuditEntry.objects.filter(
        actor_username="rita-{tag}", action="view_transcript"
    ).count(),
}}))
"""


@pytest.fixture(scope="module")
def site(upstream, tmp_path_factory):
    server = start_site(upstream, tmp_path_factory, "review-loop-site")
    yield server
    server.stop()


def signed_in(browser, base: str, username: str, viewport: dict, dark: bool):
    page = browser.new_page(viewport=viewport)  # A browser context of its own.
    if dark:
        page.emulate_media(color_scheme="dark")
    page.goto(f"{base}/admin/login/?next=/admin/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{base}/admin/")
    return page


@pytest.mark.parametrize(("viewport", "tag"), [(DESKTOP, "desk"), (PHONE, "phone")])
def test_ten_items_resolved_by_keyboard_without_a_page_load(site, browser, viewport, tag):
    from playwright.sync_api import expect

    dark = viewport is PHONE
    ids = django(site, SEED.format(tag=tag, password=PASSWORD, items=ITEMS))
    assert len(ids) == ITEMS
    rita = signed_in(browser, site.url, f"rita-{tag}", viewport, dark)
    rita.goto(f"{site.url}/admin/review/queueitem/?model__exact=model-{tag}&status__exact=open")
    rows = rita.locator("#result_list tbody tr")
    expect(rows).to_have_count(ITEMS)
    newest = rows.first
    expect(newest).to_contain_text("Question 9")
    expect(newest).to_contain_text("answer 0")  # The flagged reply's first lines.
    expect(newest).to_contain_text("Thumbs down (Wrong): “Wrong 9”")
    expect(newest).to_contain_text("model-" + tag)
    # To the newest item, by keyboard: focus its link, Enter (the last full load).
    newest.get_by_role("link", name="Question 9").focus()
    rita.keyboard.press("Enter")
    rita.wait_for_url(re.compile(r"/admin/review/queue/\d+/\?_changelist_filters="))
    heading = rita.locator("#rv-item-h")
    expect(heading).to_contain_text("Question 9")
    expect(rita.locator("#rv-lock")).to_contain_text("You have this item open")

    # Another reviewer opens the same item: it is Rita's, and the controls are off.
    bob = signed_in(browser, site.url, f"bob-{tag}", viewport, dark)
    bob.goto(rita.url)
    expect(bob.locator("#rv-lock")).to_contain_text(
        re.compile(rf"rita-{tag} has this item open \(until \d\d:\d\d\)")
    )
    expect(bob.get_by_role("button", name="Resolve and next")).to_be_disabled()
    expect(bob.get_by_role("button", name=re.compile("^Save helpfulness"))).to_be_disabled()
    shoot(bob, f"review-item-locked-{tag}")
    # And in the queue, the row says who has it open.
    bob.goto(f"{site.url}/admin/review/queueitem/?model__exact=model-{tag}")
    expect(bob.locator("#result_list tbody tr", has_text="Question 9")).to_contain_text(
        f"rita-{tag}"
    )
    bob.close()

    shoot(rita, f"review-item-{tag}")
    loads: list[str] = []
    rita.on("load", lambda: loads.append(rita.url))
    rita.evaluate("window.reviewMarker = 'first load'")
    started = time.perf_counter()
    for n in range(ITEMS):
        expect(heading).to_contain_text(f"Question {ITEMS - 1 - n}")
        rita.keyboard.press("4")  # helpfulness: 4
        expect(rita.locator("#rv-announce")).to_have_text("Scored helpfulness: 4.")
        rita.keyboard.press("n")  # The first yes/no score (by name): good example, no.
        expect(rita.locator("#rv-announce")).to_have_text("Scored good example: no.")
        expect(rita.locator(".rv-target .rv-score-list")).to_contain_text("helpfulness: 4")
        rita.keyboard.press("r")  # Resolve, and on to the next open item.
        if n < ITEMS - 1:
            expect(heading).not_to_contain_text(f"Question {ITEMS - 1 - n}")
    expect(rita.locator("#rv-announce")).to_contain_text("No open item is left")
    elapsed = time.perf_counter() - started
    print(f"\nreview loop ({tag}): {ITEMS} items in {elapsed:.1f} s, {elapsed / ITEMS:.2f} s each")

    assert loads == [], loads  # No full page load after the first.
    assert rita.evaluate("window.reviewMarker") == "first load"
    assert rita.evaluate("performance.getEntriesByType('navigation').length") == 1
    state = django(site, STATE.format(tag=tag))
    assert state["statuses"] == ["resolved"]
    assert state["scores"] == 2 * ITEMS
    assert state["opened"] == ITEMS  # One opening each, however often each was redrawn.

    # Previous (k) goes back to the item resolved last, with its pushed address.
    rita.keyboard.press("k")
    expect(heading).to_contain_text("Question 1")
    assert loads == []
    rita.go_back()
    expect(heading).to_contain_text("Question 0")
    # "?" focuses the list of shortcuts.
    rita.keyboard.press("?")
    expect(rita.locator("#rv-keys")).to_be_focused()
    expect(rita.locator("#rv-keys")).to_contain_text("Resolve (with the note)")
    width = rita.evaluate("document.documentElement.scrollWidth")
    assert width <= viewport["width"] + 1, width
    shoot(rita, f"review-item-done-{tag}")
    rita.close()
