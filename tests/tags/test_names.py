"""What a tag's name may be, and when two names are one tag."""

import pytest

from conversations.tags import names
from conversations.tags.models import NAME_MAX_CHARS


@pytest.mark.parametrize(
    ("raw", "kept"),
    [
        ("  work  ", "work"),
        ("two \t  words", "two words"),
        ("ｗｏｒｋ", "work"),  # noqa: RUF001 - full-width letters, made plain by NFKC
        ("R&D v1.2_x-y+z", "R&D v1.2_x-y+z"),
        ("Café", "Café"),
        ("x" * NAME_MAX_CHARS, "x" * NAME_MAX_CHARS),
    ],
)
def test_names_are_trimmed_and_normalised(raw, kept):
    assert names.normalise(raw) == kept


@pytest.mark.parametrize(
    "raw",
    ["", "   ", "x" * (NAME_MAX_CHARS + 1), "a:b", 'say "hi"', "<b>", "tab\x00", "x" * 10_000],
)
def test_names_outside_the_charset_or_length_are_refused(raw):
    with pytest.raises(names.BadName):
        names.normalise(raw)


def test_names_differing_only_in_case_are_one_tag():
    assert names.key(names.normalise("Work")) == names.key(names.normalise(" WORK "))
    assert names.key("Straße") == names.key("STRASSE")
