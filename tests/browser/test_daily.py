"""Daily use, in Chromium: math and Markdown as they stream, the settings page, search,
import, and every page checked by axe in light and dark, on a desktop and a phone."""

import json
import re

import pytest

from tests.a11y import ARTIFACTS, check, shoot, small_targets
from tests.browser.tester import sign_in
from tests.browser_support import connected, django, start_site
from tests.fake_upstream import text_stream

pytestmark = pytest.mark.browser

DESKTOP = {"width": 1280, "height": 860}
PHONE = {"width": 390, "height": 844}
PASSWORD = "a-Strong-pass-42"


@pytest.fixture(scope="module")
def site(upstream, tmp_path_factory):  # This module's own server and database.
    server = start_site(upstream, tmp_path_factory, "daily-site")
    yield server
    server.stop()


def seed(site, code: str) -> object:
    """Run Django code in the site's database as the tests' user (`user`); its last line
    printed is JSON, returned."""
    prelude = (
        "import json\nfrom django.contrib.auth import get_user_model\n"
        "from conversations import services\nfrom tests import factories\n"
        "user = get_user_model().objects.get(username='tester')\n"
    )
    return django(site, prelude + code)


# ---- 8: Markdown and math ----

MATH_REPLY = (
    "# Heading alphaword\n\n"
    "Euler's identity $e^{i\\pi} + 1 = 0$ and see https://example.com/betaword.\n\n"
    "$$\n\\int_0^1 x^2\\,dx = \\frac{1}{3}\n$$\n\n"
    "- [x] gammaword done\n- [ ] still to do\n\n"
    "> deltaword in a quote\n\n"
    "```python\nprint('epsilonword')\n```\n\n"
    "\\[\n\\sum_{k=1}^{n} k = \\frac{n(n+1)}{2}\n\\]\n\n"
    "Inline \\(a^2 + b^2 = c^2\\) too."
)
# Each marker, and the element it must sit in, while streaming and at the end.
MARKERS = {
    "alphaword": "H3",
    "betaword": "A",
    "gammaword": "LABEL",
    "deltaword": "BLOCKQUOTE",
    "epsilonword": "PRE",
}
RECORD = """markers => {
  const seen = Object.fromEntries(Object.keys(markers).map(m => [m, []]));
  const timer = setInterval(() => {
    const reply = [...document.querySelectorAll("article.message.assistant")].pop();
    if (!reply || !reply.classList.contains("status-streaming")) return;
    const walker = document.createTreeWalker(reply.querySelector(".body"), NodeFilter.SHOW_TEXT);
    while (walker.nextNode()) {
      for (const [m, tag] of Object.entries(markers)) {
        if (!walker.currentNode.textContent.includes(m)) continue;
        const block = walker.currentNode.parentElement.closest(tag);
        let kind = block ? block.tagName : "none";
        if (kind === "A" && (block.target !== "_blank" || !block.rel.includes("noopener"))) kind = "A-same-tab";
        if (kind === "LABEL" && !block.querySelector("input[type=checkbox][disabled]")) kind = "LABEL-no-box";
        if (kind === "PRE" && !block.closest(".code-block")?.querySelector(".code-lang")) kind = "PRE-no-label";
        seen[m].push(kind);
      }
    }
  }, 15);
  window.__seen = () => { clearInterval(timer); return seen; };
}"""


def test_math_and_markdown_stream_in_the_elements_they_end_in(site, upstream, browser):
    from playwright.sync_api import expect

    page = browser.new_page(viewport=DESKTOP)
    sign_in(page, site.url)
    pieces = [MATH_REPLY[i : i + 6] for i in range(0, len(MATH_REPLY), 6)]
    upstream.script(text_stream(*pieces, delay=0.05))
    page.evaluate(RECORD, MARKERS)
    page.fill("#input", "Show me some maths")
    page.keyboard.press("Enter")
    reply = page.locator("article.message.assistant").last
    expect(reply).to_have_class(re.compile("status-complete"), timeout=20_000)
    seen = page.evaluate("window.__seen()")
    for marker, tag in MARKERS.items():
        assert seen[marker], f"{marker} never seen while streaming"
        assert set(seen[marker]) == {tag}, f"{marker} streamed in {set(seen[marker])}"
    body = reply.locator(".body")
    expect(body.locator("math")).to_have_count(4)
    expect(body.locator('math[display="block"]')).to_have_count(2)
    expect(body.locator("h3")).to_have_text("Heading alphaword")
    expect(body.locator(".code-lang")).to_have_text("python")
    expect(body.locator("input[type=checkbox]:checked")).to_have_count(1)
    link = body.locator('a[href="https://example.com/betaword"]')
    expect(link).to_have_attribute("target", "_blank")
    # The browser lays MathML out itself: the display formulas take real space.
    for box in body.locator('math[display="block"]').all():
        assert box.bounding_box()["height"] > 20
    # No script came with the maths, and nothing was fetched from anywhere else.
    assert page.evaluate("() => document.querySelectorAll('script:not([type])').length") == 0
    shoot(page, "math")
    page.close()


