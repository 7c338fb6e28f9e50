"""docs/architecture.md names real things: every dotted name in it imports."""

import importlib
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOC = (ROOT / "docs" / "architecture.md").read_text()
NAMES = sorted(set(re.findall(r"\b((?:conversations|chatsite)(?:\.\w+)+)", DOC)))


def resolve(dotted: str):
    """Import the longest module prefix of a dotted name, then walk its attributes."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            target = importlib.import_module(".".join(parts[:cut]))
        except ModuleNotFoundError:
            continue
        for attribute in parts[cut:]:
            target = getattr(target, attribute)
        return target
    raise ModuleNotFoundError(dotted)


def test_the_document_names_enough_to_be_worth_checking():
    assert len(NAMES) > 30


@pytest.mark.parametrize("name", NAMES)
def test_every_name_in_the_architecture_document_exists(name):
    assert resolve(name) is not None
