"""Files in a conversation, as a person uses them: a PDF by the paperclip and a screenshot
by paste, sent to a model that takes images; the fake provider receives the PDF's text
and an image_url part. Then the page reloaded, the conversation exported as a zip,
imported into another account, and opened by a reviewer; and the same on a phone by
keyboard, with the file dropped."""

import io
import json
import re
import zipfile

import pytest

from tests.a11y import shoot
from tests.browser_support import connected, django, sign_up
from tests.fake_upstream import text_stream
from tests.live_server import ROOT, start_server

pytestmark = pytest.mark.browser
VISION = "Qwen/Qwen2.5-VL-72B-Instruct"
MODELS = ["test-model", VISION]


def pdf_bytes(text: str) -> bytes:
    """A one-page PDF with a text layer, made with pypdf (and a Type 1 font it knows)."""
    from pypdf import PdfWriter
    from pypdf.generic import DecodedStreamObject, DictionaryObject, NameObject

    writer = PdfWriter()
    page = writer.add_blank_page(width=300, height=200)
    font = DictionaryObject(
        {
            NameObject("/Type"): NameObject("/Font"),
            NameObject("/Subtype"): NameObject("/Type1"),
            NameObject("/BaseFont"): NameObject("/Helvetica"),
        }
    )
    page[NameObject("/Resources")] = DictionaryObject(
        {NameObject("/Font"): DictionaryObject({NameObject("/F1"): writer._add_object(font)})}
    )
    stream = DecodedStreamObject()
    stream.set_data(f"BT /F1 12 Tf 20 100 Td ({text}) Tj ET".encode())
    page[NameObject("/Contents")] = writer._add_object(stream)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def png_bytes() -> bytes:
    from PIL import Image

    image = Image.new("RGB", (64, 40), (30, 120, 200))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


@pytest.fixture(scope="module")
def site(upstream, tmp_path_factory):
    """The app with a vision model in its catalog (as staff would mark one), seeded before
    the server starts so its catalog cache holds it."""
    import os
    import subprocess
    import sys

    upstream.models = {"object": "list", "data": [{"id": model} for model in MODELS]}
    tmp = tmp_path_factory.mktemp("files-site")
    env = {
        "DJANGO_SETTINGS_MODULE": "chatsite.settings_test",
        "DATABASE_URL": f"sqlite:///{tmp / 'db.sqlite3'}",
        "LLM_BASE_URL": upstream.url,
        "LLM_API_KEY": "sk-browser-secret",
        "LLM_DEFAULT_MODEL": "test-model",
        "REDIS_URL": "",
        "CHAT_FILES_ROOT": str(tmp / "files"),
    }
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "-v0"],
        cwd=ROOT,
        env={**os.environ, **env},
        check=True,
    )

    class Seed:
        pass

    seed = Seed()
    seed.env = env
    django(
        seed,
        f"""
from conversations.catalog.models import ModelInfo
for model_id, images in (("test-model", False), ({VISION!r}, True)):
    ModelInfo.objects.update_or_create(model_id=model_id, defaults={{
        "display_name": model_id.split("/")[-1], "context_window": 32768,
        "supports_images": images, "available": True, "enabled": True}})
print(1)
""",
    )
    server = start_server(env, tmp / "server.log")
    server.env = env
    yield server
    server.stop()


def paste_file(page, selector: str, name: str, mime: str, data: bytes) -> None:
    """Paste a file into an element, as a screenshot tool's clipboard does."""
    page.evaluate(
        """([selector, name, mime, bytes]) => {
          const file = new File([new Uint8Array(bytes)], name, { type: mime });
          const data = new DataTransfer();
          data.items.add(file);
          const target = document.querySelector(selector);
          target.focus();
          target.dispatchEvent(new ClipboardEvent("paste", { clipboardData: data, bubbles: true, cancelable: true }));
        }""",
        [selector, name, mime, list(data)],
    )


def drop_file(page, selector: str, name: str, mime: str, data: bytes) -> None:
    page.evaluate(
        """([selector, name, mime, bytes]) => {
          const file = new File([new Uint8Array(bytes)], name, { type: mime });
          const data = new DataTransfer();
          data.items.add(file);
          const target = document.querySelector(selector);
          for (const type of ["dragenter", "dragover", "drop"]) {
            target.dispatchEvent(new DragEvent(type, { dataTransfer: data, bubbles: true, cancelable: true }));
          }
        }""",
        [selector, name, mime, list(data)],
    )


