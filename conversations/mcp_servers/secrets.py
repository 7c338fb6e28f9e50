"""Secrets stored in the database (an MCP server's headers), encrypted at rest.

Fernet (AES-CBC with an HMAC) under the keys in CHAT_SECRETS_KEY: the first encrypts, every
one decrypts (MultiFernet), so a key is rotated by putting a new one first and running
`rotate` over the rows. Unset, one key is derived from DJANGO_SECRET_KEY with HKDF: the
secrets are then still unreadable in a copy of the database alone, but rotating
DJANGO_SECRET_KEY makes them unreadable (staff enter them again), and anyone with that key
can read them. A value that cannot be decrypted reads as empty, never as an error shown to
anyone.
"""

import base64
import json
import logging
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

logger = logging.getLogger(__name__)

MAX_PLAINTEXT = 16 * 1024  # A header set larger than this is refused before encryption.


def _derived(secret_key: str) -> bytes:
    raw = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"chat stored secrets v1"
    ).derive(secret_key.encode())
    return base64.urlsafe_b64encode(raw)


@lru_cache(maxsize=4)
def _fernet(keys: tuple[str, ...], secret_key: str) -> MultiFernet:
    if keys:
        try:
            return MultiFernet([Fernet(key.encode()) for key in keys])
        except ValueError:
            # Never the key itself in the message.
            raise ImproperlyConfigured(
                "CHAT_SECRETS_KEY holds a value that is not a Fernet key "
                "(32 url-safe base64-encoded bytes)."
            ) from None
    return MultiFernet([Fernet(_derived(secret_key))])


def fernet() -> MultiFernet:
    """The keys as configured now (settings may change in tests)."""
    return _fernet(tuple(settings.CHAT_SECRETS_KEYS), settings.SECRET_KEY)


def encrypt_json(value: dict[str, str]) -> str:
    """The value as a token for the database ("" for nothing)."""
    if not value:
        return ""
    plain = json.dumps(value, separators=(",", ":")).encode()
    if len(plain) > MAX_PLAINTEXT:
        raise ValueError(f"Secrets are limited to {MAX_PLAINTEXT} bytes.")
    return fernet().encrypt(plain).decode()


def decrypt_json(token: str) -> dict[str, str]:
    """The value a token holds; {} for none, or for one no configured key opens."""
    if not token:
        return {}
    try:
        value = json.loads(fernet().decrypt(token.encode()))
    except (InvalidToken, ValueError, ImproperlyConfigured):
        # Never the token or the value in the log: only that the keys do not fit.
        logger.warning("A stored secret could not be decrypted with CHAT_SECRETS_KEY")
        return {}
    if not isinstance(value, dict):
        return {}
    return {str(k): str(v) for k, v in value.items()}


def rotate(token: str) -> str:
    """The token encrypted again under the first key (after a rotation)."""
    return fernet().rotate(token.encode()).decode() if token else token
