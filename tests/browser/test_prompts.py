"""Slash commands in Chromium, keyboard only, on a desktop and a phone: "/" in the message
box opens the user's prompts (never another user's, nor a shared one kept to a group they
are not in), typing filters them, a prompt with a variable asks for it in a dialog, and
the filled text goes into the message box, sent only when the user sends it."""

import re

import pytest

from tests.a11y import shoot
from tests.browser_support import django, sign_up, start_site
from tests.fake_upstream import text_stream

pytestmark = pytest.mark.browser
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 860}


@pytest.fixture(scope="module")
def site(upstream, tmp_path_factory):
    server = start_site(upstream, tmp_path_factory, "prompts-site")
    django(
        server,
        "from django.contrib.auth import get_user_model\n"
        "from django.contrib.auth.models import Group\n"
        "from conversations.access import kinds, services\n"
        "from conversations.prompts.models import Prompt\n"
        "ole = get_user_model().objects.create_user(username='ole', password='x')\n"
        "Prompt.objects.create(owner=ole, command='recapsecret', title='Ole only', text='private')\n"
        "kept = Prompt.objects.create(owner=None, command='recapteam', title='Team only', text='t')\n"
        "team = Group.objects.create(name='Team')\n"
        "services.rule_set(kind=kinds.PROMPT, name=str(kept.pk), group_ids=[team.pk])\n"
        "Prompt.objects.create(owner=None, command='hello', title='Say hello', text='Hello there!')\n"
        "print(1)",
    )
    yield server
    server.stop()


def own_prompt(site, username: str) -> None:
    django(
        site,
        "from django.contrib.auth import get_user_model\n"
        "from conversations.prompts.models import Prompt\n"
        f"user = get_user_model().objects.get(username={username!r})\n"
        "Prompt.objects.create(owner=user, command='recap', title='Recap a topic',\n"
        "    text='Recap {{topic:the plan}} for {{user}}, in {{ words:50 }} words.')\n"
        "print(1)",
    )


@pytest.mark.parametrize(("viewport", "scheme"), [(DESKTOP, "light"), (PHONE, "dark")])
def test_a_prompt_with_a_variable_goes_in_by_keyboard_then_is_sent(
    site, upstream, browser, viewport, scheme
):
    from playwright.sync_api import expect

    name = "pia" if viewport is DESKTOP else "pim"
    page = browser.new_page(viewport=viewport)
    page.emulate_media(color_scheme=scheme)
    sign_up(page, site.url, name)
    own_prompt(site, name)
    composer = page.locator("#input")
    expect(composer).to_be_focused()  # The message box has the focus when the page opens.
    menu = page.locator("#slash-menu")
    options = page.get_by_role("listbox", name="Prompts").get_by_role("option")

    page.keyboard.type("/")
    expect(menu).to_be_visible()
    expect(composer).to_have_attribute("aria-expanded", "true")
    # Their own first, then the shared one for everyone; never Ole's, nor the team's.
    expect(options).to_have_text([re.compile(r"/recap\s*Recap a topic"), re.compile("/hello")])
    expect(composer).to_have_attribute("aria-activedescendant", "slash-option-0")
    page.keyboard.press("ArrowDown")
    expect(options.nth(1)).to_have_attribute("aria-selected", "true")
    page.keyboard.press("Escape")
    expect(menu).to_be_hidden()
    expect(composer).to_have_value("/")

    page.keyboard.type("rec")  # Filters by command (and title).
    expect(menu).to_be_visible()
    expect(options).to_have_count(1)
    shoot(page, f"prompts-menu-{name}")
    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog", name=re.compile("Recap a topic"))
    expect(dialog).to_be_visible()
    topic = dialog.get_by_label("Topic")
    expect(topic).to_be_focused()
    expect(topic).to_have_value("the plan")
    expect(dialog.get_by_label("Words")).to_have_value("50")
    page.keyboard.press("Control+A")
    page.keyboard.type("the launch")
    shoot(page, f"prompts-dialog-{name}")
    page.keyboard.press("Enter")
    expect(dialog).to_be_hidden()
    text = f"Recap the launch for {name}, in 50 words."
    expect(composer).to_have_value(text)
    expect(composer).to_be_focused()
    assert not upstream.completions() or all(
        text not in str(r.body) for r in upstream.completions()
    )  # Inserted, not sent.

    page.keyboard.type(" Briefly.")
    upstream.script(text_stream("Done."))
    page.keyboard.press("Enter")
    expect(page.locator("article.message.assistant").last).to_have_class(
        re.compile("status-complete")
    )
    sent = upstream.completions()[-1].body["messages"][-1]
    assert sent["role"] == "user" and sent["content"] == f"{text} Briefly."

    # A prompt without variables goes straight in; a tap chooses as Enter does.
    page.keyboard.type("/hel")
    expect(options).to_have_count(1)
    page.keyboard.press("Enter")
    expect(composer).to_have_value("Hello there!")
    expect(menu).to_be_hidden()
    # And by pointer (a tap on a phone): the option chooses, the focus stays in the box.
    composer.fill("")
    page.keyboard.type("/hel")
    options.first.click()
    expect(composer).to_have_value("Hello there!")
    expect(composer).to_be_focused()
    page.close()


