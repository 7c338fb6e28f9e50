"""Static files as `make run` collects and serves them: a module graph's real imports, and
nothing else, rewritten to hashed names; every page's modules loading in Chromium from
the collected files; and the test settings storing static files as production does."""

import json
import os
import posixpath
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command

from tests.browser_support import MODELS, sign_up, start_site

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = ROOT / "tests" / "fixtures" / "static"
# A hashed name, as Django's storage writes it: name.0123456789ab.ext
HASH = re.compile(r"\.[0-9a-f]{12}(?=\.\w+)")
HASHED_REFERENCE = re.compile(r"[\w./-]+\.[0-9a-f]{12}\.\w+")

# Each collected file's real references, in order: what may change, and nothing else.
# (Decoys in comments, strings, template literals and regular expressions, bare and
# absolute specifiers, and names such as `setExport`, stay as written.)
REFERENCES = {
    "app/main.js": [
        "./lib/navigation.js",
        "./lib/util.js",
        "./side-effect.js",
        "./data.json",
        "../shared/base.js",
        "../vendor/tiny.min.js",
        "./lib/navigation.js",
        "../shared/base.js",
        "./lib/lazy.js",
        "./lib/cycle-a.js",
    ],
    "app/lib/navigation.js": ["./util.js"],
    "app/lib/util.js": [],
    "app/lib/lazy.js": ["./util.js"],
    "app/lib/cycle-a.js": ["./cycle-b.js"],
    "app/lib/cycle-b.js": ["./cycle-a.js"],
    "app/side-effect.js": [],
    "shared/base.js": [],
    "shared/theme.css": ["dot.svg"],
    "vendor/tiny.min.js": ["tiny.min.js.map"],
}


def collect(settings, source: Path, root: Path) -> dict[str, str]:
    """collectstatic of one folder with the production storage; returns the manifest."""
    settings.STATICFILES_DIRS = [source]
    settings.STATICFILES_FINDERS = ["django.contrib.staticfiles.finders.FileSystemFinder"]
    settings.STATIC_ROOT = root
    assert settings.STORAGES["staticfiles"]["BACKEND"] == "chatsite.storage.StaticFilesStorage"
    call_command("collectstatic", interactive=False, verbosity=0)
    return json.loads((root / "staticfiles.json").read_text())["paths"]


def test_only_real_specifiers_change_and_each_names_a_collected_file(settings, tmp_path):
    manifest = collect(settings, FIXTURE, tmp_path)
    files = {str(p.relative_to(FIXTURE)) for p in FIXTURE.rglob("*") if p.is_file()}
    assert set(REFERENCES) == {f for f in files if f.endswith((".js", ".css"))}
    for name, expected in REFERENCES.items():
        source = (FIXTURE / name).read_text()
        collected = (tmp_path / manifest[name]).read_text()
        # Take the hashes out again and the file is its source: nothing else was touched.
        assert HASH.sub("", collected) == source, name
        found = HASHED_REFERENCE.findall(collected)
        assert [HASH.sub("", reference) for reference in found] == expected, name
        for reference in found:
            target = posixpath.normpath(
                posixpath.join(posixpath.dirname(manifest[name]), reference)
            )
            assert (tmp_path / target).is_file(), f"{name} names {reference}: not collected"
            # The current name of that file, not one from an earlier pass.
            assert manifest[HASH.sub("", target)] == target, f"{name} names {reference}"
    main = (tmp_path / manifest["app/main.js"]).read_text()
    assert "import { openThing, setExport } from" in main
    assert '// Import x from "./nope.js";' in main
    assert 'import absolute from "/static/elsewhere.js";' in main


def names_after(settings, tmp_path: Path, label: str, change: dict[str, str]) -> dict[str, str]:
    """The manifest of the fixture collected with some files' text appended to."""
    source = tmp_path / f"{label}-source"
    shutil.copytree(FIXTURE, source)
    for name, addition in change.items():
        with open(source / name, "a") as file:
            file.write(addition)
    return collect(settings, source, tmp_path / f"{label}-root")


def test_a_module_is_renamed_when_anything_it_imports_changes(settings, tmp_path):
    before = names_after(settings, tmp_path, "before", {})
    again = names_after(settings, tmp_path, "again", {})
    assert again == before  # The same files, the same names.

    after = names_after(settings, tmp_path, "util", {"app/lib/util.js": "export const more = 1;\n"})
    changed = {name for name in before if after[name] != before[name]}
    # util.js, what imports it, and what imports those, however indirectly.
    assert changed == {"app/lib/util.js", "app/lib/navigation.js", "app/lib/lazy.js", "app/main.js"}

    after = names_after(settings, tmp_path, "cycle", {"app/lib/cycle-b.js": "// b\n"})
    changed = {name for name in before if after[name] != before[name]}
    assert changed == {"app/lib/cycle-a.js", "app/lib/cycle-b.js", "app/main.js"}

    after = names_after(settings, tmp_path, "json", {"app/data.json": "\n"})
    changed = {name for name in before if after[name] != before[name]}
    assert changed == {"app/data.json", "app/main.js"}


