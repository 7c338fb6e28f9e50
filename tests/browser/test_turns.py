"""Turns in the chat page, in Chromium against real daphne and the fake upstream: a
persona's model and the model picker, this chat's settings, Continue, a tool call as
one turn, reasoning as it happens, and rating replies."""

import re

import pytest

from tests.a11y import ARTIFACTS, shoot, small_targets
from tests.browser_support import (
    DEEPSEEK,
    LLAMA,
    box,
    connected,
    django,
    inside_viewport,
    sign_up,
    start_site,
)
from tests.fake_upstream import chunk, sse, text_stream, tool_calls_stream

pytestmark = pytest.mark.browser
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 860}


@pytest.fixture(scope="module")
def site(upstream, tmp_path_factory):
    server = start_site(upstream, tmp_path_factory, "turns-site")
    yield server
    server.stop()


@pytest.fixture(scope="module")
def page(site, browser):
    """One signed-in page for the module (each test starts a new chat on it)."""
    page = browser.new_page(viewport=DESKTOP)
    sign_up(page, site.url, "tess")
    yield page
    page.close()


def new_chat(page, site, viewport=DESKTOP):
    page.set_viewport_size(viewport)
    page.emulate_media(color_scheme="light")
    page.goto(f"{site.url}/")
    connected(page)


def send(page, text):
    page.fill("#input", text)
    page.keyboard.press("Enter")


ANSWERED = """(text) => {
  const all = [...document.querySelectorAll("#messages article.message[data-id]")];
  const asked = all.filter((el) => el.classList.contains("user")).at(-1);
  const last = all.at(-1);
  return Boolean(asked && asked.querySelector(".body").textContent === text
    && last.classList.contains("assistant") && !last.classList.contains("status-streaming")
    && !document.getElementById("send").hidden);
}"""


def ask(page, text):
    """Send a message and wait for the whole turn it starts."""
    send(page, text)
    page.wait_for_function(ANSWERED, arg=text, timeout=15_000)
    return last_reply(page)


def last_reply(page):
    return page.locator("article.message.assistant").last


def done(page):
    from playwright.sync_api import expect

    reply = last_reply(page)
    expect(reply).to_have_class(re.compile(r"status-(complete|stopped|error)"), timeout=15_000)
    expect(page.locator("#send")).to_be_visible()
    return reply


def what_was_sent(reply):
    sent = reply.locator("details.sent")
    sent.locator("summary").click()
    return sent


def make_persona(page, site, name, **fields):
    page.goto(f"{site.url}/personas/new/")
    page.fill("#id_name", name)
    for field, value in fields.items():
        if field == "tools":
            for tool in value:
                page.check(f"input[name=tools][value={tool}]")
        else:
            page.fill(f"#id_{field}", str(value))
    page.click("button[type=submit]")


def test_a_personas_model_is_chosen_with_it_and_a_picked_model_overrides_it(site, upstream, page):
    from playwright.sync_api import expect

    make_persona(page, site, "Coder", model=DEEPSEEK, system_prompt="You write code.")
    new_chat(page, site)
    expect(page.locator("#model-name")).to_have_text("test-model")  # The default.
    page.locator("#settings-menu summary").click()
    page.select_option("#persona", label="Coder")
    page.keyboard.press("Escape")
    # Choosing the persona chose its model: the picker says so, and the request goes there.
    expect(page.locator("#model-name")).to_have_text("DeepSeek V3")
    expect(page.locator("#model-note")).to_be_hidden()
    upstream.script(text_stream("def f(): pass"))
    reply = ask(page, "Write a function")
    assert upstream.completions()[-1].body["model"] == DEEPSEEK
    expect(what_was_sent(reply)).to_contain_text(f"{DEEPSEEK} (the persona's)")

    # A model picked afterwards overrides the persona's for this chat, visibly.
    page.locator("#model-button").click()
    page.get_by_role("option", name=re.compile("Llama 3.3 70B")).click()
    expect(page.locator("#model-name")).to_have_text("Llama 3.3 70B")
    expect(page.locator("#model-note")).to_be_visible()
    upstream.script(text_stream("def g(): pass"))
    reply = ask(page, "Another one")
    assert upstream.completions()[-1].body["model"] == LLAMA
    expect(what_was_sent(reply)).to_contain_text(f"{LLAMA} (chosen for this chat)")

    # It is the conversation's: a reload shows it, and Regenerate uses it.
    page.reload()
    connected(page)
    expect(page.locator("#model-name")).to_have_text("Llama 3.3 70B")
    expect(page.locator("#model-note")).to_be_visible()
    upstream.script(text_stream("def h(): pass"))
    last_reply(page).get_by_role("button", name="Write a new version of this reply").click()
    expect(last_reply(page)).to_contain_text("def h")
    done(page)
    assert upstream.completions()[-1].body["model"] == LLAMA

    # Back to the persona's model from the picker.
    page.locator("#model-button").click()
    expect(page.locator("#model-origin")).to_contain_text("Coder uses DeepSeek V3")
    page.get_by_role("button", name="Use the persona's model").click()
    expect(page.locator("#model-name")).to_have_text("DeepSeek V3")
    expect(page.locator("#model-note")).to_be_hidden()
    upstream.script(text_stream("ok"))
    ask(page, "And now?")
    assert upstream.completions()[-1].body["model"] == DEEPSEEK


