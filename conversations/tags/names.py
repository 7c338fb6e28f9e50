"""What a tag's name may be, and how two names are compared.

A name is trimmed, its runs of white space made one space, and Unicode-normalised (NFKC:
a full-width "work" is plain "work"); then it must be 1 to NAME_MAX_CHARS characters of
letters, digits, spaces and `-` `_` `.` `&` `+`. Nothing else: no quotes, no colon, no
markup, so a name is always safe as text in the page and as a word of a `tag:` query.
Two names are the same tag when their casefolded forms are equal ("Work" is "work").
"""

import unicodedata

from .models import NAME_MAX_CHARS

PUNCTUATION = frozenset(" -_.&+")


class BadName(ValueError):
    """A name that is no tag's: the message says why, fit to show."""


def normalise(raw: str) -> str:
    """The name as it is kept, or BadName."""
    if len(raw) > NAME_MAX_CHARS * 4:  # Bounded before any work on it.
        raise BadName(f"A tag's name is at most {NAME_MAX_CHARS} characters.")
    name = " ".join(unicodedata.normalize("NFKC", raw).split())
    if not name:
        raise BadName("A tag needs a name.")
    if len(name) > NAME_MAX_CHARS:
        raise BadName(f"A tag's name is at most {NAME_MAX_CHARS} characters.")
    if any(not (c.isalnum() or c in PUNCTUATION) for c in name):
        raise BadName("A tag's name may hold letters, digits, spaces and - _ . & + only.")
    return name


def key(name: str) -> str:
    """What two names are compared by (of a name already normalised)."""
    return name.casefold()
