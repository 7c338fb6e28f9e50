"""`tag:` in a search: `tag:work budget`, `tag:"two words"`, several tags at once.

The tags a query names are taken out of it; the rest are the words searched for as
before. A conversation matches when it has every tag named (and, with words, matches
them too).
"""

import re

MAX_TAGS_IN_QUERY = 5  # More are ignored: five labels at once narrows enough.
# `tag:` then a quoted name (no quote inside) or a run of non-space characters; the
# prefix only at the start of a word, so "mytag:x" is searched as words.
_TAG = re.compile(r'(?<!\S)tag:(?:"([^"]{1,200})"|(\S{1,200}))', re.IGNORECASE)


def split(query: str) -> tuple[list[str], str]:
    """The tag names a query asks for, and its other words (spaces tidied)."""
    names: list[str] = []

    def take(match: re.Match) -> str:
        names.append(match.group(1) if match.group(1) is not None else match.group(2))
        return " "

    rest = _TAG.sub(take, query)
    return names[:MAX_TAGS_IN_QUERY], " ".join(rest.split())
