"""Share links in Chromium, by keyboard only, on a desktop and on a phone: share a
conversation from its ⋯ menu, open the link signed out and as another user, continue it
there, revoke it in Settings, and see the link answer 404. Hostile model output on the
shared page stays inert: no dialog, no script, no request to another host."""

import re

import pytest

from tests.a11y import shoot
from tests.browser_support import connected, django, sign_up, start_site

pytestmark = pytest.mark.browser
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 860}

FOCUSED = """() => {
  const el = document.activeElement;
  if (el.type === "radio" || el.type === "checkbox") return `${el.name}:${el.value}`;
  return (el.getAttribute("aria-label") || el.textContent || el.value || "").trim().slice(0, 60);
}"""


@pytest.fixture(scope="module")
def site(upstream, tmp_path_factory):
    server = start_site(upstream, tmp_path_factory, "share-site")
    yield server
    server.stop()


def tab_to(page, wanted, *, limit: int = 80, backwards: bool = False) -> None:
    """Press Tab until the focused element's name matches `wanted` (a regex)."""
    for _ in range(limit):
        page.keyboard.press("Shift+Tab" if backwards else "Tab")
        if re.search(wanted, page.evaluate(FOCUSED)):
            return
    raise AssertionError(f"Tab never reached {wanted!r}")


def seed(site, username: str) -> int:
    return django(
        site,
        f"""
import json
from django.contrib.auth import get_user_model
from tests.sharing.helpers import HOSTILE, shared_conversation
user = get_user_model().objects.get(username={username!r})
print(json.dumps(shared_conversation(user, reply=HOSTILE).pk))
""",
    )


def watch(page, site) -> dict:
    """What a page does that it must not: dialogs, and requests to any other host."""
    seen = {"dialogs": [], "elsewhere": []}
    page.on("dialog", lambda d: (seen["dialogs"].append(d.message), d.dismiss()))
    page.on(
        "request",
        lambda r: None if r.url.startswith(site.url) else seen["elsewhere"].append(r.url),
    )
    return seen


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_share_open_continue_and_revoke_by_keyboard(site, browser, viewport):
    from playwright.sync_api import expect

    phone = viewport == PHONE
    suffix = "-phone" if phone else ""
    owner_name, viewer_name = (f"sharer{suffix}", f"viewer{suffix}")
    page = browser.new_page(viewport=viewport)  # Each page is a browser context of its own.
    sign_up(page, site.url, owner_name)
    cid = seed(site, owner_name)
    page.goto(f"{site.url}/conversations/{cid}/")
    connected(page)

    # The conversation's ⋯ menu in the sidebar, by keyboard.
    if phone:
        tab_to(page, "^Show the conversation list|^Conversations|☰")
        page.keyboard.press("Enter")
    tab_to(page, "^Actions for Deep thought")
    page.keyboard.press("Enter")
    tab_to(page, "^Share…")
    page.keyboard.press("Enter")
    dialog = page.locator("#share-dialog")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("the tools it called with their results, and its files")
    shoot(page, f"share-dialog{suffix}", full_page=False)

    # Anyone with the link; the instructions stay out. Arrow keys choose in the group.
    tab_to(page, "^audience:signed_in$")
    page.keyboard.press("ArrowDown")
    expect(dialog.locator("input[value=anyone]")).to_be_checked()
    tab_to(page, "^Create link")
    page.keyboard.press("Enter")
    url_field = dialog.locator("#share-url")
    expect(url_field).to_be_focused()
    url = url_field.input_value()
    assert re.fullmatch(rf"{re.escape(site.url)}/s/[A-Za-z0-9_-]{{43,}}", url)
    tab_to(page, "^Copy")
    page.keyboard.press("Enter")
    expect(dialog.locator("#share-copied")).not_to_have_text("")
    shoot(page, f"share-dialog-made{suffix}", full_page=False)
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()

    # Signed out: the snapshot, inert, with its headers.
    shared = browser.new_page(viewport=viewport)
    seen = watch(shared, site)
    answer = shared.goto(url)
    assert answer.status == 200
    headers = answer.headers
    assert headers["x-robots-tag"] == "noindex, nofollow" and headers["cache-control"] == "no-store"
    assert headers["referrer-policy"] == "no-referrer"
    assert "script-src 'none'" in headers["content-security-policy"]
    expect(shared.locator("h1")).to_have_text("Deep thought")
    body = shared.locator("article.message.assistant .body").last
    expect(body).to_contain_text('<img src=x onerror="window.__pwned=1">')
    expect(body).to_contain_text("<script>window.__pwned=2</script>")
    assert shared.evaluate("window.__pwned") is None
    assert shared.locator("main script, main img").count() == 0
    assert seen == {"dialogs": [], "elsewhere": []}
    expect(shared.get_by_role("button", name="Continue in my account")).to_have_count(0)
    tab_to(shared, "^Called calculator")
    shared.keyboard.press("Enter")
    expect(shared.locator("details.shared-step[open]")).to_contain_text("6*7")
    shoot(shared, f"shared-page{suffix}")

    # Another user: continue it in their own account, by keyboard.
    viewer = browser.new_page(viewport=viewport)
    sign_up(viewer, site.url, viewer_name)
    viewer_seen = watch(viewer, site)
    viewer.goto(url)
    tab_to(viewer, "^Continue in my account")
    viewer.keyboard.press("Enter")  # A link to the page that asks (it sends a referrer).
    viewer.wait_for_url(re.compile(r"/continue$"))
    tab_to(viewer, "^Continue in my account")
    viewer.keyboard.press("Enter")
    viewer.wait_for_url(re.compile(r"/conversations/\d+/$"))
    connected(viewer)
    expect(viewer.locator("article.message.user").first).to_contain_text("What is it?")
    expect(viewer.locator("article.message.assistant .body").last).to_contain_text(
        "<script>window.__pwned=2</script>"
    )
    assert viewer.evaluate("window.__pwned") is None
    assert viewer_seen == {"dialogs": [], "elsewhere": []}
    copied_to = django(
        site,
        f"""
import json
from conversations.models import Conversation
print(json.dumps(list(Conversation.objects.filter(owner__username={viewer_name!r}).values_list("title", flat=True))))
""",
    )
    assert copied_to == ["Deep thought"]

    # The owner revokes it in Settings; the link answers 404 at once, for everyone.
    page.goto(f"{site.url}/settings/")
    table = page.locator(".share-links-table")
    expect(table).to_contain_text("Deep thought")
    expect(table).to_contain_text("Anyone with the link")
    page.emulate_media(color_scheme="dark")
    tab_to(page, "^Revoke the link to Deep thought")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/settings/#share-links$"))
    expect(table).to_contain_text("Revoked")
    shoot(page, f"share-settings{suffix}")
    assert shared.goto(url).status == 404
    expect(shared.locator("h1")).to_have_text("This link does not open")
    assert viewer.goto(url).status == 404
    for each in (page, shared, viewer):
        each.close()