def test_a_pdf_and_a_screenshot_go_upstream_then_reload_export_import_and_review(
    site, upstream, browser, tmp_path
):
    from playwright.sync_api import expect

    boss = browser.new_page(viewport={"width": 1280, "height": 900})
    sign_up(boss, site.url, "boss")  # The first account: a superuser.
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    sign_up(page, site.url, "ann")

    # The PDF by the paperclip (its hidden input), the screenshot by paste.
    report = tmp_path / "report.pdf"
    report.write_bytes(pdf_bytes("Quarterly revenue rose 12 percent"))
    with page.expect_file_chooser() as chooser:
        page.get_by_role("button", name="Attach files").click()
    chooser.value.set_files(str(report))
    chips = page.locator("#attachments .chip")
    expect(chips.first).to_contain_text("report.pdf")
    expect(chips.first).to_contain_text("1 page")
    paste_file(page, "#input", "screenshot.png", "image/png", png_bytes())
    expect(chips).to_have_count(2)
    expect(chips.nth(1)).not_to_have_class(re.compile("uploading"))
    shoot(page, "composer-files", full_page=False)  # The chips, checked in light and dark.

    # The chat's model takes no images: the picker says so, and the send is held back.
    page.fill("#input", "What do these say?")
    page.keyboard.press("Enter")
    expect(page.locator("#model-problem")).to_contain_text("takes no images")
    expect(chips).to_have_count(2)
    page.locator("#model-button").click()
    no_images = page.locator(".model-option[data-id='test-model']")
    expect(no_images).to_have_attribute("aria-disabled", "true")
    expect(no_images).to_contain_text("Takes no images")
    page.locator(f".model-option[data-id='{VISION}']").click()
    expect(page.locator("#model-problem")).to_be_hidden()

    upstream.script(text_stream("Revenue rose, and the picture is blue."))
    page.locator("#input").focus()
    page.keyboard.press("Enter")
    reply = page.locator("article.message.assistant").last
    expect(reply).to_have_class(re.compile("status-complete"), timeout=15_000)
    expect(chips).to_have_count(0)

    sent = upstream.completions()[-1].body
    assert sent["model"] == VISION
    user = sent["messages"][-1]
    assert user["role"] == "user" and isinstance(user["content"], list)
    text = user["content"][0]
    assert text["type"] == "text"
    assert '<file name="report.pdf" type="application/pdf" pages="1">' in text["text"]
    assert "Quarterly revenue rose 12 percent" in text["text"]
    assert text["text"].endswith("What do these say?")
    image = user["content"][1]
    assert image["type"] == "image_url"
    assert image["image_url"]["url"].startswith("data:image/png;base64,")

    # The message shows its files: the PDF as a chip, the screenshot as a thumbnail.
    mine = page.locator("article.message.user").last
    expect(mine.locator(".files a.chip")).to_contain_text("report.pdf")
    thumb = mine.locator(".files img")
    expect(thumb).to_have_attribute("alt", "screenshot.png")
    assert page.evaluate("(img) => img.complete && img.naturalWidth", thumb.element_handle()) == 64
    reply.locator(".sent summary").click()
    expect(reply.locator(".sent")).to_contain_text("report.pdf (text), screenshot.png (image)")
    shoot(page, "chat-files", full_page=False)

    # Reloaded, the files are still there.
    page.reload()
    connected(page)
    mine = page.locator("article.message.user").last
    expect(mine.locator(".files a.chip")).to_contain_text("report.pdf")
    expect(mine.locator(".files img")).to_have_count(1)

    # Exported as a zip: the JSON and both files.
    conversation = re.search(r"/conversations/(\d+)/", page.url)[1]
    page.locator("#export > summary").click()
    with page.expect_download() as download:
        page.get_by_role("link", name="Export zip (JSON with the files)").click()
    assert download.value.suggested_filename == f"conversation-{conversation}.zip"
    data = open(download.value.path(), "rb").read()
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        names = archive.namelist()
        document = json.loads(archive.read("conversation.json"))
    assert len(names) == 3 and "conversation.json" in names
    files = [f for m in document["tree"] for f in m.get("files", [])]
    assert sorted(f["name"] for f in files) == ["report.pdf", "screenshot.png"]

    # Imported into another account's page, the files come with it.
    bob = browser.new_page(viewport={"width": 1280, "height": 900})
    sign_up(bob, site.url, "bob")
    bob.goto(f"{site.url}/import/")
    export = tmp_path / "conversation.zip"
    export.write_bytes(data)
    bob.set_input_files("#import-file", str(export))
    bob.click("#import-submit")
    bob.wait_for_url(re.compile(r"/conversations/\d+/$"))
    connected(bob)
    theirs = bob.locator("article.message.user").last
    expect(theirs.locator(".files a.chip")).to_contain_text("report.pdf")
    expect(theirs.locator(".files img")).to_have_count(1)
    # Bob's copies are his own: Ann's file ids are not his to read.
    ann_file = files[0]["id"]
    assert bob.evaluate(f"fetch('/files/{ann_file}').then((r) => r.status)") == 404

    # Ann reports the conversation; a reviewer opens the transcript and sees the files.
    result = page.evaluate(
        f"""fetch('/conversations/{conversation}/report', {{method: 'POST',
          headers: {{'X-CSRFToken': document.cookie.match(/csrftoken=([^;]+)/)[1],
                     'Content-Type': 'application/json'}},
          body: JSON.stringify({{categories: ['other'], comment: 'files'}})}}).then((r) => r.status)"""
    )
    assert result in (200, 201)
    rita = browser.new_page(viewport={"width": 1280, "height": 900})
    sign_up(rita, site.url, "rita")
    django(
        site,
        """
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
rita = get_user_model().objects.get(username="rita")
rita.is_staff = True
rita.save()
rita.groups.add(Group.objects.get(name="Reviewers"))
print(1)
""",
    )
    rita.goto(f"{site.url}/admin/review/transcript/{conversation}/")
    listed = rita.locator(".rv-files").first
    expect(listed).to_contain_text("report.pdf")
    expect(listed).to_contain_text("screenshot.png")
    image = listed.locator("img")
    expect(image).to_have_attribute("alt", "screenshot.png")
    assert rita.evaluate("(img) => img.complete && img.naturalWidth", image.element_handle()) == 64
    for p in (boss, page, bob, rita):
        p.close()