# ---- 9: the settings page ----


def background(page) -> str:
    return page.evaluate("() => getComputedStyle(document.body).backgroundColor")


def test_settings_theme_defaults_instructions_and_enter(site, upstream, browser):
    from playwright.sync_api import expect

    page = browser.new_page(viewport=DESKTOP)
    sign_in(page, site.url)
    page.click("#settings-link")
    expect(page).to_have_url(f"{site.url}/settings/")
    expect(page.locator("h1")).to_have_text("Settings")
    expect(page.locator("#dataset-toggle")).to_be_visible()  # The privacy notice is here.
    shoot(page, "settings")

    # Dark, whatever the device says, on every page, from the first paint.
    page.emulate_media(color_scheme="light")
    page.check("#id_theme_2")
    page.fill("#id_custom_instructions", "Always answer in French.")
    page.select_option("#id_default_persona", label="No persona")
    page.fill("#id_default_model", "Qwen/Qwen2.5-72B-Instruct")
    page.uncheck("#id_enter_to_send")
    page.click("#preferences button[type=submit]")
    expect(page.locator(".notice")).to_have_text("Settings saved.")
    assert background(page) == "rgb(21, 23, 26)"
    check(page, "settings, dark theme")
    page.screenshot(path=str(ARTIFACTS / "settings-theme-dark.png"), full_page=True)
    for path in ("/", "/personas/", "/import/"):
        page.goto(f"{site.url}{path}")
        assert page.evaluate("() => document.documentElement.dataset.theme") == "dark"
        assert background(page) == "rgb(21, 23, 26)", path

    # A new chat starts with the default model; Enter adds a line, Ctrl+Enter sends.
    page.goto(f"{site.url}/")
    connected(page)
    expect(page.locator("#model-button")).to_have_attribute(
        "data-model", "Qwen/Qwen2.5-72B-Instruct"
    )
    upstream.script(text_stream("Bonjour !"))
    page.locator("#input").click()
    page.keyboard.type("Hello")
    page.keyboard.press("Enter")
    page.keyboard.type("there")
    expect(page.locator("#input")).to_have_value("Hello\nthere")
    expect(page.locator("article.message")).to_have_count(0)
    page.keyboard.press("Control+Enter")
    reply = page.locator("article.message.assistant").last
    expect(reply).to_have_class(re.compile("status-complete"))
    sent = upstream.completions()[-1].body
    assert sent["messages"][0] == {"role": "system", "content": "Always answer in French."}
    assert sent["model"] == "Qwen/Qwen2.5-72B-Instruct"
    reply.locator("details.sent summary").click()
    expect(reply.locator(".custom-instructions")).to_contain_text("Always answer in French.")

    # Light, while the device is dark.
    page.goto(f"{site.url}/settings/")
    page.emulate_media(color_scheme="dark")
    page.check("#id_theme_1")
    page.fill("#id_custom_instructions", "")
    page.fill("#id_default_model", "")
    page.check("#id_enter_to_send")
    page.click("#preferences button[type=submit]")
    expect(page.locator(".notice")).to_have_text("Settings saved.")
    assert background(page) == "rgb(255, 255, 255)"
    page.check("#id_theme_0")  # Back to the device's.
    page.click("#preferences button[type=submit]")
    expect(page.locator(".notice")).to_have_text("Settings saved.")
    assert background(page) == "rgb(21, 23, 26)"
    page.emulate_media(color_scheme="light")
    page.close()


# ---- 12: search ----

