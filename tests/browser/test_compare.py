"""Compares in Chromium: three models' replies stream side by side (columns on a desktop,
tabs on a phone by keyboard in the dark theme), one is stopped mid-reply, the user picks a
winner blind, the names are revealed, the others are versions, and the conversation goes
on from the winner."""

import json
import re

import pytest

from tests.a11y import shoot, small_targets
from tests.browser.tester import sign_in
from tests.browser_support import DEEPSEEK, LLAMA, connected, django, start_site
from tests.fake_upstream import text_stream

pytestmark = pytest.mark.browser
DESKTOP = {"width": 1280, "height": 860}
PHONE = {"width": 390, "height": 844}
QWEN = "Qwen/Qwen2.5-72B-Instruct"
COMPARED = [LLAMA, DEEPSEEK, QWEN]


@pytest.fixture(scope="module")
def site(upstream, tmp_path_factory):  # This module's own server and database.
    server = start_site(upstream, tmp_path_factory, "compare-site")
    yield server
    server.stop()


def slow(text: str):
    """A reply that streams for about ten seconds unless stopped."""
    return text_stream(text, *[f" word{i}" for i in range(100)], delay=0.1)


def columns_text(page) -> list[str]:
    return page.locator(".compare-col .message .body").all_inner_texts()


def choice_of(site) -> dict:
    return django(
        site,
        """
import json
from conversations.compare.models import Preference
p = Preference.objects.select_related("chosen__message").latest("created_at")
print(json.dumps({"verdict": p.verdict, "reason": p.reason, "blind": p.blind,
                  "model": p.chosen.model, "content": p.chosen.message.content}))
""",
    )


def test_three_models_side_by_side_one_stopped_chosen_blind_then_versions(site, upstream, browser):
    from playwright.sync_api import expect

    page = browser.new_page(viewport=DESKTOP)
    sign_in(page, site.url)
    page.click("#compare-button")
    for model in COMPARED:
        page.locator("#compare-list label", has_text=model).locator("input").check()
    page.check("#compare-blind")
    expect(page.locator("#compare-count")).to_contain_text("3 checked")
    shoot(page, "compare-setup")
    page.click("#compare-done")
    expect(page.locator("#compare-chip-text")).to_have_text("Comparing 3 models, blind")

    # Whichever reply is asked for first streams slowly: that one is stopped.
    upstream.script(
        slow("Slow start."),
        text_stream("Quick answer one.", delay=0.05),
        text_stream("Quick answer two.", delay=0.05),
    )
    before = len(upstream.completions())
    page.fill("#input", "Which is the capital of France?")
    page.keyboard.press("Enter")
    cols = page.locator(".compare-col")
    expect(cols).to_have_count(3)
    slow_col = cols.filter(has_text="Slow start.")
    expect(slow_col.locator(".compare-stop")).to_be_visible()
    boxes = [cols.nth(i).bounding_box() for i in range(3)]
    assert boxes[0]["x"] < boxes[1]["x"] < boxes[2]["x"], "columns side by side"
    assert abs(boxes[0]["y"] - boxes[2]["y"]) < 2
    expect(page.locator(".compare-tabs")).to_be_hidden()
    # Blind: nothing on screen names a model until the choice.
    compare_text = page.locator(".compare").inner_text()
    assert not [m for m in COMPARED if m in compare_text], compare_text
    shoot(page, "compare-streaming")

    slow_col.locator(".compare-stop").click()
    expect(slow_col.locator(".compare-status")).to_have_text("Stopped")
    expect(slow_col).to_contain_text("Stopped.")
    for quick in ("Quick answer one.", "Quick answer two."):
        done = cols.filter(has_text=quick)
        expect(done.locator(".compare-status")).to_have_text("Done")
        expect(done.locator(".meta")).to_contain_text(re.compile(r"tokens.*to first token.*total"))
    choose = page.locator(".compare-choose")
    expect(choose).to_be_visible()
    assert sorted(r.body["model"] for r in upstream.completions()[before:]) == sorted(COMPARED)
    assert "word99" not in slow_col.inner_text()

    # A reload draws the open compare again, choice and all.
    page.reload()
    connected(page)
    expect(cols).to_have_count(3)
    expect(choose).to_be_visible()
    expect(cols.filter(has_text="Slow start.").locator(".compare-status")).to_have_text("Stopped")
    shoot(page, "compare-choose")

    texts = columns_text(page)
    winner = next(i for i, t in enumerate(texts) if "Quick answer two." in t)
    letter = "ABC"[winner]
    page.fill(".compare-reason", "Says it plainly")
    page.get_by_role("button", name=f"{letter} is better").click()
    result = page.locator(".compare-result")
    expect(result).to_contain_text(f"You chose Model {letter}.")
    for model in COMPARED:
        expect(result).to_contain_text(model)
    expect(page.locator(".compare")).to_have_count(0)
    last = page.locator("article.message.assistant").last
    expect(last).to_contain_text("Quick answer two.")
    expect(last.locator(".compare-badge")).to_have_text("Chosen in a compare")
    chosen = choice_of(site)
    assert chosen["verdict"] == "winner" and chosen["reason"] == "Says it plainly"
    assert chosen["blind"] is True and chosen["content"] == "Quick answer two."
    expect(result).to_contain_text(f"Model {letter} was {chosen['model']}")
    shoot(page, "compare-chosen")

    # The other replies are versions of the winner.
    versions = last.locator(".versions")
    expect(versions).to_contain_text(f"{winner + 1}/3")
    other = "Previous version" if winner > 0 else "Next version"
    back = "Next version" if winner > 0 else "Previous version"
    versions.get_by_role("button", name=other).click()
    last = page.locator("article.message.assistant").last
    expect(last).not_to_contain_text("Quick answer two.")
    expect(last.locator(".compare-badge")).to_have_text("Not chosen in a compare")
    last.locator(".versions").get_by_role("button", name=back).click()
    expect(page.locator("article.message.assistant").last).to_contain_text("Quick answer two.")

    # The conversation goes on from the winner, as one reply (the reload ended the setup).
    expect(page.locator("#compare-setup")).to_be_hidden()
    upstream.script(text_stream("Paris, still."))
    before = len(upstream.completions())
    page.fill("#input", "And so?")
    page.keyboard.press("Enter")
    expect(page.locator("article.message.assistant").last).to_contain_text("Paris, still.")
    sent = upstream.completions()[before:]
    assert len(sent) == 1
    history = json.dumps(sent[0].body["messages"])
    assert "Quick answer two." in history
    assert "Quick answer one." not in history and "Slow start." not in history
    page.close()


