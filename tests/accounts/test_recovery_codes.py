"""Recovery codes: COUNT random codes shown once and kept only as hashes, each good once,
typed however the owner types it; new codes replace the old, and they go with the last
second factor."""

import hashlib
import math
import re

import pytest

from conversations.accounts import recovery_codes
from conversations.accounts.models import RecoveryCode

pytestmark = pytest.mark.django_db

SHAPE = re.compile(rf"[{recovery_codes.ALPHABET}]{{4}}(-[{recovery_codes.ALPHABET}]{{4}}){{3}}")


def test_codes_are_random_enough_and_have_no_look_alike_characters():
    assert recovery_codes.LENGTH * math.log2(len(recovery_codes.ALPHABET)) >= 79
    assert len(set(recovery_codes.ALPHABET)) == len(recovery_codes.ALPHABET)
    assert not set("01ilo") & set(recovery_codes.ALPHABET)


def test_issuing_gives_count_new_codes_stored_only_as_their_hashes(user):
    codes = recovery_codes.recovery_codes_issue(user=user)
    assert len(codes) == recovery_codes.COUNT == 10
    assert len(set(codes)) == len(codes)
    assert all(SHAPE.fullmatch(code) for code in codes), codes
    stored = set(RecoveryCode.objects.filter(user=user).values_list("code_hash", flat=True))
    assert stored == {hashlib.sha256(code.replace("-", "").encode()).hexdigest() for code in codes}
    kept = " ".join(stored)
    assert not any(code in kept or code.replace("-", "") in kept for code in codes)
    assert recovery_codes.recovery_codes_left(user_id=user.pk) == 10


def test_each_code_works_once(user):
    codes = recovery_codes.recovery_codes_issue(user=user)
    assert recovery_codes.recovery_code_use(user=user, code=codes[3])
    assert not recovery_codes.recovery_code_use(user=user, code=codes[3])
    assert recovery_codes.recovery_codes_left(user_id=user.pk) == 9
    used = RecoveryCode.objects.filter(user=user, used_at__isnull=False)
    assert list(used.values_list("code_hash", flat=True)) == [recovery_codes.code_hash(codes[3])]
    # The others still work.
    assert recovery_codes.recovery_code_use(user=user, code=codes[4])


def test_a_code_is_taken_in_capitals_with_spaces_or_without_its_dashes(user):
    codes = recovery_codes.recovery_codes_issue(user=user)
    typed = [
        codes[0].upper(),
        codes[1].replace("-", " "),
        codes[2].replace("-", ""),
        f"  {codes[3]}\n",
    ]
    for code in typed:
        assert recovery_codes.looks_like_code(code), code
        assert recovery_codes.recovery_code_use(user=user, code=code), code
    assert recovery_codes.recovery_codes_left(user_id=user.pk) == 6


def test_an_authenticator_code_does_not_look_like_a_recovery_code():
    for code in ("123456", "123 456", "abcd-efgh-jkmn-pqr", "abcd-efgh-jkmn-pqrst", ""):
        assert not recovery_codes.looks_like_code(code), code
    assert recovery_codes.looks_like_code("ABCD-EFGH-JKMN-PQRS")


def test_a_wrong_code_or_another_accounts_code_uses_nothing(user, other_user):
    codes = recovery_codes.recovery_codes_issue(user=user)
    theirs = recovery_codes.recovery_codes_issue(user=other_user)
    assert not recovery_codes.recovery_code_use(user=user, code="abcd-efgh-jkmn-pqrs")
    assert not recovery_codes.recovery_code_use(user=user, code=theirs[0])
    assert not recovery_codes.recovery_code_use(user=other_user, code=codes[0])
    assert recovery_codes.recovery_codes_left(user_id=user.pk) == 10
    assert recovery_codes.recovery_codes_left(user_id=other_user.pk) == 10


def test_new_codes_replace_every_older_one(user):
    old = recovery_codes.recovery_codes_issue(user=user)
    assert recovery_codes.recovery_code_use(user=user, code=old[0])
    new = recovery_codes.recovery_codes_issue(user=user)
    assert not set(old) & set(new)
    assert RecoveryCode.objects.filter(user=user).count() == 10
    assert recovery_codes.recovery_codes_left(user_id=user.pk) == 10
    assert not any(recovery_codes.recovery_code_use(user=user, code=code) for code in old[1:])
    assert recovery_codes.recovery_code_use(user=user, code=new[0])


def test_clearing_takes_every_code_of_that_account_only(user, other_user):
    codes = recovery_codes.recovery_codes_issue(user=user)
    recovery_codes.recovery_codes_issue(user=other_user)
    recovery_codes.recovery_code_use(user=user, code=codes[0])
    recovery_codes.recovery_codes_clear(user_id=user.pk)
    assert not RecoveryCode.objects.filter(user=user).exists()
    assert recovery_codes.recovery_codes_left(user_id=user.pk) == 0
    assert not recovery_codes.recovery_code_use(user=user, code=codes[1])
    assert recovery_codes.recovery_codes_left(user_id=other_user.pk) == 10