@pytest.mark.parametrize(
    ("source", "names"),
    [
        ('import { x } from "./missing.js";\n', ["app.js", "./missing.js", "line 1"]),
        ('\nexport * from "../outside.js";\n', ["app.js", "../outside.js", "line 2"]),
        ("const m = await import(`./pages/${name}.js`);\n", ["app.js", "./pages/${name}.js"]),
        ('import { x } from "./\\x6dissing.js";\n', ["app.js", "escape"]),
        ("import { x from './a.js';\n", ["app.js", "not valid JavaScript", "line 1"]),
    ],
)
def test_what_cannot_be_resolved_fails_collectstatic_naming_file_and_specifier(
    settings, tmp_path, source, names
):
    (tmp_path / "source").mkdir()
    (tmp_path / "source" / "app.js").write_text(source)
    (tmp_path / "source" / "a.js").write_text("export const x = 1;\n")
    with pytest.raises(ValueError) as raised:
        collect(settings, tmp_path / "source", tmp_path / "root")
    for name in names:
        assert name in str(raised.value)


SHOW_SETTINGS = """
import importlib, json, sys
module = importlib.import_module(sys.argv[1])
print(json.dumps({
    "STORAGES": module.STORAGES,
    "STATIC_ROOT": str(module.STATIC_ROOT),
    "STATIC_URL": module.STATIC_URL,
    "DEBUG": module.DEBUG,
    "MIDDLEWARE": module.MIDDLEWARE,
    "WHITENOISE_USE_FINDERS": getattr(module, "WHITENOISE_USE_FINDERS", None),
    "WHITENOISE_AUTOREFRESH": getattr(module, "WHITENOISE_AUTOREFRESH", None),
}))
"""


def settings_of(module: str) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    env["DJANGO_SECRET_KEY"] = env.get("DJANGO_SECRET_KEY") or "test-only-secret-key"
    out = subprocess.run(
        [sys.executable, "-c", SHOW_SETTINGS, module],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout)


def test_the_tests_store_and_serve_static_files_as_production_does(collected_static):
    production, test = settings_of("chatsite.settings"), settings_of("chatsite.settings_test")
    assert test == production
    assert test["STORAGES"]["staticfiles"]["BACKEND"] == "chatsite.storage.StaticFilesStorage"
    assert test["DEBUG"] is False and test["WHITENOISE_USE_FINDERS"] is None
    assert test["STATIC_ROOT"] == str(collected_static)


PAGES = ["/", "/import/", "/personas/", "/settings/", "/settings/privacy/"]


@pytest.mark.browser
def test_every_page_loads_its_modules_from_the_collected_files(upstream, browser, tmp_path_factory):
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import expect

    site = start_site(upstream, tmp_path_factory, "static-site")
    problems: list[str] = []
    scripts: list[str] = []

    def watch(page):
        page.on(
            "console",
            lambda m: m.type == "error" and problems.append(f"console: {m.text} {m.location}"),
        )
        page.on("requestfailed", lambda r: problems.append(f"failed: {r.url} {r.failure}"))

        def response(r):
            if r.status >= 400:
                problems.append(f"{r.status}: {r.url}")
            if r.request.resource_type == "script":
                scripts.append(r.url)

        page.on("response", response)
        return page

    try:
        page = watch(browser.new_page(viewport={"width": 1280, "height": 800}))
        page.goto(f"{site.url}/accounts/login/")
        expect(page.locator("#id_username")).to_be_visible()
        try:
            sign_up(page, site.url, "static")  # The chat page opens and its socket connects.
        except PlaywrightError:
            pytest.fail(f"the chat page's modules did not run: {problems}")
        # chat.js imported the whole graph: the picker lists the provider's models.
        expect(page.locator("#model-list [role=option]")).to_have_count(len(MODELS))
        for path in PAGES:
            page.goto(f"{site.url}{path}")
            page.wait_for_load_state("networkidle")
        assert problems == []
        modules = {url.split("/static/", 1)[1] for url in scripts if "/static/" in url}
        manifest = json.loads(
            (Path(os.environ["DJANGO_STATIC_ROOT"]) / "staticfiles.json").read_text()
        )
        hashed = {name for name in manifest["paths"].values() if name.endswith(".js")}
        # Every module of every page, and only hashed names from the manifest.
        assert "chat.js" not in modules and modules <= hashed
        assert {
            manifest["paths"][name] for name in ("chat.js", "navigation.js", "import.js")
        } <= modules
        page.close()
    finally:
        site.stop()
