"""Taking secrets out of text a provider sent back, before anyone sees or stores it.

Providers echo the key they were given in error messages, and rarely verbatim: upper-cased,
masked in the middle (`sk-test-****-123`), quoted from the Authorization header, or cut to
its first or last characters. So besides the configured key (any case) this removes every
word holding one of its distinctive pieces, anything after `Bearer`/`Basic`, `api_key=…`
values, words with a well-known key prefix (`sk-…`, `hf_…`), and long random-looking tokens.
Errors lose a little detail now and then; a key never gets through.
"""

import math
import re
from collections import Counter
from functools import lru_cache

REDACTED = "[redacted]"

FRAGMENT = 6  # Characters at either end of the key that identify it on their own.
MIN_KEY_FOR_FRAGMENTS = 16  # Shorter keys are matched whole: their ends are too common.
MIN_SEGMENT = 12  # Parts of the key between separators at least this long count as the key.

# A "word" for these purposes: what a key could be written as, masks and dots included.
_WORD = re.compile(r"""[^\s"'`<>()\[\]{},;]+""")
_AUTH_SCHEME = re.compile(r"""(?i)\b(bearer|basic)(\s+)[^\s"',;]+""")
_KEY_PARAM = re.compile(r"""(?i)\b((?:x-)?api[-_]?key["']?\s*[:=]\s*["']?)[^\s"',;&]+""")
_PREFIXES = ("sk", "gsk", "hf", "xai", "ghp", "gho", "github_pat", "glpat", "nvapi")
_PREFIX_HINTS = tuple(f"{p}{sep}" for p in _PREFIXES for sep in "-_")
_PREFIXED = re.compile(
    rf"(?i)(?<![A-Za-z0-9])(?:{'|'.join(_PREFIXES)})[-_][A-Za-z0-9*._\-]{{4,}}[A-Za-z0-9*]"
)
MIN_RANDOM = 20  # Length from which a mixed-case, digit-bearing part may be a secret.
# Runs of base64/base62 characters long enough to hold such a part; each part between
# separators is judged on its own.
_TOKEN = re.compile(
    rf"[A-Za-z0-9+/=_\-](?:[A-Za-z0-9+/=_.\-]{{{MIN_RANDOM - 2},}}[A-Za-z0-9+/=_\-])"
)
_SEPARATORS = re.compile(r"[-_./+=]")
MIN_ENTROPY = 3.8  # Bits per character; words and model names stay below it, keys above.


def redact(text: str, key: str = "") -> str:
    """`text` without the key `key` in any form, nor anything else that looks like a secret."""
    if not text:
        return text
    # Each pattern runs only when a plain substring test (in C) says it may match: most
    # text holds no secret, and a log line should not pay for five regular expressions.
    lowered = text.lower()
    if key:
        pieces = _key_pieces(key)
        if any(piece in lowered for piece in pieces):
            text = _WORD.sub(lambda m: _without(m.group(), pieces), text)
    if "bearer" in lowered or "basic" in lowered:
        text = _AUTH_SCHEME.sub(rf"\1\2{REDACTED}", text)
    if "key" in lowered:
        text = _KEY_PARAM.sub(rf"\1{REDACTED}", text)
    if any(prefix in lowered for prefix in _PREFIX_HINTS):
        text = _PREFIXED.sub(REDACTED, text)
    return _TOKEN.sub(_random_token, text)


@lru_cache(maxsize=8)
def _key_pieces(key: str) -> tuple[str, ...]:
    """The key, its ends and its long parts, lower-cased: a word holding any of them goes."""
    pieces = {key}
    if len(key) >= MIN_KEY_FOR_FRAGMENTS:
        pieces |= {key[:FRAGMENT], key[-FRAGMENT:]}
        pieces |= {part for part in _SEPARATORS.split(key) if len(part) >= MIN_SEGMENT}
    return tuple(piece.lower() for piece in pieces)


def _without(word: str, pieces: tuple[str, ...]) -> str:
    lowered = word.lower()
    return REDACTED if any(piece in lowered for piece in pieces) else word


def _random_token(match: re.Match) -> str:
    token = match.group()
    if REDACTED in token:
        return token
    return REDACTED if any(_looks_random(part) for part in _SEPARATORS.split(token)) else token


def _looks_random(part: str) -> bool:
    if len(part) < MIN_RANDOM:
        return False
    if not (
        any(c.isupper() for c in part)
        and any(c.islower() for c in part)
        and any(c.isdigit() for c in part)
    ):
        return False
    counts = Counter(part)
    entropy = -sum(n / len(part) * math.log2(n / len(part)) for n in counts.values())
    return entropy >= MIN_ENTROPY
