"""The chat page in daily use, in Chromium against real daphne and the fake upstream:
reading back a long chat, the phone layout, menus that close, moving between
conversations without reloading, small helps, drafts kept per account, reports."""

import re

import pytest

from tests.a11y import ARTIFACTS, shoot, small_targets
from tests.browser_support import (
    PAGE_ERRORS,
    box,
    connected,
    inside_viewport,
    seed_conversation,
    sign_in,
    sign_up,
    start_site,
)
from tests.fake_upstream import error_reply, text_stream

pytestmark = pytest.mark.browser
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}


@pytest.fixture(scope="module")
def site(upstream, tmp_path_factory):
    server = start_site(upstream, tmp_path_factory, "daily-site")
    yield server
    server.stop()


@pytest.fixture(scope="module")
def account(site, browser):
    """One account for the module, signed up once."""
    page = browser.new_page()
    sign_up(page, site.url, "dana")
    page.close()
    return "dana"


def open_page(browser, site, account, viewport=DESKTOP, path="/"):
    page = browser.new_page(viewport=viewport)
    sign_in(page, site.url, account)
    if path != "/":
        page.goto(f"{site.url}{path}")
        connected(page)
    return page


# Where each message sits on screen, by its first words ("Message 7 …"): the reader's place.
TOP_MESSAGE = """() => {
  const list = document.getElementById("messages");
  const top = list.getBoundingClientRect().top;
  for (const el of list.querySelectorAll(".message[data-id]")) {
    const r = el.getBoundingClientRect();
    if (r.bottom > top + 1) return {text: el.querySelector(".body").textContent.split(" ").slice(0, 2).join(" "), top: r.top};
  }
  return null;
}"""
WHERE = """(text) => {
  for (const el of document.querySelectorAll("#messages .message[data-id]")) {
    if (el.querySelector(".body").textContent.startsWith(text + " ")) return el.getBoundingClientRect().top;
  }
  return null;
}"""


def test_every_older_page_loads_by_click_and_by_scrolling_keeping_the_place(site, browser, account):
    from playwright.sync_api import expect

    cid = seed_conversation(site, account, pairs=150, title="Three hundred", long=True)
    page = open_page(browser, site, account, path=f"/conversations/{cid}/")
    messages = page.locator("#messages article.message")
    older = page.locator("#load-older")
    expect(messages).to_have_count(100)  # The newest page first.
    expect(messages.last).to_contain_text("Message 299")
    expect(older).to_be_attached()

    # A click (by keyboard: the button is far above the view) loads the page above; the
    # message at the top of the view stays where it was on screen.
    before = page.evaluate(TOP_MESSAGE)
    page.evaluate("document.getElementById('load-older').focus({preventScroll: true})")
    page.keyboard.press("Enter")
    expect(messages).to_have_count(200)
    assert abs(page.evaluate(WHERE, before["text"]) - before["top"]) <= 2

    # Scrolling to the top loads the rest; each time the reader stays where they were.
    page.locator("#messages").hover()
    for _ in range(60):  # Wheel up, as a reader does, until the first message is there.
        if messages.count() == 300:
            break
        page.mouse.wheel(0, -2000)
        page.wait_for_timeout(100)
    expect(messages).to_have_count(300)
    expect(messages.first).to_contain_text("Message 0")
    expect(older).to_be_hidden()
    texts = page.locator("#messages article.message .body").all_inner_texts()
    assert [t.split()[1] for t in texts] == [str(i) for i in range(300)]  # In order, once.

    # The place is kept when a page arrives at the top of the view, too.
    page.reload()
    connected(page)
    expect(messages).to_have_count(100)
    page.locator("#messages").evaluate("el => { el.scrollTop = 0; }")
    first = page.evaluate(TOP_MESSAGE)
    expect(messages).to_have_count(200)
    assert abs(page.evaluate(WHERE, first["text"]) - first["top"]) <= 2
    page.close()


