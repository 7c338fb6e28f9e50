"""The tests mirror the code: every module under conversations/ has a test module of its
name, tests/<its package's path>/test_<module>.py (conversations/chat/lifecycle.py:
tests/chat/test_lifecycle.py), or COVERED_ELSEWHERE names the test module that covers it,
and that module imports it. A module added without tests fails here."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Modules whose tests are in a test module of another name: the one that mainly tests
# them. It must import the module (`import conversations.x.y`, `from conversations.x.y
# import ...` or `from conversations.x import y`); naming it in a string does not count.
COVERED_ELSEWHERE: dict[str, str] = {
    "conversations.access.kinds": "tests/access/test_policy.py",
    "conversations.access.models": "tests/access/test_admin.py",
    "conversations.access.services": "tests/access/test_policy.py",
    "conversations.accounts.models": "tests/accounts/test_signup.py",
    "conversations.accounts.services": "tests/accounts/test_signup.py",
    "conversations.catalog.models": "tests/provider/test_availability.py",
    "conversations.chat.assembly": "tests/turns/test_running.py",
    "conversations.chat.blocks": "tests/rendering/test_markdown.py",
    "conversations.chat.compare_actions": "tests/chat/test_compare.py",
    "conversations.chat.frames.schema": "tests/chat/frames/test_registry.py",
    "conversations.chat.tag_actions": "tests/tags/test_frames.py",
    "conversations.chat.titles": "tests/chat/test_conversation_actions.py",
    "conversations.compare.selectors": "tests/chat/test_compare.py",
    "conversations.compare.services": "tests/chat/test_compare.py",
    "conversations.deletion.models": "tests/deletion/test_retention.py",
    "conversations.deletion.registry": "tests/deletion/test_retention.py",
    "conversations.deletion.runner": "tests/deletion/test_retention.py",
    "conversations.deletion.selectors": "tests/deletion/test_retention.py",
    "conversations.files.models": "tests/files/test_services.py",
    "conversations.limits.models": "tests/limits/test_turn_limits.py",
    "conversations.llm.sse": "tests/llm/test_client.py",
    "conversations.model_input": "tests/test_selectors.py",
    "conversations.models": "tests/test_services.py",
    "conversations.personas.models": "tests/personas/test_selectors.py",
    "conversations.personas.services": "tests/test_services.py",
    "conversations.portability.schema": "tests/portability/test_importing.py",
    "conversations.projects.models": "tests/projects/test_selectors.py",
    "conversations.prompts.cleanup": "tests/prompts/test_services.py",
    "conversations.prompts.models": "tests/prompts/test_services.py",
    "conversations.provider.catalog": "tests/provider/test_availability.py",
    "conversations.provider.sync": "tests/test_services.py",
    "conversations.provider.upstream": "tests/web/test_views.py",
    "conversations.rendering.formulas": "tests/rendering/test_markdown.py",
    "conversations.review.models": "tests/review/test_admin_views.py",
    "conversations.review.stats": "tests/review/test_dashboard.py",
    "conversations.search.index": "tests/portability/test_export.py",
    "conversations.search.snippets": "tests/rendering/test_budget.py",
    "conversations.sharing.models": "tests/sharing/test_views.py",
    "conversations.sharing.urls": "tests/sharing/test_views.py",
    "conversations.sso.models": "tests/sso/test_services.py",
    "conversations.tags.admin": "tests/tags/test_portability.py",
    "conversations.tags.cleanup": "tests/tags/test_portability.py",
    "conversations.tags.models": "tests/tags/test_services.py",
    "conversations.tools.builtin": "tests/tools/test_registry.py",
    "conversations.turns.compare": "tests/chat/test_compare.py",
    "conversations.turns.starts": "tests/turns/test_running.py",
}


def app_modules(root: Path, package: str) -> list[str]:
    """Dotted names of the package's modules, less `__init__` and migrations."""
    found = []
    for path in sorted((root / package).rglob("*.py")):
        parts = path.relative_to(root).with_suffix("").parts
        if path.name == "__init__.py" or "migrations" in parts:
            continue
        found.append(".".join(parts))
    return found


def own_test(module: str) -> Path:
    """Where a module's own test module lives: conversations.a.b.c, tests/a/b/test_c.py."""
    *packages, name = module.split(".")[1:]
    return Path("tests", *packages, f"test_{name}.py")