SEARCH_SEED = """
from conversations.models import Conversation
for i in range(23):
    c = services.conversation_create(owner=user, persona=None, model="test-model", title=f"Zoo trip {i}")
    factories.message_append(conversation=c, role="user", content=f"We saw a zebra and {i} lions", parent=None)
deep = services.conversation_create(owner=user, persona=None, model="test-model", title="Long safari")
parent = None
target = None
for i in range(130):
    text = "The okapi is a shy zebra cousin" if i == 2 else f"Filler message {i}"
    parent = factories.message_append(conversation=deep, role="user" if i % 2 == 0 else "assistant", content=text, parent=parent)
    if i == 2:
        target = parent.pk
print(json.dumps({"deep": deep.pk, "target": target}))
"""


def test_search_marks_words_pages_moves_by_keys_and_opens_at_the_message(site, browser):
    from playwright.sync_api import expect

    page = browser.new_page(viewport=DESKTOP)
    sign_in(page, site.url)
    made = seed(site, SEARCH_SEED)
    page.goto(f"{site.url}/")
    connected(page)

    # "/" types into a message being written; Ctrl+K searches all the same.
    page.locator("#input").fill("a/b")
    page.locator("#input").press("/")
    expect(page.locator("#input")).to_have_value("a/b/")
    page.keyboard.press("Control+k")
    expect(page.locator("#search")).to_be_focused()
    page.locator("#input").fill("")
    page.locator("#input").focus()
    page.keyboard.press("/")  # A message may start with "/".
    expect(page.locator("#input")).to_have_value("/")
    page.locator("#input").fill("")
    page.locator("#toggle-sidebar").focus()  # Nothing is being typed.
    page.keyboard.press("/")
    expect(page.locator("#search")).to_be_focused()

    page.keyboard.type("zebra")
    hits = page.locator("#conversation-list .search-hit")
    expect(hits).to_have_count(20)
    expect(page.locator("#conversation-list .more-results button")).to_be_visible()
    first = hits.first
    expect(first.locator(".hit-snippet mark").first).to_have_text(re.compile("zebra", re.I))
    # Marks are made of text: a title full of markup stays text.
    assert page.locator("#conversation-list mark script, #conversation-list mark img").count() == 0
    page.keyboard.press("ArrowDown")
    expect(first.locator("a")).to_be_focused()
    page.keyboard.press("ArrowDown")
    expect(hits.nth(1).locator("a")).to_be_focused()
    page.keyboard.press("ArrowUp")
    page.keyboard.press("ArrowUp")
    expect(page.locator("#search")).to_be_focused()
    shoot(page, "search", full_page=False)

    page.click("#conversation-list .more-results button")
    expect(hits).to_have_count(24)
    expect(page.locator("#conversation-list .more-results")).to_have_count(0)
    deep = page.locator(f'#conversation-list .search-hit a[href^="/conversations/{made["deep"]}/"]')
    expect(deep).to_contain_text("okapi")
    deep.focus()
    page.keyboard.press("Enter")

    # The match is 127 messages up, past the first page: it is loaded, shown and marked.
    target = page.locator(f'article.message[data-id="{made["target"]}"]')
    expect(target).to_have_class(re.compile("search-target"), timeout=15_000)
    expect(target).to_be_in_viewport()
    expect(target).to_be_focused()
    expect(target.locator("mark")).to_have_text(["zebra"])
    shoot(page, "search-opened", full_page=False)
    page.close()


# ---- 13: import ----


def export_file(tmp_path, name: str, *titles: str):
    conversations = [
        {
            "format": "chatsite.conversation",
            "title": title,
            "model": "imported/model-1",
            "created_at": "2021-06-01T10:00:00+00:00",
            "updated_at": "2021-06-02T10:00:00+00:00",
            "current": 2,
            "tree": [
                {"id": 1, "parent": None, "role": "user", "content": f"About {title}"},
                {"id": 2, "parent": 1, "role": "assistant", "content": "Noted."},
            ],
        }
        for title in titles
    ]
    path = tmp_path / name
    path.write_text(
        json.dumps({"format": "chatsite.export", "version": 1, "conversations": conversations})
    )
    return path