def test_the_model_picker_groups_searches_and_works_by_keyboard_and_on_a_phone(
    site, upstream, page
):
    from playwright.sync_api import expect

    new_chat(page, site)
    page.locator("#model-button").click()
    listbox = page.get_by_role("listbox", name="Models")
    expect(listbox).to_be_visible()
    families = page.locator(".model-family").all_inner_texts()
    assert [f.upper() for f in families] == ["DEEPSEEK", "LLAMA", "OTHER", "QWEN"]
    llama = page.get_by_role("option", name=re.compile("Llama 3.3 70B"))
    expect(llama).to_contain_text("128K context · tools")
    expect(page.get_by_role("option", name=re.compile("DeepSeek R1"))).to_contain_text("no tools")
    expect(page.get_by_role("group", name="Llama")).to_contain_text("Llama 3.3 70B")

    # Search narrows the list; the keyboard picks.
    page.keyboard.type("deepseek")
    expect(listbox.get_by_role("option")).to_have_count(2)
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    expect(page.locator("#model-menu")).not_to_have_attribute("open", "")
    expect(page.locator("#model-button")).to_be_focused()
    expect(page.locator("#model-name")).to_have_text("DeepSeek V3")
    # All by keyboard: open with Enter, search, Esc leaves the choice as it was.
    page.keyboard.press("Enter")
    expect(page.locator("#model-search")).to_be_focused()
    page.keyboard.type("zzz")
    expect(page.locator(".model-none")).to_have_text("No model matches.")
    page.keyboard.press("Escape")
    expect(page.locator("#model-button")).to_be_focused()
    expect(page.locator("#model-name")).to_have_text("DeepSeek V3")

    # On a phone: the list opens inside the screen, with options large enough to tap.
    page.set_viewport_size(PHONE)
    page.locator("#model-button").click()
    panel = page.locator(".model-panel")
    assert inside_viewport(page, panel)
    assert box(listbox.get_by_role("option").first)["height"] >= 44
    page.get_by_role("option", name=re.compile("Qwen2.5 72B")).click()
    expect(page.locator("#model-name")).to_have_text("Qwen2.5 72B")
    upstream.script(text_stream("Hi."))
    ask(page, "Hello Qwen")
    assert upstream.completions()[-1].body["model"] == "Qwen/Qwen2.5-72B-Instruct"
    page.locator("#model-button").click()
    shoot(page, "model-picker-phone", full_page=False)
    assert small_targets(page) == []
    page.keyboard.press("Escape")


def test_a_model_that_went_away_is_marked_and_another_is_picked_by_keyboard(site, upstream, page):
    from playwright.sync_api import expect

    new_chat(page, site)
    upstream.script(text_stream("First answer."))
    ask(page, "Hello")
    cid = int(re.search(r"/conversations/(\d+)/", page.url).group(1))
    django(
        site,
        "from conversations.models import Conversation; "
        f"print(Conversation.objects.filter(pk={cid}).update(model='retired/model-1'))",
    )
    page.reload()
    connected(page)
    expect(page.locator("#model-name")).to_have_text("model-1 (unavailable)")
    problem = page.locator("#model-problem")
    expect(problem).to_contain_text("retired/model-1, is no longer available")
    shoot(page, "model-unavailable")
    page.set_viewport_size(PHONE)
    expect(problem).to_be_visible()
    assert inside_viewport(page, problem)
    assert inside_viewport(page, page.locator("#model-button"))
    shoot(page, "model-unavailable-phone")
    page.set_viewport_size(DESKTOP)
    # Sending anyway: refused beside the picker, the text given back, focus on the picker.
    sent_before = len(upstream.completions())
    send(page, "Still there?")
    expect(problem).to_contain_text("There is no model retired/model-1 here")
    expect(page.locator("#model-button")).to_be_focused()
    expect(page.locator("#input")).to_have_value("Still there?")
    assert len(upstream.completions()) == sent_before
    # The gone model is listed but cannot be picked; another one can, by keyboard.
    page.keyboard.press("Enter")
    expect(page.locator("#model-search")).to_be_focused()
    page.keyboard.type("model-1")
    gone = page.get_by_role("option", name=re.compile("model-1"))
    expect(gone).to_have_attribute("aria-disabled", "true")
    page.keyboard.press("Enter")
    expect(page.locator("#model-menu")).to_have_attribute("open", "")  # Nothing picked.
    page.fill("#model-search", "DeepSeek V3")
    page.keyboard.press("Enter")
    expect(page.locator("#model-name")).to_have_text("DeepSeek V3")
    expect(problem).to_be_hidden()
    upstream.script(text_stream("Back again."))
    page.locator("#input").focus()
    page.keyboard.press("Enter")
    reply = done(page)
    expect(reply.locator(".body")).to_contain_text("Back again.")
    assert upstream.completions()[-1].body["model"] == DEEPSEEK


