"""Projects in Chromium, keyboard only, on a desktop and on a phone, in both themes: make a
project with instructions from the sidebar, start a chat in it (the fake provider replies),
and see its instructions in "What was sent"; move a conversation by its menu; and on a
desktop, drag a conversation onto a project."""

import re

import pytest

from tests.a11y import shoot
from tests.browser_support import connected, django, sign_up, start_site
from tests.fake_upstream import text_stream

pytestmark = pytest.mark.browser
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 860}
INSTRUCTIONS = "Answer as a gardener would, in metric units."


@pytest.fixture(scope="module")
def site(upstream, tmp_path_factory):
    server = start_site(upstream, tmp_path_factory, "projects-site")
    yield server
    server.stop()


def open_sidebar_on_phone(page, phone: bool) -> None:
    from playwright.sync_api import expect

    if not phone:
        return
    page.locator("#toggle-sidebar").focus()
    page.keyboard.press("Enter")
    expect(page.locator("body")).to_have_class(re.compile("sidebar-open"))


@pytest.mark.parametrize(("viewport", "name"), [(DESKTOP, "desk"), (PHONE, "phone")])
def test_make_a_project_chat_in_it_and_see_its_instructions_by_keyboard(
    site, browser, upstream, viewport, name
):
    from playwright.sync_api import expect

    phone = viewport is PHONE
    options = {"has_touch": True, "is_mobile": True} if phone else {}
    page = browser.new_page(viewport=viewport, **options)
    if phone:
        page.emulate_media(color_scheme="dark")
    sign_up(page, site.url, f"gardener-{name}")
    open_sidebar_on_phone(page, phone)
    # From the search box, past the tag filter, the next stop is "New project".
    page.keyboard.press("Control+k")
    expect(page.locator("#search")).to_be_focused()
    page.keyboard.press("Tab")
    expect(page.locator("#tag-filter > summary")).to_be_focused()
    page.keyboard.press("Tab")
    expect(page.locator("#new-project")).to_be_focused()
    page.keyboard.press("Enter")
    page.wait_for_url(f"{site.url}/projects/new/")
    shoot(page, f"project-new-{name}")
    page.locator("#id_name").focus()
    page.keyboard.type("Garden")
    page.keyboard.press("Tab")
    expect(page.locator("#id_instructions")).to_be_focused()
    page.keyboard.type(INSTRUCTIONS)
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Enter")  # Submits the form from its first field.
    page.wait_for_url(re.compile(r"/\?project=\d+$"))
    connected(page)
    expect(page.locator("#project-note")).to_contain_text("Garden")

    upstream.script(text_stream("Plant garlic 5 cm deep."))
    page.locator("#input").focus()
    page.keyboard.type("How deep for garlic?")
    page.keyboard.press("Enter")
    reply = page.locator("article.message.assistant").last
    expect(reply).to_have_class(re.compile("status-complete"))
    system = upstream.completions()[-1].body["messages"][0]
    assert system == {"role": "system", "content": f"## Project: Garden\n\n{INSTRUCTIONS}"}

    sent = reply.locator("details.sent > summary")
    sent.focus()
    page.keyboard.press("Enter")
    shown = reply.locator(".project-instructions")
    expect(shown).to_be_visible()
    expect(shown.locator("strong")).to_have_text("Project instructions (Garden)")
    expect(shown.locator("pre")).to_have_text(INSTRUCTIONS)
    expect(reply.locator("details.sent dd").nth(1)).to_have_text("Garden")

    # The sidebar: the project's section counts the new chat, and lists it when opened.
    open_sidebar_on_phone(page, phone)
    toggle = page.locator(".project-toggle", has_text="Garden")
    expect(toggle.locator(".project-count")).to_have_text("1")
    # The one conversation is in the project: the list below does not say there are none.
    expect(page.locator("#conversation-list > .empty")).to_have_text(
        "No conversations outside your projects."
    )
    toggle.focus()
    page.keyboard.press("Enter")
    expect(toggle).to_have_attribute("aria-expanded", "true")
    expect(page.locator(".project-body .conversation-list a")).to_have_text("How deep for garlic?")
    shoot(page, f"project-chat-{name}")
    # The section's own search finds the chat by its words, marked in the hit.
    page.locator(".project-body .project-search").focus()
    page.keyboard.type("garlic")
    hit = page.locator(".project-body .search-hit")
    expect(hit.locator(".hit-title")).to_have_text("How deep for garlic?")
    expect(hit.locator("mark").first).to_have_text(re.compile("garlic", re.I))
    page.keyboard.press("Control+a")
    page.keyboard.press("Backspace")
    expect(page.locator(".project-body .conversation-list a")).to_have_text("How deep for garlic?")
    # Reloaded, the section is still open, its list drawn with the page (no request).
    page.reload()
    connected(page)
    toggle = page.locator(".project-toggle", has_text="Garden")
    expect(toggle).to_have_attribute("aria-expanded", "true")
    expect(page.locator(".project-body .conversation-list a")).to_have_text("How deep for garlic?")
    page.close()


def test_move_by_menu_and_by_dragging_onto_a_project(site, browser):
    from playwright.sync_api import expect

    page = browser.new_page(viewport=DESKTOP)
    sign_up(page, site.url, "mover")
    ids = django(
        site,
        "import json\n"
        "from django.contrib.auth import get_user_model\n"
        "from conversations.models import Conversation\n"
        "from conversations.projects.models import Project\n"
        "u = get_user_model().objects.get(username='mover')\n"
        "p = Project.objects.create(owner=u, name='Kitchen')\n"
        "a = Conversation.objects.create(owner=u, title='Soup ideas')\n"
        "b = Conversation.objects.create(owner=u, title='Bread timing')\n"
        "print(json.dumps([p.pk, a.pk, b.pk]))",
    )
    project, soup, bread = ids
    page.reload()
    connected(page)
    section = page.locator(f".project-section[data-project='{project}']")
    expect(section.locator(".project-count")).to_have_text("0")

    # Keyboard: the item's ⋯ menu, "Move to project…", the project, Enter.
    item = page.locator(f"#conversation-list li[data-id='{soup}']")
    item.locator("summary").focus()
    page.keyboard.press("Enter")
    item.get_by_role("button", name="Move to project…").focus()
    page.keyboard.press("Enter")
    expect(page.locator("#move-dialog")).to_be_visible()
    expect(page.locator("#move-project")).to_be_focused()
    page.keyboard.press("ArrowDown")  # "No project", then Kitchen.
    expect(page.locator("#move-project")).to_have_value(str(project))
    page.keyboard.press("Enter")
    expect(section.locator(".project-count")).to_have_text("1")
    expect(page.locator(f"#conversation-list li[data-id='{soup}']")).to_have_count(0)

    # A mouse on a desktop: drag one onto the project's section.
    page.drag_and_drop(
        f"#conversation-list li[data-id='{bread}'] a",
        f".project-section[data-project='{project}'] .project-toggle",
    )
    expect(section.locator(".project-count")).to_have_text("2")
    moved = django(
        site,
        "import json\n"
        "from conversations.models import Conversation\n"
        f"print(json.dumps(sorted(Conversation.objects.filter(project_id={project})"
        ".values_list('pk', flat=True))))",
    )
    assert moved == sorted([soup, bread])
    page.close()