@pytest.fixture(scope="module")
def signed_in_only_site(upstream, tmp_path_factory):
    server = start_site(upstream, tmp_path_factory, "share-closed", CHAT_SHARE_ANYONE="false")
    yield server
    server.stop()


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_share_from_the_header_where_links_are_for_signed_in_users_only(
    signed_in_only_site, browser, viewport
):
    """The conversation header's ⋯ menu shares too; where the deployment forbids links
    open to anyone, the dialog says so and that choice cannot be made."""
    from playwright.sync_api import expect

    site = signed_in_only_site
    name = "header-sharer" + ("-phone" if viewport == PHONE else "")
    page = browser.new_page(viewport=viewport)
    sign_up(page, site.url, name)
    expect(page.locator("#share-conversation")).to_be_hidden()  # A new chat: nothing yet.
    cid = seed(site, name)
    page.goto(f"{site.url}/conversations/{cid}/")
    connected(page)

    tab_to(page, "^Conversation menu")
    page.keyboard.press("Enter")
    tab_to(page, "^Share…")
    page.keyboard.press("Enter")
    dialog = page.locator("#share-dialog")
    expect(dialog).to_be_visible()
    expect(dialog.locator("#share-title")).to_have_text("Share “Deep thought”")
    anyone = dialog.locator("input[value=anyone]")
    expect(anyone).to_be_disabled()
    expect(dialog.locator("#share-anyone-note")).to_have_text(
        "This site allows links for its signed-in users only."
    )
    # Arrow keys cannot reach the disabled choice.
    tab_to(page, "^audience:signed_in$")
    expect(dialog.locator("input[value=signed_in]")).to_be_checked()
    page.keyboard.press("ArrowDown")
    expect(dialog.locator("input[value=signed_in]")).to_be_checked()
    expect(anyone).not_to_be_checked()
    page.emulate_media(color_scheme="dark")
    shoot(page, "share-dialog-signed-in-only" + ("-phone" if viewport == PHONE else ""))
    tab_to(page, "^Create link")
    page.keyboard.press("Enter")
    expect(dialog.locator("#share-url")).to_be_focused()
    audiences = django(
        site,
        f"""
import json
from conversations.sharing.models import ShareLink
print(json.dumps(list(ShareLink.objects.filter(owner__username={name!r}).values_list("audience", flat=True))))
""",
    )
    assert audiences == ["signed_in"]
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(page.locator("#export > summary")).to_be_focused()  # Back where it opened.
    page.close()