def test_this_chats_settings_are_sent_and_recorded(site, upstream, page):
    from playwright.sync_api import expect

    make_persona(page, site, "Tutor", temperature="0.3", system_prompt="Teach gently.")
    new_chat(page, site, PHONE)
    page.locator("#settings-menu summary").click()
    panel = page.locator(".settings-panel")
    assert inside_viewport(page, panel)
    page.select_option("#persona", label="Tutor")
    expect(page.get_by_role("spinbutton", name="Temperature")).to_have_attribute(
        "placeholder", "0.3 (persona's)"
    )
    page.get_by_role("spinbutton", name="Temperature").fill("1.3")
    page.get_by_role("spinbutton", name="Max tokens").fill("64")
    page.get_by_role("textbox", name="System prompt").fill("Answer like a pirate.")
    page.get_by_role(
        "spinbutton", name="Top p"
    ).focus()  # The change is taken when a field is left.
    expect(page.locator("#settings-saved")).to_have_text("Used from your first message.")
    page.keyboard.press("Escape")
    upstream.script(text_stream("Arr."))
    reply = ask(page, "Hello")
    body = upstream.completions()[-1].body
    assert body["temperature"] == 1.3 and body["max_tokens"] == 64
    assert body["messages"][0] == {"role": "system", "content": "Answer like a pirate."}
    sent = what_was_sent(reply)
    expect(sent).to_contain_text("temperature=1.3 (this chat's)")
    expect(sent).to_contain_text("max_tokens=64 (this chat's)")
    expect(sent).to_contain_text("System prompt (this chat's)")

    # They are the conversation's: after a reload the panel shows them; a change is saved
    # at once, and a blank goes back to the persona's.
    page.reload()
    connected(page)
    page.locator("#settings-menu summary").click()
    expect(page.get_by_role("spinbutton", name="Temperature")).to_have_value("1.3")
    expect(page.get_by_role("textbox", name="System prompt")).to_have_value("Answer like a pirate.")
    page.get_by_role("spinbutton", name="Temperature").fill("")
    page.get_by_role("spinbutton", name="Temperature").press("Tab")
    expect(page.locator("#settings-saved")).to_have_text("Saved for this chat.")
    shoot(page, "chat-settings-phone", full_page=False)
    assert small_targets(page) == []
    page.keyboard.press("Escape")
    upstream.script(text_stream("Arr again."))
    ask(page, "Again")
    body = upstream.completions()[-1].body
    assert body["temperature"] == 0.3 and body["max_tokens"] == 64


def test_continue_writes_on_in_the_same_reply(site, upstream, page, tmp_path):
    from playwright.sync_api import expect

    new_chat(page, site)
    upstream.script(
        text_stream("The first part of a long answer, ", "cut right in the", finish="length")
    )
    reply = ask(page, "Tell me everything")
    notice = reply.locator(".notice")
    expect(notice).to_contain_text("Cut off at the length limit.")
    expect(reply).not_to_contain_text("finish: length")
    reply_id = reply.get_attribute("data-id")

    upstream.script(text_stream(" middle, and then", " the end.", delay=0.2))
    notice.get_by_role("button", name="Continue this reply").click()
    expect(page.locator("#stop")).to_be_visible()
    expect(page.locator("article.message.assistant")).to_have_count(1)
    reply = done(page)
    assert reply.get_attribute("data-id") == reply_id
    expect(reply.locator(".body")).to_have_text(
        "The first part of a long answer, cut right in the middle, and then the end."
    )
    expect(reply.locator(".notice")).to_have_count(0)
    expect(reply.get_by_role("button", name="Copy message")).to_have_count(1)
    expect(page.locator("article.message.user")).to_have_count(
        1
    )  # No words put in the user's mouth.
    sent = what_was_sent(reply)
    expect(sent).to_contain_text("Continued")
    expect(sent).to_contain_text("an instruction not shown as yours")
    last = upstream.completions()[-1].body["messages"]
    assert last[-2]["role"] == "assistant" and last[-1]["role"] == "user"

    # One reply in the export, whole.
    with page.expect_download() as download:
        page.locator("#export summary").click()
        page.locator("#export-md").click()
    path = tmp_path / "export.md"
    download.value.save_as(path)
    text = path.read_text()
    assert text.count("cut right in the middle, and then the end.") == 1
    assert "Continue your last reply" not in text


