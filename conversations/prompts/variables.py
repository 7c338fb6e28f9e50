"""A prompt's variables: `{{name}}` or `{{name:default}}` in its text.

A name is a letter or underscore, then up to 31 letters, digits or underscores; a default
is up to 200 characters, none of them a brace or a line break. Spaces inside the braces
around the name are allowed (`{{ topic }}`). Anything else between double braces is left
as it is, text like any other, so a prompt about templates can still show `{{ }}`.

The same name twice is one variable (the first default counts). A text may name at most
MAX_VARIABLES distinct variables. `date`, `time`, `user` and `clipboard` are built in:
the page fills the first three itself and asks for the clipboard (never reads it unasked).

The browser fills them with the same pattern (static/slash.js `VARIABLE`), in one pass:
a value put in is never read again for variables.
"""

import re
from dataclasses import dataclass

from django.core.exceptions import ValidationError

MAX_TEXT_CHARS = 20_000
MAX_VARIABLES = 20
MAX_DEFAULT_CHARS = 200
BUILT_IN = ("date", "time", "user", "clipboard")

# Bounded repeats and no nesting: linear on any input.
VARIABLE = re.compile(
    r"\{\{\s{0,5}([A-Za-z_][A-Za-z0-9_]{0,31})\s{0,5}(?::([^{}\r\n]{0,200}))?\}\}"
)


@dataclass(frozen=True)
class Variable:
    name: str
    default: str = ""

    @property
    def built_in(self) -> bool:
        return self.name in BUILT_IN

    def as_dict(self) -> dict:
        return {"name": self.name, "default": self.default, "built_in": self.built_in}


def variables(text: str) -> list[Variable]:
    """The distinct variables of a text, in order of first use (at most MAX_VARIABLES + 1
    are read: enough to tell a text has too many)."""
    found: dict[str, Variable] = {}
    for match in VARIABLE.finditer(text[:MAX_TEXT_CHARS]):
        name = match.group(1)
        if name not in found:
            found[name] = Variable(name, (match.group(2) or "").strip())
            if len(found) > MAX_VARIABLES:
                break
    return list(found.values())


def fill(text: str, values: dict[str, str]) -> str:
    """The text with each variable replaced by its value (its default when none is given),
    in one pass."""

    def put(match: re.Match) -> str:
        name = match.group(1)
        return values.get(name, (match.group(2) or "").strip())

    return VARIABLE.sub(put, text)


def validate_text(text: str) -> None:
    """A prompt's text: bounded, and with at most MAX_VARIABLES variables."""
    if len(text) > MAX_TEXT_CHARS:
        raise ValidationError(f"A prompt may be at most {MAX_TEXT_CHARS:,} characters.")
    if "\x00" in text:
        raise ValidationError("A prompt may not hold a NUL character.")
    if len(variables(text)) > MAX_VARIABLES:
        raise ValidationError(f"A prompt may have at most {MAX_VARIABLES} variables.")