SWIPE = """([from, to]) => {
  const area = document.querySelector(".compare-cols");
  const touch = (x) => new Touch({ identifier: 1, target: area, clientX: x, clientY: 400 });
  area.dispatchEvent(new TouchEvent("touchstart", { changedTouches: [touch(from)], bubbles: true }));
  area.dispatchEvent(new TouchEvent("touchend", { changedTouches: [touch(to)], bubbles: true }));
}"""


def test_a_compare_in_tabs_on_a_phone_by_keyboard_in_the_dark(site, upstream, browser):
    from playwright.sync_api import expect

    # Staff made compares blind by default: the panel starts with Blind checked.
    django(
        site,
        "from conversations.compare.models import CompareSettings; "
        "CompareSettings.objects.update_or_create(pk=1, defaults={'blind_by_default': True}); "
        "print(1)",
    )
    page = browser.new_page(viewport=PHONE)
    page.emulate_media(color_scheme="dark")
    sign_in(page, site.url)
    page.locator("#input").focus()
    page.keyboard.press("Shift+Tab")  # The Compare button sits by the message box.
    expect(page.locator("#compare-button")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("#compare-list input").first).to_be_focused()
    labels = page.locator("#compare-list label").all_inner_texts()
    wanted = sorted(next(i for i, t in enumerate(labels) if m in t) for m in COMPARED)
    at = 0
    for index in wanted:
        for _ in range(index - at):
            page.keyboard.press("ArrowDown")
        at = index
        page.keyboard.press("Space")
    page.keyboard.press("Tab")
    expect(page.locator("#compare-blind")).to_be_focused()
    expect(page.locator("#compare-blind")).to_be_checked()
    assert small_targets(page) == []
    page.keyboard.press("Escape")
    expect(page.locator("#compare-menu")).not_to_have_attribute("open", "")
    expect(page.locator("#compare-button")).to_be_focused()
    expect(page.locator("#compare-chip-text")).to_have_text("Comparing 3 models, blind")

    upstream.script(
        *[
            text_stream(f"Phone reply {n}.", *[f" more{i}" for i in range(10)], delay=0.05)
            for n in (1, 2, 3)
        ]
    )
    page.locator("#input").focus()
    page.keyboard.type("Tell me a short fact")
    page.keyboard.press("Enter")
    tabs = page.get_by_role("tab")
    expect(tabs).to_have_count(3)
    expect(page.get_by_role("tablist")).to_be_visible()
    panels = page.locator(".compare-col")
    expect(panels.nth(0)).to_be_visible()
    expect(panels.nth(1)).to_be_hidden()
    expect(tabs.nth(0)).to_have_text("Model A")
    hidden_names = page.locator(".compare").text_content()  # Hidden tabs' panels too.
    assert not [m for m in COMPARED if m in hidden_names], hidden_names
    tabs.nth(0).focus()  # The place to start from; all else is keys.
    page.keyboard.press("ArrowRight")
    expect(tabs.nth(1)).to_be_focused()
    expect(tabs.nth(1)).to_have_attribute("aria-selected", "true")
    expect(panels.nth(1)).to_be_visible()
    expect(panels.nth(0)).to_be_hidden()
    page.keyboard.press("End")
    expect(panels.nth(2)).to_be_visible()
    page.evaluate(SWIPE, [300, 100])  # Past the last: around to the first.
    expect(panels.nth(0)).to_be_visible()
    page.evaluate(SWIPE, [100, 300])
    expect(panels.nth(2)).to_be_visible()
    expect(page.locator(".compare-choose")).to_be_visible(timeout=15_000)
    for n in range(3):
        expect(panels.nth(n).locator(".compare-status")).to_have_text("Done")
    shoot(page, "compare-phone")
    page.emulate_media(color_scheme="dark")
    assert small_targets(page) == []

    tabs.nth(2).focus()
    for _ in range(20):  # On through the reply shown, to the reason.
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.classList.contains('compare-reason')"):
            break
    page.keyboard.type("Shortest")
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    expect(page.locator(":focus")).to_have_text("B is better")
    page.keyboard.press("Enter")
    result = page.locator(".compare-result")
    expect(result).to_contain_text("You chose Model B.")
    for model in COMPARED:
        expect(result).to_contain_text(model)
    assert choice_of(site)["reason"] == "Shortest"
    expect(page.locator("#input")).to_be_focused()  # Not lost with the columns.
    shoot(page, "compare-phone-chosen")
    for _ in range(3):  # Back past Compare and Attach, to the chip's ✕.
        page.keyboard.press("Shift+Tab")
    expect(page.locator("#compare-chip-clear")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("#compare-setup")).to_be_hidden()
    expect(page.locator("#input")).to_be_focused()
    page.close()


