"""The whole feedback loop, in real Chromium against real daphne.

A user's thumbs down with a comment, given in the chat page, reaches the queue; a
reviewer made by an administrator finds it, reads the transcript, scores it, notes it
and resolves it; the audit log shows each step. Screenshots of the queue,
the transcript (light, dark, phone) and the dashboard go to test-artifacts/.
"""

import json
import re

import pytest

from tests.a11y import ARTIFACTS, shoot
from tests.browser_support import connected
from tests.fake_upstream import text_stream

pytestmark = pytest.mark.browser
PASSWORD = "a-Strong-pass-42"


def sign_up(chromium, base: str, username: str):
    page = chromium.new_page(viewport={"width": 1280, "height": 900})
    page.goto(f"{base}/accounts/signup/")
    page.fill("#id_username", username)
    page.fill("#id_password1", PASSWORD)
    page.fill("#id_password2", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")
    return page


def test_reviewer_works_a_thumbs_down_through_the_queue(site, upstream, browser, tmp_path):
    from playwright.sync_api import expect

    ARTIFACTS.mkdir(exist_ok=True)
    boss = sign_up(browser, site, "boss")  # The first account: a superuser.

    # A user chats, then rates the reply down with a comment through the endpoint.
    alice = sign_up(browser, site, "alice")
    connected(alice)
    upstream.script(text_stream("The capital of Australia is ", "**Sydney**."))
    alice.fill("#input", "What is the capital of Australia?")
    alice.keyboard.press("Enter")
    answer = alice.locator("article.message.assistant").last
    expect(answer).to_have_class(re.compile("status-complete"))
    reply_id = answer.get_attribute("data-id")
    # In the chat page: thumbs down, a category and a comment.
    answer.get_by_role("button", name="Bad reply").click()
    form = answer.locator(".feedback-form")
    form.get_by_label("Wrong").check()
    form.get_by_label("Comment").fill("It is Canberra.")
    form.get_by_role("button", name="Send feedback").click()
    expect(answer.locator(".feedback-status")).to_have_text(
        "You rated this down · Wrong · “It is Canberra.”"
    )
    shoot(alice, "chat-feedback", full_page=False)
    result = alice.evaluate(f"fetch('/messages/{reply_id}/feedback').then((r) => r.json())")
    assert result["feedback"]["rating"] == "down" and result["feedback"]["categories"] == ["wrong"]
    alice.goto(f"{site}/settings/privacy/")
    expect(alice.locator("#readable-conversations")).to_contain_text("What is the capital")

    # An administrator makes a reviewer: staff, in the Reviewers group.
    rita = sign_up(browser, site, "rita")
    boss.goto(f"{site}/admin/auth/user/?q=rita")
    boss.get_by_role("link", name="rita", exact=True).click()
    boss.check("#id_is_staff")
    boss.select_option("#id_groups_from", label="Reviewers")
    boss.click("#id_groups_add")
    boss.click("input[name=_save]")
    expect(boss.locator(".messagelist")).to_contain_text("was changed successfully")

    # The reviewer finds the item from the admin index.
    rita.goto(f"{site}/admin/")
    expect(rita.locator("#review-open-count")).to_have_text("1")
    rita.get_by_role("link", name="Open items").click()
    row = rita.locator("#result_list tbody tr").first
    expect(row).to_contain_text("Thumbs down")
    expect(row).to_contain_text("Open")
    rita.screenshot(path=str(ARTIFACTS / "review-queue.png"), full_page=True)
    row.get_by_role("link", name=re.compile("What is the capital")).click()
    # The item's page (tests/browser/test_review_loop.py works items there); this test
    # goes on in the whole transcript, with full page loads.
    expect(rita.locator("#rv-item .rv-target .rv-body strong")).to_have_text("Sydney")
    rita.get_by_role("link", name="The whole transcript").click()

    # The transcript: rendered Markdown, the user's feedback, the record of what was sent.
    expect(rita.locator(".rv-assistant .rv-body strong")).to_have_text("Sydney")
    expect(rita.locator(".rv-feedback")).to_contain_text("It is Canberra.")
    rita.locator(".rv-sent summary").click()
    expect(rita.locator(".rv-sent")).to_contain_text('"sent"')
    rita.get_by_role("button", name="Take it").click()
    expect(rita.locator(".messagelist")).to_contain_text("is yours")

    # Score by keyboard: focus the field, type, Enter submits its form.
    helpfulness = rita.get_by_label("helpfulness").first
    helpfulness.focus()
    rita.keyboard.type("2")
    rita.keyboard.press("Enter")
    expect(rita.locator(".messagelist")).to_contain_text("Scored helpfulness: 2.")
    rita.get_by_label("hallucination").first.select_option("yes")
    rita.get_by_role("button", name="Save hallucination").first.click()
    expect(rita.locator(".rv-score-list")).to_contain_text("hallucination: yes")
    rita.get_by_label("Add a note on this reply").fill("Wrong capital: Canberra.")
    rita.get_by_role("button", name="Save note").first.click()
    expect(rita.locator(".rv-reply-notes")).to_contain_text("Wrong capital: Canberra.")
    rita.locator("#queue select").select_option("resolved")
    rita.locator("#queue input[name=note]").fill("Scored and noted for the prompt team.")
    rita.locator("#queue").get_by_role("button", name=re.compile("Update #")).click()
    expect(rita.locator("#queue .rv-status")).to_have_text("Resolved")
    rita.screenshot(path=str(ARTIFACTS / "review-transcript.png"), full_page=True)
    rita.emulate_media(color_scheme="dark")
    rita.screenshot(path=str(ARTIFACTS / "review-transcript-dark.png"), full_page=True)
    rita.emulate_media(color_scheme="light")

    rita.goto(f"{site}/admin/")
    expect(rita.locator("#review-open-count")).to_have_text("0")
    rita.get_by_role("link", name="Dashboard").click()
    expect(rita.locator(".rv-chart figcaption").first).to_have_text("Messages per day")
    expect(rita.locator(".rv-cards")).to_contain_text("0% of 1")  # The thumbs-up share.
    rita.screenshot(path=str(ARTIFACTS / "review-dashboard.png"), full_page=True)
    rita.emulate_media(color_scheme="dark")
    rita.screenshot(path=str(ARTIFACTS / "review-dashboard-dark.png"), full_page=True)
    # A reviewer may not read the audit log.
    assert rita.goto(f"{site}/admin/review/auditentry/").status == 403

    # On a phone: the transcript reads without sideways scrolling.
    phone = browser.new_page(viewport={"width": 390, "height": 844})
    phone.context.add_cookies(rita.context.cookies())
    phone.goto(rita.url.replace("/admin/review/dashboard/", "/admin/"))
    phone.goto(f"{site}/admin/review/queueitem/?status__exact=resolved")
    phone.locator("#result_list a", has_text="What is the capital").click()
    expect(phone.locator(".rv-assistant .rv-body")).to_contain_text("Sydney")
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= 390 + 1, width
    phone.screenshot(path=str(ARTIFACTS / "review-transcript-phone.png"), full_page=True)

    # The superuser reads each step in the audit log, and exports the annotations.
    boss.goto(f"{site}/admin/review/auditentry/?q=rita")
    log = boss.locator("#result_list")
    for action in (
        "Opened a transcript",
        "Assigned a queue item",
        "Scored a reply",
        "Wrote a note",
        "Changed a queue item's status",
    ):
        expect(log).to_contain_text(action)
    boss.screenshot(path=str(ARTIFACTS / "review-audit-log.png"), full_page=True)
    boss.goto(f"{site}/admin/review/datasets/")
    boss.select_option("#id_kind", "annotations")
    with boss.expect_download() as download:
        boss.get_by_role("button", name="Download JSONL").click()
    path = tmp_path / "annotations.jsonl"
    download.value.save_as(path)
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert {line["type"] for line in lines} == {"score", "note", "feedback"}
    for page in (boss, alice, rita, phone):
        page.close()