def test_on_a_phone_by_keyboard_a_dropped_file_is_sent_and_removable(site, upstream, browser):
    from playwright.sync_api import expect

    page = browser.new_page(viewport={"width": 390, "height": 844})
    sign_up(page, site.url, "dan")
    notes = b"col,value\nalpha,1\nbeta,2\n"
    # A file dragged over the composer shows where it would go, until it leaves.
    page.evaluate(
        """() => {
          const data = new DataTransfer();
          data.items.add(new File(["x"], "x.txt", { type: "text/plain" }));
          document.querySelector("#input").dispatchEvent(
            new DragEvent("dragenter", { dataTransfer: data, bubbles: true, cancelable: true }));
        }"""
    )
    expect(page.locator("#composer")).to_have_class(re.compile("dropping"))
    page.evaluate(
        """() => document.querySelector("#input").dispatchEvent(
            new DragEvent("dragleave", { bubbles: true }))"""
    )
    expect(page.locator("#composer")).not_to_have_class(re.compile("dropping"))
    drop_file(page, "#composer", "notes.csv", "text/csv", notes)
    drop_file(page, "#composer", "extra.md", "text/markdown", b"# Extra\n")
    chips = page.locator("#attachments .chip")
    expect(chips).to_have_count(2)
    expect(chips.nth(1)).not_to_have_class(re.compile("uploading"))

    # By keyboard: from the message box back to the second chip's remove button.
    page.locator("#input").focus()
    remove = page.get_by_role("button", name="Remove extra.md")
    for _ in range(6):
        if page.evaluate("document.activeElement?.getAttribute('aria-label')") == "Remove extra.md":
            break
        page.keyboard.press("Shift+Tab")
    assert remove.evaluate("(b) => b === document.activeElement")
    box = remove.bounding_box()
    assert box["width"] >= 44 and box["height"] >= 44
    page.keyboard.press("Enter")
    expect(chips).to_have_count(1)
    expect(page.locator("#input")).to_be_focused()

    upstream.script(text_stream("Two rows."))
    page.keyboard.type("How many rows?")
    page.keyboard.press("Enter")
    expect(page.locator("article.message.assistant").last).to_have_class(
        re.compile("status-complete"), timeout=15_000
    )
    user = upstream.completions()[-1].body["messages"][-1]
    assert isinstance(user["content"], str)
    assert '<file name="notes.csv"' in user["content"] and "alpha,1" in user["content"]
    assert "extra.md" not in user["content"]
    shoot(page, "chat-files-phone", full_page=False)
    page.close()


