"""Recovery codes: single-use codes that stand in for a lost second factor.

Each code is 79 random bits, shown to its owner once when made and stored only as its
SHA-256 (random, so no slow, salted hash is needed); using one marks it used in one
UPDATE, so two sign-ins racing with the same code cannot both pass. Making new codes
replaces every older one.
"""

import hashlib
import secrets

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from .models import RecoveryCode

COUNT = 10
# 31 letters and digits, none easily mistaken for another: 16 of them are 79 bits.
ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
LENGTH = 16


def _normal(code: str) -> str:
    return "".join(ch for ch in code.lower() if ch.isalnum())[:64]


def code_hash(code: str) -> str:
    return hashlib.sha256(_normal(code).encode()).hexdigest()


def looks_like_code(code: str) -> bool:
    """Whether a typed value has a recovery code's shape (an authenticator code has not)."""
    return len(_normal(code)) == LENGTH


def recovery_codes_issue(*, user: AbstractBaseUser) -> list[str]:
    """New codes for the user, replacing any older ones; returned once, never stored."""
    codes = []
    for _ in range(COUNT):
        raw = "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))
        codes.append("-".join(raw[i : i + 4] for i in range(0, LENGTH, 4)))
    with transaction.atomic():
        RecoveryCode.objects.filter(user_id=user.pk).delete()
        RecoveryCode.objects.bulk_create(
            RecoveryCode(user_id=user.pk, code_hash=code_hash(code)) for code in codes
        )
    return codes


def recovery_code_use(*, user: AbstractBaseUser, code: str) -> bool:
    """Use one of the user's unused codes; whether `code` was one."""
    used = RecoveryCode.objects.filter(
        user_id=user.pk, code_hash=code_hash(code), used_at__isnull=True
    ).update(used_at=timezone.now())
    return used == 1


def recovery_codes_left(*, user_id: int) -> int:
    return RecoveryCode.objects.filter(user_id=user_id, used_at__isnull=True).count()


def recovery_codes_clear(*, user_id: int) -> None:
    """The user's last second factor went: its stand-ins go too."""
    RecoveryCode.objects.filter(user_id=user_id).delete()