def test_on_a_phone_the_list_closes_the_header_fits_and_panels_stay_on_screen(
    site, upstream, browser, account
):
    from playwright.sync_api import expect

    ARTIFACTS.mkdir(exist_ok=True)
    page = open_page(browser, site, account, viewport=PHONE)
    sidebar, toggle = page.locator("#sidebar"), page.locator("#toggle-sidebar")
    expect(sidebar).not_to_be_in_viewport()
    expect(toggle).to_have_attribute("aria-expanded", "false")

    # A reply with a long, wide code block.
    code = "\n".join(f"line_{i} = {'x' * 90}  # {i}" for i in range(60))
    upstream.script(text_stream("Here:\n\n```python\n", code, "\n```\n\nDone."))
    page.fill("#input", "Show me code")
    page.keyboard.press("Enter")
    reply = page.locator("article.message.assistant").last
    expect(reply).to_have_class(re.compile("status-complete"))

    # The header is one row, inside the screen, and the model's name is whole.
    header = box(page.locator(".topbar"))
    assert header["height"] < 64, header
    for control in (
        "#toggle-sidebar",
        "#model-button",
        "#tools-menu summary",
        "#settings-menu summary",
    ):
        item = page.locator(control)
        assert inside_viewport(page, item), control
        assert abs(box(item)["y"] - box(page.locator("#toggle-sidebar"))["y"]) < 8, control
    name = page.locator("#model-name")
    expect(name).to_have_text("test-model")
    assert name.evaluate("el => el.scrollWidth <= el.clientWidth")
    shoot(page, "phone-list-closed", full_page=False)  # axe and control edges, light and dark.
    assert small_targets(page) == []

    # The list opens, and closes by its button, by Esc, and by a tap beside it that
    # reaches nothing underneath (here: Send, with a message ready to go).
    page.fill("#input", "not to be sent")
    toggle.click()
    expect(sidebar).to_be_in_viewport()
    expect(page.locator("#close-sidebar")).to_be_focused()
    page.wait_for_timeout(300)  # The slide-in transition, for the screenshot only.
    shoot(page, "phone-list-open", full_page=False)
    assert small_targets(page) == []
    page.locator("#close-sidebar").click()
    expect(sidebar).not_to_be_in_viewport()
    expect(toggle).to_be_focused()
    toggle.click()
    expect(sidebar).to_be_in_viewport()
    page.keyboard.press("Escape")
    expect(sidebar).not_to_be_in_viewport()
    expect(toggle).to_have_attribute("aria-expanded", "false")
    toggle.click()
    expect(sidebar).to_be_in_viewport()
    send = box(page.locator("#send"))
    page.mouse.click(send["x"] + send["width"] / 2, send["y"] + send["height"] / 2)
    expect(sidebar).not_to_be_in_viewport()
    expect(page.locator("#input")).to_have_value("not to be sent")
    expect(page.locator("article.message.user")).to_have_count(1)

    # Opening a conversation from the list closes it too.
    toggle.click()
    page.locator("#conversation-list li[data-id] a").first.click()
    expect(sidebar).not_to_be_in_viewport()

    # The Tools panel opens inside the screen.
    page.locator("#tools-menu summary").click()
    panel = page.locator(".tools-panel")
    expect(panel).to_be_visible()
    assert inside_viewport(page, panel)
    assert small_targets(page) == []
    page.keyboard.press("Escape")

    # The code's Copy button sits above the code, never on it, and stays in view while
    # the block scrolls by.
    block = reply.locator(".code-block")
    copy = block.get_by_role("button", name="Copy code")
    pre = block.locator("pre")
    scroll_to = "(list, el, offset) => { list.scrollTop += el.getBoundingClientRect().top - list.getBoundingClientRect().top + offset; }"
    page.locator("#messages").evaluate(
        f"(list, el) => ({scroll_to})(list, el, -60)", block.element_handle()
    )
    c, p = box(copy), box(pre)
    assert c["y"] + c["height"] <= p["y"] + 1  # Above the code.
    pre.evaluate("el => { el.scrollLeft = 400; }")
    assert box(copy)["x"] == c["x"]  # Sideways scrolling leaves it be.
    page.locator("#messages").evaluate(
        f"(list, el) => ({scroll_to})(list, el, 300)", pre.element_handle()
    )
    assert box(pre)["y"] < box(page.locator("#messages"))["y"]  # The block's top is gone…
    expect(copy).to_be_in_viewport()  # …its Copy is not.
    copy_top = box(copy)["y"]
    assert 0 <= copy_top - box(page.locator("#messages"))["y"] < 30  # Stuck at the top.
    page.close()