def imported(test_file: Path) -> set[str]:
    """Every dotted name the file's import statements import, anywhere in it: `import a.b`
    gives a.b; `from a.b import c` gives a.b and a.b.c (c may be a module or a name)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(test_file.read_text(), str(test_file))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0:  # Relative ones stay in tests/.
            source = node.module or ""
            names.add(source)
            names.update(f"{source}.{alias.name}" for alias in node.names)
    return names


def layout_problems(root: Path, package: str, covered: dict[str, str]) -> list[str]:
    """What is wrong with the tests' layout, one line each; none when it mirrors the code."""
    modules = app_modules(root, package)
    problems = []
    for module in modules:
        own = own_test(module)
        listed = covered.get(module)
        if (root / own).exists():
            if listed is not None:
                problems.append(f"{module} has {own}: take it out of COVERED_ELSEWHERE")
        elif listed is None:
            problems.append(f"{module} has no {own} and is not in COVERED_ELSEWHERE")
        elif not (root / listed).is_file():
            problems.append(f"{module} is covered by {listed}, which does not exist")
        elif module not in imported(root / listed):
            problems.append(f"{module} is covered by {listed}, which does not import it")
    problems += [
        f"COVERED_ELSEWHERE names {name}, which is not a module of {package}"
        for name in sorted(covered.keys() - set(modules))
    ]
    return problems


def test_every_module_has_tests_of_its_name_or_is_covered_elsewhere():
    assert layout_problems(ROOT, "conversations", COVERED_ELSEWHERE) == []


def write(root: Path, path: str, text: str = "") -> None:
    (root / path).parent.mkdir(parents=True, exist_ok=True)
    (root / path).write_text(text)


def fake_tree(root: Path) -> None:
    """An app with a module at its root and one in a sub-package, each with its own test."""
    for path in ("app/__init__.py", "app/core.py", "app/sub/__init__.py", "app/sub/thing.py"):
        write(root, path)
    write(root, "app/migrations/0001_initial.py")  # Never needs a test.
    write(root, "tests/test_core.py", "from app import core\n")
    write(root, "tests/sub/test_thing.py", "from app.sub import thing\n")


def test_a_tree_that_mirrors_its_app_passes(tmp_path):
    fake_tree(tmp_path)
    assert app_modules(tmp_path, "app") == ["app.core", "app.sub.thing"]
    assert layout_problems(tmp_path, "app", {}) == []


def test_a_module_without_a_test_of_its_name_fails(tmp_path):
    fake_tree(tmp_path)
    write(tmp_path, "app/sub/extra.py")
    assert layout_problems(tmp_path, "app", {}) == [
        "app.sub.extra has no tests/sub/test_extra.py and is not in COVERED_ELSEWHERE"
    ]
    # A test module of that name at the wrong place is not one.
    write(tmp_path, "tests/test_extra.py", "from app.sub import extra\n")
    assert len(layout_problems(tmp_path, "app", {})) == 1


def test_a_module_covered_elsewhere_must_be_imported_there(tmp_path):
    fake_tree(tmp_path)
    write(tmp_path, "app/sub/extra.py")
    covered = {"app.sub.extra": "tests/sub/test_thing.py"}
    for source in (
        "import app.sub.extra\n",
        "import app.sub.extra as extra\n",
        "from app.sub import extra, thing\n",
        "from app.sub.extra import helper\n",
        "def test_it():\n    from app.sub.extra import helper\n",  # Imported where it runs.
    ):
        write(tmp_path, "tests/sub/test_thing.py", source)
        assert layout_problems(tmp_path, "app", covered) == [], source
    for source in (
        'NAME = "app.sub.extra"\n',  # Only a string.
        "import importlib\n\nimportlib.import_module('app.sub.extra')\n",
        "from app import sub\n",  # Its package, but not the module.
        "import app.sub\n",
        "from app.sub import thing\n",
    ):
        write(tmp_path, "tests/sub/test_thing.py", source)
        assert layout_problems(tmp_path, "app", covered) == [
            "app.sub.extra is covered by tests/sub/test_thing.py, which does not import it"
        ], source


def test_the_list_itself_stays_exact(tmp_path):
    fake_tree(tmp_path)
    assert layout_problems(
        tmp_path,
        "app",
        {
            "app.core": "tests/test_core.py",  # It has a test module of its own.
            "app.gone": "tests/test_core.py",  # No such module.
        },
    ) == [
        "app.core has tests/test_core.py: take it out of COVERED_ELSEWHERE",
        "COVERED_ELSEWHERE names app.gone, which is not a module of app",
    ]
    write(tmp_path, "app/extra.py")
    assert layout_problems(tmp_path, "app", {"app.extra": "tests/test_missing.py"}) == [
        "app.extra is covered by tests/test_missing.py, which does not exist"
    ]