def test_a_model_and_a_persona_compared_openly_then_a_tie(site, upstream, browser):
    from playwright.sync_api import expect

    django(
        site,
        "from conversations.compare.models import CompareSettings; "
        "CompareSettings.objects.update_or_create(pk=1, defaults={'blind_by_default': False}); "
        "print(1)",
    )
    page = browser.new_page(viewport=DESKTOP)
    sign_in(page, site.url)
    page.click("#compare-button")
    expect(page.locator("#compare-blind")).not_to_be_checked()
    page.locator("#compare-list label", has_text=DEEPSEEK).locator("input").check()
    persona = page.locator("#compare-list [role=group]", has_text="Personas").locator("label")
    persona.first.locator("input").check()
    page.keyboard.press("Escape")
    expect(page.locator("#compare-chip-text")).to_have_text("Comparing 2 models")
    upstream.script(text_stream("Open one."), text_stream("Open two."))
    page.fill("#input", "Say something")
    page.keyboard.press("Enter")
    names = page.locator(".compare-name")
    expect(names).to_have_count(2)
    # Not blind: each column names what wrote it from the start.
    expect(page.locator(".compare")).to_contain_text(DEEPSEEK)
    expect(page.locator(".compare")).to_contain_text(
        persona.first.locator(".compare-option-name").inner_text()
    )
    page.get_by_role("button", name="Tie").click()
    expect(page.locator(".compare-result")).to_contain_text("You called it a tie.")
    first = page.locator("article.message.assistant").last
    expect(first.locator(".compare-badge")).to_have_text("A tie in a compare")
    chosen = choice_of(site)
    assert chosen["verdict"] == "tie" and chosen["blind"] is False
    expect(first).to_contain_text(chosen["content"])  # The conversation goes on from it.
    page.close()