def test_menus_and_panels_close_one_at_a_time_by_esc_or_outside_click(
    site, upstream, browser, account
):
    from playwright.sync_api import expect

    for i in range(3):
        seed_conversation(site, account, pairs=1, title=f"Menu test {i}")
    page = open_page(browser, site, account)
    items = page.locator("#conversation-list li[data-id]")
    first, second = items.nth(0), items.nth(1)

    # The ⋯ menu covers nothing: the item below it can still be clicked.
    first.locator("summary").click()
    menu = first.locator("details.item-menu")
    expect(menu).to_have_attribute("open", "")
    link = second.locator("a")
    # The open menu (in the list's flow) may push the next item below the fold: bring it
    # into view, as a user would, before asking what is at its centre.
    link.scroll_into_view_if_needed()
    target = box(link)
    hit = page.evaluate(
        "([x, y]) => document.elementFromPoint(x, y)?.closest('li')?.dataset.id",
        [target["x"] + target["width"] / 2, target["y"] + target["height"] / 2],
    )
    assert hit == second.get_attribute("data-id")

    # A click outside closes it, and focus goes back to its button.
    page.locator("#messages").click(position={"x": 20, "y": 300})
    expect(menu).not_to_have_attribute("open", "")
    expect(first.locator("summary")).to_be_focused()

    # Esc closes it too, focus back on its button.
    first.locator("summary").click()
    expect(menu).to_have_attribute("open", "")
    page.keyboard.press("Escape")
    expect(menu).not_to_have_attribute("open", "")
    expect(first.locator("summary")).to_be_focused()

    # One open at a time: opening Settings closes Tools; Esc, outside clicks as above.
    panels = {
        "tools": page.locator("#tools-menu"),
        "settings": page.locator("#settings-menu"),
        "model": page.locator("#model-menu"),
    }
    panels["tools"].locator("summary").click()
    expect(panels["tools"]).to_have_attribute("open", "")
    panels["settings"].locator("summary").click()
    expect(panels["settings"]).to_have_attribute("open", "")
    expect(panels["tools"]).not_to_have_attribute("open", "")
    panels["model"].locator("summary").click()
    expect(panels["settings"]).not_to_have_attribute("open", "")
    page.keyboard.press("Escape")
    expect(panels["model"]).not_to_have_attribute("open", "")
    expect(page.locator("#model-button")).to_be_focused()
    panels["tools"].locator("summary").click()
    page.locator("#messages").click(position={"x": 20, "y": 300})
    expect(panels["tools"]).not_to_have_attribute("open", "")
    expect(panels["tools"].locator("summary")).to_be_focused()

    # The conversation menu (⋯ in the header), likewise; its Export links still work.
    item = items.first
    item.locator("a").click()
    conversation_menu = page.locator("#export")
    conversation_menu.locator("summary").click()
    expect(page.locator("#export-md")).to_be_visible()
    page.keyboard.press("Escape")
    expect(page.locator("#export-md")).to_be_hidden()
    expect(conversation_menu.locator("summary")).to_be_focused()
    page.close()


