"""A person's view: real daphne, real Chromium, the fake upstream on loopback."""

import re

import pytest

from tests.a11y import ARTIFACTS, shoot
from tests.browser.tester import sign_in, sign_up
from tests.browser_support import connected
from tests.fake_upstream import chunk, sse, text_stream, tool_calls_stream

pytestmark = pytest.mark.browser


def test_sign_up_chat_stream_reload_and_inert_output(site, upstream, browser):
    from playwright.sync_api import expect

    ARTIFACTS.mkdir(exist_ok=True)
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    sign_up(page, site)
    expect(page).to_have_url(f"{site}/")
    connected(page)

    upstream.script(
        text_stream("Hello", " from", " the", " **stream**", "!", *[" more"] * 10, delay=0.15)
    )
    page.fill("#input", "Say hello")
    page.keyboard.press("Enter")

    reply = page.locator("article.message.assistant").last
    # It streams: partial text is visible while the stop button is shown.
    expect(reply).to_contain_text("Hello from")
    expect(page.locator("#stop")).to_be_visible()
    assert "more more more" not in reply.inner_text()
    expect(reply).to_have_class(re.compile("status-complete"), timeout=10_000)
    expect(reply.locator(".body strong")).to_have_text("stream")
    expect(page.locator("#send")).to_be_visible()
    expect(page.locator("#stop")).to_be_hidden()
    expect(page.locator("#title")).to_have_text("Say hello")
    expect(page).to_have_url(re.compile(r"/conversations/\d+/$"))
    expect(page.locator("#conversation-list li[data-id]")).to_have_count(1)
    expect(page.locator("#conversation-list li.group")).to_have_text("Today")

    page.reload()
    connected(page)
    expect(page.locator("article.message.user")).to_have_text(re.compile("Say hello"))
    expect(page.locator("article.message.assistant .body")).to_contain_text(
        "Hello from the stream!"
    )

    hostile = (
        'Look: <img src=x onerror="window.__pwned=1"> and <script>window.__pwned=2</script> '
        f"![tracker]({site}/static/chat.css?leak=secret)"
    )
    upstream.script(sse(chunk({"content": hostile}), chunk(finish="stop")))
    page.fill("#input", "Be hostile")
    page.keyboard.press("Enter")
    last = page.locator("article.message.assistant").last
    expect(last).to_have_class(re.compile("status-complete"))
    expect(last.locator(".body")).to_contain_text('<img src=x onerror="window.__pwned=1">')
    expect(last.locator(".body")).to_contain_text("<script>window.__pwned=2</script>")
    assert page.evaluate("window.__pwned") is None
    assert page.locator("#messages img").count() == 0
    assert page.locator("#messages script").count() == 0
    shoot(page, "chat")  # Checked (axe, control edges) and photographed, light and dark.

    # The upstream saw the whole history on the second turn.
    second = upstream.completions()[-1].body["messages"]
    assert [m["role"] for m in second] == ["user", "assistant", "user"]
    page.close()


def test_failed_turn_shows_error_and_retry(site, upstream, browser):
    from playwright.sync_api import expect

    page = browser.new_page(viewport={"width": 390, "height": 844})  # A phone.
    sign_in(page, site)

    upstream.script(sse(chunk({"content": "Half an ans"}), done=False))
    upstream.replies[-1].steps.append(("drop",))
    page.fill("#input", "Will fail")
    page.click("#send")
    failed = page.locator("article.message.assistant").last
    expect(failed.locator(".notice.error")).to_contain_text(
        "connection to the model provider was lost"
    )
    expect(failed.locator(".body")).to_contain_text("Half an ans")

    upstream.script(text_stream("Worked this time."))
    failed.locator("button.retry").click()
    expect(page.locator("article.message.assistant")).to_have_count(1)
    expect(page.locator("article.message.assistant .body")).to_contain_text("Worked this time.")
    shoot(page, "chat-phone")
    page.close()


