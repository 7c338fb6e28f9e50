"""The agreement page in Chromium, on a phone and a desktop, in both themes, by keyboard:
two reviewers' scores give an alpha, and its link opens the queue's items where they
disagree."""

import pytest

from tests.a11y import SMALL_TARGETS, shoot
from tests.browser_support import django, sign_up, start_site

pytestmark = pytest.mark.browser

SEED = """
import json
from django.contrib.auth import get_user_model
from conversations import services
from conversations.review import services as review
from conversations.review.models import ScoreConfig
from tests import factories
users = get_user_model().objects
owner = users.create_user(username="alice")
first, second = (users.create_user(username=name, is_staff=True) for name in ("rita", "rob"))
helpfulness = ScoreConfig.objects.get(name="helpfulness")
helpfulness.reviews_required = 2
helpfulness.save()
queued = []
for i, (a, b) in enumerate([(1, 1), (4, 5), (2, 5), (3, 3)]):
    conversation = services.conversation_create(owner=owner, persona=None, model="m", title=f"Chat {i}")
    question = factories.message_append(conversation=conversation, role="user", content="Hi", parent=None)
    reply = factories.message_append(conversation=conversation, role="assistant", content="Hello", parent=question)
    reply.conversation = conversation
    item = review.queue_auto(conversation=conversation, message=reply, reason="thumbs_down")
    queued.append(item.pk)
    review.score_set(author=first, message=reply, config=helpfulness, raw=str(a))
    review.score_set(author=second, message=reply, config=helpfulness, raw=str(b))
print(json.dumps({"queued": queued, "config": helpfulness.pk}))
"""


@pytest.fixture(scope="module")
def site(upstream, tmp_path_factory):
    server = start_site(upstream, tmp_path_factory, "agreement-site")
    yield server
    server.stop()


def test_staff_read_agreement_and_open_the_disagreements_by_keyboard(site, browser):
    from playwright.sync_api import expect

    desk = browser.new_page(viewport={"width": 1280, "height": 860})
    sign_up(desk, site.url, "boss")  # The first account: a superuser.
    seeded = django(site, SEED)
    desk.goto(f"{site.url}/admin/")
    desk.get_by_role("link", name="Agreement between reviewers").click()
    card = desk.locator(f"#agreement-{seeded['config']}")
    # Units (1,1) (4,5) (2,5) (3,3): Krippendorff's interval alpha is 0.514.
    expect(card).to_contain_text("0.514")
    expect(card).to_contain_text("Krippendorff's alpha (interval)")
    expect(card.locator(".rv-facts")).to_contain_text("Replies4")
    expect(desk.locator("#agreement-period")).to_be_visible()
    shoot(desk, "review-agreement")
    desk.close()

    phone = browser.new_page(viewport={"width": 390, "height": 844}, has_touch=True, is_mobile=True)
    sign_in_admin(phone, site.url)
    phone.goto(f"{site.url}/admin/review/agreement/")
    phone.emulate_media(color_scheme="dark")
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= 390 + 1, width
    small = phone.evaluate(SMALL_TARGETS.replace("document.querySelectorAll(", IN_CONTENT))
    assert small == [], small
    shoot(phone, "review-agreement-phone")
    phone.emulate_media(color_scheme="dark")
    link = card_link(phone, seeded["config"])
    for _ in range(60):  # Tab through the page to the link, as a keyboard user does.
        phone.keyboard.press("Tab")
        if link.evaluate("(el) => el === document.activeElement"):
            break
    expect(link).to_be_focused()
    phone.keyboard.press("Enter")
    phone.wait_for_url(f"**/admin/review/queueitem/?disagree={seeded['config']}")
    rows = phone.locator("#result_list tbody tr")
    expect(rows).to_have_count(1)  # 2 against 5 only: a spread over a quarter of 1 to 5.
    expect(rows.first.locator(".field-reviews")).to_have_text("2/2 reviews")
    phone.close()


# Touch targets in the page's own part (the admin's frame around it is Django's).
IN_CONTENT = "document.querySelector('#content-main').querySelectorAll("


def card_link(page, config_id: int):
    return page.locator(f"#agreement-{config_id} a")


def sign_in_admin(page, base: str) -> None:
    page.goto(f"{base}/accounts/login/?next=/admin/")
    page.fill("#id_username", "boss")
    page.fill("#id_password", "a-Strong-pass-42")
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/admin/")