def test_a_tool_call_is_one_turn_with_its_steps_inline(site, upstream, page):
    from playwright.sync_api import expect

    new_chat(page, site)
    page.locator("#tools-menu summary").click()
    page.check("input[value=calculator]")
    page.keyboard.press("Escape")
    upstream.script(
        tool_calls_stream(("calculator", '{"expression": "6 * 7"}')),
        text_stream("The answer is ", "**42**."),
    )
    answer = ask(page, "What is 6 times 7?")
    expect(answer.locator(".body")).to_have_text("The answer is 42.")

    turn = page.locator("article.message.assistant, article.message.tool")
    expect(turn).to_have_count(3)  # The call, its result, the answer: one turn on screen.

    def assistant_labels():
        roles = page.locator("article.message.assistant .role, article.message.tool .role")
        return [el.is_visible() for el in roles.all()].count(True)

    assert assistant_labels() == 1  # "Assistant" once.
    page.reload()  # The turn drawn from the saved conversation: the same.
    connected(page)
    expect(turn).to_have_count(3)
    assert assistant_labels() == 1
    step = page.locator("article.message.step-call")
    expect(step.locator(".body")).to_be_hidden()  # It said nothing: no empty bubble.
    expect(step.get_by_role("button")).to_have_count(0)  # No actions of its own.
    card = page.locator("article.message.tool .tool-card")
    expect(card).to_contain_text(re.compile(r"Tool · calculator · ok · \d+ ms → 42"))
    expect(card).not_to_have_attribute("open", "")
    expect(card.get_by_text('"expression": "6 * 7"')).to_be_hidden()
    card.locator("summary").first.click()
    expect(card.get_by_text('"expression": "6 * 7"')).to_be_visible()
    # Actions only on the final answer: one Copy, one Regenerate, one pair of thumbs.
    expect(page.get_by_role("button", name="Copy message")).to_have_count(2)  # The question's too.
    expect(page.get_by_role("button", name="Write a new version of this reply")).to_have_count(1)
    expect(page.get_by_role("button", name="Bad reply")).to_have_count(1)
    shoot(page, "chat-tool-step")

    # Regenerate writes the whole turn again, from the question: tool call and all.
    upstream.script(
        tool_calls_stream(("calculator", '{"expression": "7 * 6"}')),
        text_stream("Still ", "**42**."),
    )
    answer.get_by_role("button", name="Write a new version of this reply").click()
    expect(last_reply(page).locator(".body")).to_have_text("Still 42.", timeout=15_000)
    regenerated = upstream.completions()[-2].body["messages"]
    assert regenerated[-1] == {"role": "user", "content": "What is 6 times 7?"}
    expect(page.locator("article.message.step-call .versions")).to_contain_text("2/2")


def test_reasoning_shows_thinking_time_and_its_latest_line(site, upstream, page):
    from playwright.sync_api import expect

    new_chat(page, site)
    upstream.script(
        sse(
            chunk({"role": "assistant", "reasoning_content": "First I read the question."}),
            chunk({"reasoning_content": "\nThen I count the letters."}),
            chunk({"reasoning_content": "\nThere are three r's in strawberry."}),
            chunk({"content": "Strawberry has **three** r's."}),
            chunk(finish="stop"),
            delay=0.9,
        )
    )
    send(page, "How many r's in strawberry?")
    reply = last_reply(page)
    label = reply.locator(".reasoning-label")
    expect(label).to_have_text(re.compile(r"Thinking… (< )?1 s"))
    expect(reply.locator(".reasoning-latest")).to_have_text("Then I count the letters.")
    expect(label).to_have_text(re.compile(r"Thinking… 2 s"), timeout=5_000)
    page.screenshot(path=str(ARTIFACTS / "chat-reasoning-live.png"))
    reply = done(page)
    expect(reply.locator(".reasoning-label")).to_have_text(re.compile(r"Thought for [23] s"))
    expect(reply.locator(".reasoning-latest")).to_have_text("")
    reply.locator(".reasoning summary").click()
    expect(reply.locator(".reasoning pre")).to_contain_text("three r's in strawberry")
    shoot(page, "chat-reasoning", full_page=False)
    page.reload()  # The saved reasoning time.
    connected(page)
    expect(last_reply(page).locator(".reasoning-label")).to_have_text(
        re.compile(r"Thought for [23] s")
    )