def test_import_keeps_dates_and_model_counts_and_asks_before_copies(site, browser, tmp_path):
    from playwright.sync_api import expect

    page = browser.new_page(viewport=DESKTOP)
    sign_in(page, site.url)
    first = export_file(tmp_path, "first.json", "Imported alpha", "Imported beta")
    page.goto(f"{site.url}/import/")
    page.set_input_files("#import-file", str(first))
    page.click("#import-submit")
    expect(page).to_have_url(f"{site.url}/")
    expect(page.locator(".notice.flash")).to_have_text("Imported 2 conversations.")
    connected(page)
    item = page.locator("#conversation-list li[data-id]", has_text="Imported alpha")
    expect(item).to_be_visible()
    # Filed under its own date (2021), not today.
    groups = page.locator("#conversation-list li.group")
    expect(groups.last).to_have_text("Older")
    item.locator("a").click()
    connected(page)
    expect(page.locator("#model-button")).to_have_attribute("data-model", "imported/model-1")

    # The same file again, with one more: asked first, the file still chosen.
    second = export_file(tmp_path, "second.json", "Imported alpha", "Imported beta", "Gamma")
    page.goto(f"{site.url}/import/")
    page.set_input_files("#import-file", str(second))
    page.click("#import-submit")
    panel = page.locator("#import-duplicates")
    expect(panel).to_be_visible()
    expect(page.locator("#duplicates-summary")).to_have_text(
        "2 of the 3 conversations in this file were imported before:"
    )
    expect(page.locator("#duplicates-list li")).to_have_text(["Imported alpha", "Imported beta"])
    expect(page.locator("#duplicates-skip")).to_be_focused()
    shoot(page, "import-duplicates")
    page.click("#import-submit")  # "No: import only the new ones" is chosen.
    expect(page).to_have_url(re.compile(r"/conversations/\d+/$"))
    expect(page.locator(".notice.flash")).to_contain_text("Imported 1 conversation.")
    connected(page)
    expect(page.locator("#conversation-list li[data-id]", has_text="Imported alpha")).to_have_count(
        1
    )
    expect(page.locator("#conversation-list li[data-id]", has_text="Gamma")).to_have_count(1)
    page.close()


# ---- 15: every page, axe in light and dark, desktop and phone ----


def visit_all(page, site, conversation: int, device: str) -> None:
    """Each page of the app in its usual states, checked in both colour schemes."""
    from playwright.sync_api import expect

    def both(where: str) -> None:
        for scheme in ("light", "dark"):
            page.emulate_media(color_scheme=scheme)
            check(page, f"{where} ({device}, {scheme})")
        page.emulate_media(color_scheme="light")
        if device == "phone":
            assert small_targets(page) == [], f"{where}: {small_targets(page)}"

    page.goto(f"{site.url}/")
    connected(page)
    both("new chat")
    page.goto(f"{site.url}/conversations/{conversation}/")
    connected(page)
    expect(page.locator("article.message.assistant math").first).to_be_attached()
    both("conversation")
    if device == "phone":
        page.click("#toggle-sidebar")
        both("conversation, sidebar open")
        page.evaluate("() => document.getElementById('toggle-sidebar').click()")
    page.click("#tools-menu summary")
    both("tools menu")
    page.click("#tools-menu summary")
    for path, where in (
        ("/personas/", "personas"),
        ("/personas/new/", "new persona"),
        ("/settings/", "settings"),
        ("/import/", "import"),
        ("/settings/privacy/", "privacy"),
    ):
        page.goto(f"{site.url}{path}")
        both(where)


def test_every_page_passes_axe_in_both_themes_on_desktop_and_phone(site, upstream, browser):
    from playwright.sync_api import expect

    desktop = browser.new_page(viewport=DESKTOP)
    sign_in(desktop, site.url)
    upstream.script(text_stream(MATH_REPLY))
    desktop.fill("#input", "Maths, please")
    desktop.keyboard.press("Enter")
    expect(desktop.locator("article.message.assistant").last).to_have_class(
        re.compile("status-complete")
    )
    conversation = int(re.search(r"/conversations/(\d+)/", desktop.url).group(1))
    visit_all(desktop, site, conversation, "desktop")
    desktop.close()

    phone = browser.new_page(viewport=PHONE, has_touch=True, is_mobile=True)
    sign_in(phone, site.url)
    visit_all(phone, site, conversation, "phone")
    shoot(phone, "privacy-phone")
    phone.close()

    # Signed out: the sign-in and sign-up pages, on both.
    for viewport, device in ((DESKTOP, "desktop"), (PHONE, "phone")):
        page = browser.new_page(viewport=viewport)
        for path in ("/accounts/login/", "/accounts/signup/"):
            page.goto(f"{site.url}{path}")
            for scheme in ("light", "dark"):
                page.emulate_media(color_scheme=scheme)
                check(page, f"{path} ({device}, {scheme})")
            if device == "phone":
                assert small_targets(page) == [], f"{path}: {small_targets(page)}"
        shoot(page, f"sign-up-{device}")
        page.close()