def test_switching_conversations_keeps_the_page_and_its_socket(site, upstream, browser, account):
    from playwright.sync_api import expect

    one = seed_conversation(site, account, pairs=2, title="Switch one")
    two = seed_conversation(site, account, pairs=3, title="Switch two")
    page = browser.new_page(viewport=DESKTOP)
    sockets = []
    page.on("websocket", lambda ws: sockets.append(ws.url))
    sign_in(page, site.url, account)
    page.goto(f"{site.url}/conversations/{one}/")
    connected(page)
    expect(page.locator("article.message")).to_have_count(4)
    sockets.clear()
    page.evaluate("document.documentElement.dataset.samePage = 'yes'")  # Gone on a reload.

    page.fill("#input", "a draft for one")
    page.locator(f'#conversation-list li[data-id="{two}"] a').click()
    expect(page).to_have_url(f"{site.url}/conversations/{two}/")
    expect(page.locator("#title")).to_have_text("Switch two")
    expect(page.locator("article.message")).to_have_count(6)
    expect(page.locator(f'#conversation-list li[data-id="{two}"] a')).to_have_attribute(
        "aria-current", "page"
    )
    expect(page.locator("#input")).to_have_value("")
    # A reply in the conversation switched to streams in as usual.
    upstream.script(text_stream("Answer in two."))
    page.fill("#input", "Question in two")
    page.keyboard.press("Enter")
    expect(page.locator("article.message.assistant").last).to_contain_text("Answer in two.")

    page.go_back()  # Back to the first, with its draft.
    expect(page).to_have_url(f"{site.url}/conversations/{one}/")
    expect(page.locator("article.message")).to_have_count(4)
    expect(page.locator("#input")).to_have_value("a draft for one")
    page.locator(".new-chat").click()
    expect(page).to_have_url(f"{site.url}/")
    expect(page.locator("#empty")).to_be_visible()
    expect(page.locator("article.message")).to_have_count(0)
    assert page.evaluate("document.documentElement.dataset.samePage") == "yes"
    assert sockets == []  # The socket opened with the page is the one still in use.
    page.close()


def test_small_helps_examples_jump_times_retry_and_a_folding_sidebar(
    site, upstream, browser, account
):
    from playwright.sync_api import expect

    page = open_page(browser, site, account)
    # Example prompts on a new chat: one click sends one.
    examples = page.locator("#examples .example")
    expect(examples.first).to_be_visible()
    prompt = examples.first.inner_text()
    upstream.script(text_stream(*[f"Line {i}.\n\n" for i in range(120)], delay=0.03))
    examples.first.click()
    expect(page.locator("article.message.user .body")).to_have_text(prompt)

    # Scrolled up while it streams: "Jump to latest" brings the reader back down.
    reply = page.locator("article.message.assistant").last
    expect(reply).to_contain_text("Line 20.")
    assert upstream.completions()[-1].body["messages"][-1]["content"] == prompt
    jump = page.locator("#jump-latest")
    expect(jump).to_be_hidden()
    page.locator("#messages").hover()
    page.mouse.wheel(0, -3000)
    expect(jump).to_be_visible()
    jump.click()
    expect(jump).to_be_hidden()
    # At the bottom (the list follows the reply once per frame as it grows).
    page.wait_for_function(
        "() => { const m = document.getElementById('messages');"
        " return m.scrollHeight - m.scrollTop - m.clientHeight < 40; }"
    )
    expect(reply).to_have_class(re.compile("status-complete"), timeout=15_000)
    expect(jump).to_be_hidden()

    # The time of a message shows on hover, the whole date in its title.
    when = page.locator("article.message.user .when")
    expect(when).to_be_hidden()
    page.locator("article.message.user").hover()
    expect(when).to_be_visible()
    expect(when).to_have_text(re.compile(r"\d{1,2}:\d{2}"))
    assert when.get_attribute("title") and when.get_attribute("datetime")

    # A reply that failed before writing anything offers only Retry.
    upstream.script(error_reply(500, {"error": {"message": "overloaded"}}))
    upstream.script(error_reply(500, {"error": {"message": "overloaded"}}))
    upstream.script(error_reply(500, {"error": {"message": "overloaded"}}))
    page.fill("#input", "This one fails")
    page.keyboard.press("Enter")
    failed = page.locator("article.message.assistant").last
    expect(failed).to_have_class(re.compile("status-error"))
    expect(failed.get_by_role("button")).to_have_count(1)
    expect(failed.get_by_role("button", name="Try this reply again")).to_be_visible()
    upstream.script(text_stream("Back again."))
    failed.get_by_role("button", name="Try this reply again").click()
    expect(page.locator("article.message.assistant").last).to_contain_text("Back again.")

    # The desktop sidebar folds away, and stays folded after a reload.
    sidebar, toggle = page.locator("#sidebar"), page.locator("#toggle-sidebar")
    expect(sidebar).to_be_visible()
    toggle.click()
    expect(sidebar).to_be_hidden()
    expect(toggle).to_have_attribute("aria-expanded", "false")
    assert box(page.locator(".composer"))["width"] > 700
    page.reload()
    connected(page)
    expect(sidebar).to_be_hidden()
    toggle.click()
    expect(sidebar).to_be_visible()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    page.close()