def test_auto_scroll_follows_until_the_reader_scrolls_up(site, upstream, browser):
    from playwright.sync_api import expect

    page = browser.new_page(viewport={"width": 1000, "height": 600})
    sign_in(page, site)
    upstream.script(text_stream(*[f"line {i}\n\n" for i in range(80)], delay=0.05))
    page.fill("#input", "Count")
    page.keyboard.press("Enter")
    reply = page.locator("article.message.assistant").last
    expect(reply).to_contain_text("line 30")
    at_bottom = "(m => m.scrollHeight - m.scrollTop - m.clientHeight < 40)(document.getElementById('messages'))"
    assert page.evaluate(at_bottom)  # Following the stream.
    page.locator("#messages").evaluate(
        "m => { m.scrollTop = 0; m.dispatchEvent(new Event('scroll')); }"
    )
    expect(reply).to_have_class(re.compile("status-complete"), timeout=10_000)
    assert (
        page.locator("#messages").evaluate("m => m.scrollTop") < 40
    )  # Left where the reader went.
    page.close()


def test_persona_what_was_sent_and_tool_card(site, upstream, browser):
    from playwright.sync_api import expect

    page = browser.new_page(viewport={"width": 1280, "height": 900})
    sign_in(page, site)
    page.goto(f"{site}/personas/new/")
    page.fill("#id_name", "Math tutor")
    page.fill("#id_system_prompt", "You are a patient math tutor. Use the calculator.")
    page.check("input[name=tools][value=calculator]")
    page.select_option("#id_tool_choice", "auto")
    page.click("button[type=submit]")
    expect(page.locator(".persona-list")).to_contain_text("Math tutor")

    page.goto(f"{site}/")
    connected(page)
    page.click("#settings-menu summary")
    page.select_option("#persona", label="Math tutor")
    page.click("#tools-menu summary")
    expect(page.locator("input[value=calculator]")).to_be_checked()  # The persona's default.
    page.click("#tools-menu summary")
    upstream.script(
        tool_calls_stream(("calculator", '{"expression": "6 * 7"}'), split=5),
        text_stream("The answer is ", "**42**."),
    )
    page.fill("#input", "What is 6 times 7?")
    page.keyboard.press("Enter")

    card = page.locator("article.message.tool .tool-card")
    expect(card).to_contain_text(re.compile(r"Tool · calculator · ok · \d+ ms → 42"))
    card.locator("summary").first.click()
    expect(card).to_contain_text('"expression": "6 * 7"')
    answer = page.locator("article.message.assistant").last
    expect(answer).to_have_class(re.compile("status-complete"))
    expect(answer.locator(".body")).to_contain_text("The answer is 42.")

    sent = answer.locator("details.sent")
    sent.locator("summary").click()
    expect(sent).to_contain_text("You are a patient math tutor. Use the calculator.")
    expect(sent).to_contain_text("Math tutor (version 1)")
    expect(sent).to_contain_text("calculator (tool_choice: auto)")
    first_request = upstream.completions()[-2].body
    assert (
        first_request["messages"][0]["content"]
        == "You are a patient math tutor. Use the calculator."
    )
    assert first_request["tool_choice"] == "auto"
    shoot(page, "chat-tools")
    page.close()