def test_rating_a_reply_by_keyboard_then_changing_and_withdrawing_it(site, upstream, page):
    from playwright.sync_api import expect

    new_chat(page, site)
    upstream.script(text_stream("The capital of Australia is Sydney."))
    reply = ask(page, "Capital of Australia?")
    reply_id = reply.get_attribute("data-id")
    down = reply.get_by_role("button", name="Bad reply")
    expect(down).to_have_attribute("aria-pressed", "false")
    down.focus()
    page.keyboard.press("Enter")
    expect(down).to_have_attribute("aria-pressed", "true")
    form = reply.locator(".feedback-form")
    expect(form.get_by_label("Wrong")).to_be_focused()
    page.keyboard.press("Space")
    form.get_by_label("Comment").fill("It is Canberra.")
    form.get_by_role("button", name="Send feedback").click()
    expect(form).to_have_count(0)
    expect(reply.locator(".feedback-status")).to_have_text(
        "You rated this down · Wrong · “It is Canberra.”"
    )
    expect(down).to_be_focused()

    def saved():
        return page.evaluate(f"fetch('/messages/{reply_id}/feedback').then((r) => r.json())")

    assert saved()["feedback"]["categories"] == ["wrong"]
    page.reload()  # The page shows the user's own rating.
    connected(page)
    reply = last_reply(page)
    expect(reply.get_by_role("button", name="Bad reply")).to_have_attribute("aria-pressed", "true")
    expect(reply.locator(".feedback-status")).to_contain_text("It is Canberra.")
    # Changed to a thumbs up, then withdrawn by pressing it again.
    reply.get_by_role("button", name="Good reply").click()
    expect(reply.locator(".feedback-form legend")).to_have_text("What was good? (optional)")
    page.keyboard.press("Escape")
    expect(reply.locator(".feedback-form")).to_have_count(0)
    assert saved()["feedback"]["rating"] == "up"
    reply.get_by_role("button", name="Good reply").click()
    expect(reply.get_by_role("button", name="Good reply")).to_have_attribute(
        "aria-pressed", "false"
    )
    assert saved()["feedback"] is None
    expect(reply.locator(".feedback-status")).to_have_text("")


def test_on_a_phone_in_the_dark_all_by_keyboard(site, upstream, page):
    from playwright.sync_api import expect

    new_chat(page, site, PHONE)
    page.emulate_media(color_scheme="dark")
    upstream.script(
        sse(
            chunk({"role": "assistant", "reasoning_content": "Weighing it up."}),
            chunk({"content": "A long answer that runs out "}),
            chunk(finish="length"),
        )
    )
    page.locator("#input").focus()
    page.keyboard.type("Tell me about tides")
    page.keyboard.press("Enter")
    page.wait_for_function(ANSWERED, arg="Tell me about tides", timeout=15_000)
    reply = last_reply(page)
    # Nothing is wider than the screen.
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    # Continue, by keyboard.
    upstream.script(text_stream("of room, and ends here."))
    reply.get_by_role("button", name="Continue this reply").focus()
    page.keyboard.press("Enter")
    expect(reply.locator(".body")).to_have_text(
        "A long answer that runs out of room, and ends here.", timeout=15_000
    )
    reply = done(page)
    # Rate it, by keyboard: the form takes Space and Tab; Esc closes it.
    reply.get_by_role("button", name="Good reply").focus()
    page.keyboard.press("Enter")
    expect(reply.get_by_role("button", name="Good reply")).to_have_attribute("aria-pressed", "true")
    expect(reply.locator(".feedback-form")).to_be_visible()
    assert small_targets(page) == []  # Its categories' labels too.
    page.keyboard.press("Space")
    page.keyboard.press("Escape")
    expect(reply.locator(".feedback-form")).to_have_count(0)
    expect(reply.get_by_role("button", name="Good reply")).to_be_focused()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    reply.locator(".sent summary").click()
    reply.locator(".reasoning summary").click()
    shoot(page, "chat-phone-turn")  # Light and dark.
    assert small_targets(page) == []