def test_the_prompts_page_by_keyboard_on_a_phone(site, browser):
    from playwright.sync_api import expect

    page = browser.new_page(viewport=PHONE)
    sign_up(page, site.url, "pat")
    page.goto(f"{site.url}/prompts/")
    expect(page.get_by_role("link", name="Prompts")).to_have_attribute("aria-current", "page")
    page.get_by_role("link", name="New prompt").focus()
    page.keyboard.press("Enter")
    page.get_by_label("Command").focus()
    page.keyboard.type("standup")
    page.keyboard.press("Tab")
    page.keyboard.type("Stand-up")
    page.keyboard.press("Tab")
    page.keyboard.type("Yesterday I {{done}}.")
    shoot(page, "prompts-form-phone")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    expect(page).to_have_url(f"{site.url}/prompts/")
    expect(page.get_by_text("Asks for: done")).to_be_visible()
    assert "recapsecret" not in page.content()
    shoot(page, "prompts-list-phone")
    page.close()


def test_the_clipboard_is_read_only_when_asked(site, browser):
    from playwright.sync_api import expect

    context = browser.chromium.new_context(
        viewport=DESKTOP, permissions=["clipboard-read", "clipboard-write"]
    )
    page = context.new_page()
    sign_up(page, site.url, "cleo")
    django(
        site,
        "from django.contrib.auth import get_user_model\n"
        "from conversations.prompts.models import Prompt\n"
        "user = get_user_model().objects.get(username='cleo')\n"
        "Prompt.objects.create(owner=user, command='notes', title='Notes',\n"
        "    text='Notes of {{date}}: {{clipboard}}')\n"
        "print(1)",
    )
    # Hostile text: a variable and a replacement pattern go in as they are (one pass).
    page.evaluate("navigator.clipboard.writeText('copied $& {{date}} words')")
    composer = page.locator("#input")
    composer.focus()
    page.keyboard.type("/notes")
    page.keyboard.press("Enter")
    field = page.get_by_role("dialog").get_by_label("Clipboard")
    expect(field).to_be_focused()
    expect(field).to_have_value("")  # Never read unasked.
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Paste from clipboard")).to_be_focused()
    page.keyboard.press("Enter")
    expect(field).to_have_value("copied $& {{date}} words")
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Insert")).to_be_focused()
    page.keyboard.press("Enter")
    today = page.evaluate("new Date().toLocaleDateString()")
    expect(composer).to_have_value(f"Notes of {today}: copied $& {{{{date}}}} words")
    context.close()