def test_versions_rename_search_delete_and_import(site, upstream, browser, tmp_path):
    from playwright.sync_api import expect

    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.on("dialog", lambda dialog: dialog.accept())  # The delete confirmation.
    sign_in(page, site)
    upstream.script(text_stream("Try ", "basil."))
    page.fill("#input", "Suggest a herb for my windowsill")
    page.keyboard.press("Enter")
    reply = page.locator("article.message.assistant").last
    expect(reply).to_have_class(re.compile("status-complete"))

    # Regenerate: a second version, then switch back to the first.
    upstream.script(text_stream("Try ", "thyme."))
    reply.get_by_role("button", name="Write a new version of this reply").click()
    expect(page.locator("article.message.assistant .body")).to_have_text("Try thyme.")
    versions = page.locator("article.message.assistant .versions")
    expect(versions).to_contain_text("2/2")
    versions.get_by_role("button", name="Previous version").click()
    expect(page.locator("article.message.assistant .body")).to_have_text("Try basil.")
    expect(versions).to_contain_text("1/2")
    page.reload()  # The chosen version is remembered.
    connected(page)
    expect(page.locator("article.message.assistant .body")).to_have_text("Try basil.")
    shoot(page, "chat-versions", full_page=False)

    # Edit the question: a second version of it, with its own reply.
    upstream.script(text_stream("Try ", "mint."))
    page.locator("article.message.user").get_by_role("button", name="Edit message").click()
    page.locator(".editor textarea").fill("Suggest a herb for a shady windowsill")
    page.locator(".editor").get_by_role("button", name="Save and send").click()
    expect(page.locator("article.message.assistant .body")).to_have_text("Try mint.")
    expect(page.locator("article.message.user .body")).to_have_text(
        "Suggest a herb for a shady windowsill"
    )
    expect(page.locator("article.message.user .versions")).to_contain_text("2/2")
    page.locator("article.message.user").get_by_role("button", name="Previous version").click()
    expect(page.locator("article.message.assistant .body")).to_have_text("Try basil.")

    # Rename inline from the sidebar.
    item = page.locator("#conversation-list li[data-id]").first
    item.locator("summary").click()
    item.get_by_role("button", name="Rename").click()
    field = page.locator("#conversation-list input.rename")
    field.fill("Windowsill herbs")
    field.press("Enter")
    expect(page.locator("#conversation-list li[data-id] a").first).to_have_text("Windowsill herbs")
    expect(page.locator("#title")).to_have_text("Windowsill herbs")

    # Search finds it by a word in a reply, with the snippet.
    page.keyboard.press("Escape")
    page.locator("#messages").click()
    page.keyboard.press("/")
    expect(page.locator("#search")).to_be_focused()
    page.keyboard.type("basil")
    hit = page.locator("#conversation-list .search-hit").first
    expect(hit).to_contain_text("Windowsill herbs")
    expect(hit.locator(".hit-snippet")).to_contain_text("basil")

    # Export it, then import the file back: a copy with both versions.
    with page.expect_download() as download_info:
        page.click("#export summary")
        page.click("#export-json")
    exported = tmp_path / "conversation.json"
    download_info.value.save_as(exported)
    page.goto(f"{site}/import/")
    page.set_input_files("#import-file", str(exported))
    page.click("button[type=submit]")
    expect(page).to_have_url(re.compile(r"/conversations/\d+/$"))
    connected(page)
    expect(page.locator("article.message.assistant .body")).to_have_text("Try basil.")
    expect(page.locator("article.message.assistant .versions")).to_contain_text("1/2")
    imported_url = page.url

    # Delete the import: gone from the sidebar and for good.
    imported_id = imported_url.rstrip("/").rsplit("/", 1)[-1]
    item = page.locator(f'#conversation-list li[data-id="{imported_id}"]')
    item.locator("summary").click()
    item.get_by_role("button", name="Delete").click()
    expect(page).to_have_url(f"{site}/")
    expect(page.locator(f'#conversation-list li[data-id="{imported_id}"]')).to_have_count(0)
    assert page.goto(imported_url).status == 404
    page.close()


def test_bad_import_file_is_refused_in_place(site, browser, tmp_path):
    from playwright.sync_api import expect

    page = browser.new_page()
    sign_in(page, site)
    bad = tmp_path / "bad.json"
    bad.write_text('{"not": "an export"}')
    page.goto(f"{site}/import/")
    page.set_input_files("#import-file", str(bad))
    page.click("button[type=submit]")
    expect(page.locator("#import-error")).to_contain_text(
        "neither an export from this app nor ChatGPT"
    )
    page.close()