def test_the_skip_link_goes_to_the_main_content(site, browser):
    from playwright.sync_api import expect

    page = browser.new_page(viewport=DESKTOP)
    sign_in(page, site.url)
    first_focusable = """() => document.querySelector(
      'a[href], button, input:not([type=hidden]), select, textarea, summary') ===
      document.querySelector('.skip-link')"""
    for path in ("/", "/settings/", "/personas/", "/import/"):
        page.goto(f"{site.url}{path}")
        assert page.evaluate(first_focusable), path  # The first stop of the Tab key.
        skip = page.locator(".skip-link").first
        expect(skip).not_to_be_in_viewport()  # Out of sight until it has focus.
        skip.focus()
        expect(skip).to_be_in_viewport()
        page.keyboard.press("Enter")
        expect(page.locator("main#main")).to_be_focused()
        assert page.locator("main").count() == 1 and page.locator("nav").count() >= 1
    page.close()


VERSION_SEED = """
c = services.conversation_create(owner=user, persona=None, model="test-model", title="Marsupials")
q = factories.message_append(conversation=c, role="user", content="Name a marsupial", parent=None)
old = factories.message_append(conversation=c, role="assistant", content="The quokka smiles.", parent=q)
factories.message_append(conversation=c, role="assistant", content="The wombat digs.", parent=q)
print(json.dumps({"conversation": c.pk, "old": old.pk}))
"""


def test_a_hit_in_another_version_opens_that_version(site, browser):
    from playwright.sync_api import expect

    page = browser.new_page(viewport=DESKTOP)
    sign_in(page, site.url)
    made = seed(site, VERSION_SEED)
    page.goto(f"{site.url}/")
    connected(page)
    page.keyboard.press("Control+k")
    page.keyboard.type("quokka")
    hit = page.locator("#conversation-list .search-hit a").first
    expect(hit).to_contain_text("quokka")
    hit.click()
    old = page.locator(f'article.message[data-id="{made["old"]}"]')
    expect(old).to_have_class(re.compile("search-target"), timeout=15_000)
    expect(old.locator(".versions")).to_contain_text("1/2")
    expect(old.locator("mark")).to_have_text(["quokka"])
    # A hit in the conversation already open: only the fragment changes, and it still opens.
    url = page.url
    page.keyboard.press("Control+k")
    page.keyboard.type("wombat")
    hit = page.locator("#conversation-list .search-hit a").first
    expect(hit).to_contain_text("wombat")
    hit.click()
    newer = page.locator("article.message.search-target")
    expect(newer).to_contain_text("The wombat digs.")
    expect(newer.locator(".versions")).to_contain_text("2/2")
    expect(page.locator("article.message.search-target")).to_have_count(1)
    assert page.url == url  # No new page, and no words left in the address.
    page.close()


def test_too_many_wrong_passwords_in_settings_show_the_lockout_page(site, browser, settings):
    from playwright.sync_api import expect

    from tests.browser_support import sign_up

    page = browser.new_page(viewport=PHONE, has_touch=True, is_mobile=True)
    sign_up(page, site.url, "forgetful")  # An account of its own: this one gets locked.
    page.goto(f"{site.url}/settings/")
    for i in range(settings.AXES_FAILURE_LIMIT):  # By keyboard: type, then Enter.
        field = page.locator("#sign-out-password")
        field.fill(f"not-it-{i}")
        field.press("Enter")
        page.wait_for_load_state()
    expect(page.get_by_role("heading", name="Too many wrong passwords")).to_be_visible()
    expect(page.get_by_role("alert")).to_contain_text("Try again in")
    back = page.get_by_role("link", name="Back to settings")
    back.focus()
    expect(back).to_be_focused()
    assert small_targets(page) == [], small_targets(page)
    shoot(page, "settings-locked-out-phone")
    page.close()
