"""The layering the code keeps: the import contracts in pyproject.toml (run by `make lint`,
and here), no import cycles between modules, and settings read in chatsite.settings only."""

import ast
import subprocess
import sys
from pathlib import Path

import grimp

from tests.live_server import ROOT


def test_the_import_contracts_hold():
    out = subprocess.run(
        [Path(sys.executable).parent / "lint-imports"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stdout[-4000:]
    assert "0 broken" in out.stdout


def strongly_connected(graph: grimp.ImportGraph) -> list[list[str]]:
    """Groups of modules that import each other, directly or not (Tarjan's algorithm,
    iterative: the graph is deep enough for recursion to be a risk)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []
    counter = 0
    for start in sorted(graph.modules):
        if start in index:
            continue
        work = [(start, iter(sorted(graph.find_modules_directly_imported_by(start))))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, edges = work[-1]
            for nxt in edges:
                if nxt not in index:
                    index[nxt] = low[nxt] = counter
                    counter += 1
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, iter(sorted(graph.find_modules_directly_imported_by(nxt)))))
                    break
                if nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    group = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        group.append(member)
                        if member == node:
                            break
                    if len(group) > 1:
                        groups.append(sorted(group))
    return groups


def test_no_module_imports_itself_round_a_cycle():
    graph = grimp.build_graph("conversations", exclude_type_checking_imports=True)
    assert strongly_connected(graph) == []


def test_strongly_connected_finds_a_cycle():
    """The check above can fail: a cycle put in by hand is found."""
    graph = grimp.ImportGraph()
    for module in ("p.a", "p.b", "p.c", "p.d"):
        graph.add_module(module)
    graph.add_import(importer="p.a", imported="p.b")
    graph.add_import(importer="p.b", imported="p.c")
    graph.add_import(importer="p.c", imported="p.a")
    graph.add_import(importer="p.c", imported="p.d")
    assert strongly_connected(graph) == [["p.a", "p.b", "p.c"]]


def environment_reads(source: str) -> list[int]:
    """Lines that read a variable from the environment by name: os.environ[...],
    os.environ.get(...), os.getenv(...), environ.get(...)."""
    lines = []
    for node in ast.walk(ast.parse(source)):
        target = None
        if isinstance(node, ast.Subscript):
            target = node.value
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            if node.func.attr == "getenv":
                lines.append(node.lineno)
                continue
            settings_module = (
                node.func.attr == "setdefault"
                and node.args
                and isinstance(node.args[0], ast.Constant)
                and node.args[0].value == "DJANGO_SETTINGS_MODULE"
            )  # Django's own start-up (manage.py, asgi.py) names the settings module.
            if node.func.attr in ("get", "setdefault", "pop") and not settings_module:
                target = node.func.value
        if isinstance(target, ast.Attribute) and target.attr == "environ":
            lines.append(node.lineno)
        elif isinstance(target, ast.Name) and target.id == "environ":
            lines.append(node.lineno)
    return lines


def test_settings_are_read_in_chatsite_settings_only():
    """Passing the whole environment on to a child process is not reading a setting."""
    readers = {}
    for path in [*(ROOT / "conversations").rglob("*.py"), *(ROOT / "chatsite").glob("*.py")]:
        if path.name in ("settings.py", "settings_test.py") and path.parent.name == "chatsite":
            continue
        found = environment_reads(path.read_text())
        if found:
            readers[str(path.relative_to(ROOT))] = found
    assert readers == {}


def test_environment_reads_are_found():
    source = "import os\na = os.environ['A']\nb = os.environ.get('B')\nc = os.getenv('C')\n"
    assert environment_reads(source) == [2, 3, 4]
    assert environment_reads("import os\nenv = dict(os.environ)\n") == []
    assert environment_reads("os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'x')") == []