def test_a_refused_file_is_said_by_the_composer(site, browser):
    from playwright.sync_api import expect

    page = browser.new_page(viewport={"width": 1280, "height": 900})
    sign_up(page, site.url, "eve")
    svg = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    drop_file(page, "#composer", "picture.png", "image/png", svg)
    problem = page.locator("#attach-problem")
    expect(problem).to_be_visible()
    expect(problem).to_contain_text("picture.png:")
    expect(page.locator("#attachments .chip")).to_have_count(0)
    # Too large: said with the numbers before a byte of it is sent.
    page.evaluate(
        """() => {
          const most = Number(document.getElementById("attachments").dataset.maxBytes);
          const data = new DataTransfer();
          data.items.add(new File([new Uint8Array(most + 1)], "huge.txt", { type: "text/plain" }));
          document.getElementById("composer").dispatchEvent(
            new DragEvent("drop", { dataTransfer: data, bubbles: true, cancelable: true }));
        }"""
    )
    expect(problem).to_have_text(
        "huge.txt: This file is 10,000,001 bytes; files may be at most 10,000,000 bytes."
    )
    expect(page.locator("#attachments .chip")).to_have_count(0)
    page.close()


def test_a_refused_send_gives_the_files_back_and_an_edit_keeps_them(site, upstream, browser):
    from playwright.sync_api import expect

    page = browser.new_page(viewport={"width": 1280, "height": 900})
    sign_up(page, site.url, "cleo")
    drop_file(page, "#composer", "plan.txt", "text/plain", b"Step one: boil water.")
    chip = page.locator("#attachments .chip")
    expect(chip).to_have_attribute("data-id", re.compile(".+"))
    # The file goes from the server (another tab removed it, say): the send is refused,
    # and the words and the chip come back to the composer.
    file_id = chip.get_attribute("data-id")
    status = page.evaluate(
        f"""fetch('/api/files/{file_id}', {{method: 'DELETE',
          headers: {{'X-CSRFToken': document.cookie.match(/csrftoken=([^;]+)/)[1]}}}})
          .then((r) => r.status)"""
    )
    assert status == 204
    page.fill("#input", "What is step one?")
    page.keyboard.press("Enter")
    expect(page.locator("#input")).to_have_value("What is step one?")
    expect(chip).to_have_count(1)
    expect(page.locator("article.message.user")).to_have_count(0)
    chip.get_by_role("button", name="Remove plan.txt").click()
    expect(chip).to_have_count(0)

    # Sent with a file, then edited: the new version carries the same file upstream.
    drop_file(page, "#composer", "plan.txt", "text/plain", b"Step one: boil water.")
    expect(chip).to_have_attribute("data-id", re.compile(".+"))
    upstream.script(text_stream("Boil water."))
    page.keyboard.press("Enter")
    expect(page.locator("article.message.assistant").last).to_have_class(
        re.compile("status-complete"), timeout=15_000
    )
    mine = page.locator("article.message.user").last
    expect(mine.locator(".files")).to_contain_text("plan.txt")
    upstream.script(text_stream("Boil it first."))
    mine.get_by_role("button", name="Edit message").click()
    page.get_by_role("textbox", name="Edit message").fill("And before that?")
    page.get_by_role("button", name="Save and send").click()
    expect(page.locator("article.message.assistant").last).to_contain_text("Boil it first.")
    edited = page.locator("article.message.user").last
    expect(edited).to_contain_text("And before that?")
    expect(edited.locator(".files")).to_contain_text("plan.txt")
    said = upstream.completions()[-1].body["messages"][-1]["content"]
    assert '<file name="plan.txt"' in said and said.endswith("And before that?")
    page.close()