def test_drafts_stay_with_their_account_and_go_on_sign_out(site, browser):
    from playwright.sync_api import expect

    elsewhere = browser.new_page()
    sign_up(elsewhere, site.url, "ben")
    elsewhere.close()
    context = browser.chromium.new_context(viewport=DESKTOP)
    context.on("page", lambda p: p.on("pageerror", lambda error: PAGE_ERRORS.append(str(error))))
    page = context.new_page()
    sign_up(page, site.url, "ann")
    page.fill("#input", "ann's secret draft")
    # ann's session ends without her signing out (it expired, or she signed out
    # everywhere from her phone); someone else signs in on the same browser.
    context.clear_cookies()
    other = context.new_page()
    sign_in(other, site.url, "ben")
    expect(other.locator("#input")).to_have_value("")
    other.fill("#input", "ben's own draft")
    other.close()
    # ann again: her draft is hers; ben's is not shown to her.
    context.clear_cookies()
    sign_in(page, site.url, "ann")
    expect(page.locator("#input")).to_have_value("ann's secret draft")
    # Signing out removes ann's drafts from the browser, and only hers.
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(re.compile("/accounts/login/"))
    keys = page.evaluate("Object.keys(localStorage).filter((k) => k.startsWith('draft:'))")
    assert keys  # ben's draft is still there.
    assert not any("ann's" in page.evaluate("(k) => localStorage.getItem(k)", k) for k in keys)
    sign_in(page, site.url, "ben")
    expect(page.locator("#input")).to_have_value("ben's own draft")
    context.close()


def test_a_conversation_is_reported_from_its_menu_and_the_report_withdrawn(
    site, upstream, browser, account
):
    from playwright.sync_api import expect

    page = open_page(browser, site, account, viewport=PHONE)
    upstream.script(text_stream("Mix them, it is fine."))
    page.fill("#input", "Can I mix cleaning products?")
    page.keyboard.press("Enter")
    expect(page.locator("article.message.assistant").last).to_have_class(
        re.compile("status-complete")
    )
    cid = int(page.url.rstrip("/").rsplit("/", 1)[-1])
    page.locator("#export summary").click()
    page.get_by_role("button", name="Report conversation…").click()
    dialog = page.locator("#report-dialog")
    expect(dialog).to_be_visible()
    assert inside_viewport(page, dialog)
    shoot(page, "report-dialog-phone", full_page=False)
    assert small_targets(page) == []
    dialog.get_by_role("button", name="Report").click()
    expect(dialog.locator("#report-error")).to_contain_text("Choose what is wrong")
    dialog.get_by_label("Unsafe or harmful").check()
    dialog.get_by_label("Comment").fill("Dangerous advice.")
    dialog.get_by_role("button", name="Report").click()
    expect(dialog).to_be_hidden()
    expect(page.locator("#status")).to_contain_text("reported")
    expect(page.locator("#export summary")).to_be_focused()
    report = page.evaluate(f"fetch('/conversations/{cid}/report').then((r) => r.json())")
    assert report["report"]["categories"] == ["unsafe"]
    assert report["report"]["comment"] == "Dangerous advice."

    # Reopened from the list's ⋯ menu: the report shows, and can be withdrawn. Esc closes.
    page.locator("#toggle-sidebar").click()
    item = page.locator(f'#conversation-list li[data-id="{cid}"]')
    item.locator("summary").click()
    item.get_by_role("button", name="Report…").click()
    expect(dialog.get_by_label("Unsafe or harmful")).to_be_checked()
    expect(dialog.get_by_label("Comment")).to_have_value("Dangerous advice.")
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    item.locator("summary").click()
    item.get_by_role("button", name="Report…").click()
    dialog.get_by_role("button", name="Withdraw my report").click()
    expect(dialog).to_be_hidden()
    report = page.evaluate(f"fetch('/conversations/{cid}/report').then((r) => r.json())")
    assert report["report"] is None
    page.close()