def test_the_page_scripts_leave_no_globals(site, browser):
    """The chat page's scripts are modules: nothing of theirs lands on window."""
    page = browser.new_page()
    sign_in(page, site)
    own_names = "() => Object.getOwnPropertyNames(window)"
    chat_page = set(page.evaluate(own_names))
    page.goto(f"{site}/personas/")  # A page without scripts of ours.
    plain_page = set(page.evaluate(own_names))
    assert chat_page - plain_page == set()
    page.goto(f"{site}/")
    connected(page)
    # The names the classic scripts used to share.
    assert page.evaluate("() => ['Sidebar', 'Render'].filter((name) => name in window)") == []
    page.close()


def test_sidebar_requests_that_fail_say_so_and_can_be_retried(site, upstream, browser):
    from playwright.sync_api import expect

    page = browser.new_page(viewport={"width": 1280, "height": 900})
    console = []
    page.on("console", lambda message: console.append(message))
    sign_in(page, site)
    upstream.script(text_stream("Parsley grows well in partial shade."))
    page.fill("#input", "Which herb likes shade?")
    page.keyboard.press("Enter")
    expect(page.locator("article.message.assistant").last).to_have_class(
        re.compile("status-complete")
    )
    problem = page.locator("#conversation-list .sidebar-problem")

    # Search: a server error, then no network at all, then it works again.
    def answered(path):
        return page.expect_response(lambda response: path in response.url)

    def failed(path):
        return page.expect_event("requestfailed", lambda request: path in request.url)

    page.route("**/search.json*", lambda route: route.fulfill(status=500, body="x"))
    with answered("/search.json") as response:
        page.fill("#search", "parsley")
    assert response.value.status == 500
    expect(problem).to_have_text("Search failed. Retry")
    expect(problem.get_by_role("alert")).to_be_visible()
    page.unroute("**/search.json*")
    page.route("**/search.json*", lambda route: route.abort())
    with failed("/search.json"):
        problem.get_by_role("button", name="Retry").click()
    expect(problem).to_have_text("Search failed. Retry")
    page.unroute("**/search.json*")
    with answered("/search.json") as response:
        problem.get_by_role("button", name="Retry").click()
    assert response.value.ok
    hit = page.locator("#conversation-list .search-hit").first
    expect(hit.locator(".hit-snippet")).to_contain_text("Parsley")
    expect(problem).to_have_count(0)
    page.locator("#search").press("Escape")
    expect(page.locator("#conversation-list li[data-id]").first).to_be_visible()

    # The archived view: no network, then a server error, then it loads.
    page.route("**/conversations.json*", lambda route: route.abort())
    with failed("/conversations.json"):
        page.click("#show-archived")
    expect(problem).to_have_text("Couldn't load archived conversations. Retry")
    expect(page.locator("#conversation-list .empty")).to_have_count(0)
    shoot(page, "sidebar-problem", full_page=False)
    page.unroute("**/conversations.json*")
    page.route("**/conversations.json*", lambda route: route.fulfill(status=500, body="x"))
    with answered("/conversations.json") as response:
        problem.get_by_role("button", name="Retry").click()
    assert response.value.status == 500
    expect(problem).to_have_text("Couldn't load archived conversations. Retry")
    page.unroute("**/conversations.json*")
    with answered("/conversations.json") as response:
        problem.get_by_role("button", name="Retry").click()
    assert response.value.ok
    expect(problem).to_have_count(0)
    page.click("#show-archived")  # Back to conversations.
    expect(page.locator("#conversation-list li[data-id]").first).to_be_visible()

    # The page kept working throughout.
    upstream.script(text_stream("Chives too."))
    page.fill("#input", "Another?")
    page.keyboard.press("Enter")
    expect(page.locator("article.message.assistant").last).to_contain_text("Chives too.")
    ours = [m for m in console if "/static/" in (m.location or {}).get("url", "")]
    assert ours == [], [m.text for m in ours]
    page.close()
