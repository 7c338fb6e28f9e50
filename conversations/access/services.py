"""Writes of the access rules. Every process hears of a change (provider/availability.py
connects to the saves and reloads the snapshot everywhere)."""

from collections.abc import Iterable

from django.db import transaction

from .models import AccessRule

MAX_RULES = 10_000  # The rules every process holds in memory; no more can be made.


class TooManyRules(Exception):
    """MAX_RULES rules exist already."""


def rule_set(*, kind: str, name: str, group_ids: Iterable[int]) -> AccessRule | None:
    """Keep a thing to these groups; no groups: everyone may use it (the rule goes)."""
    group_ids = sorted(set(group_ids))
    with transaction.atomic():
        rule = AccessRule.objects.filter(kind=kind, name=name).first()
        if not group_ids:
            if rule is not None:
                rule.delete()
            return None
        if rule is None:
            if AccessRule.objects.count() >= MAX_RULES:
                raise TooManyRules(f"There are {MAX_RULES:,} rules already.")
            rule = AccessRule.objects.create(kind=kind, name=name)
        rule.groups.set(group_ids)
        rule.save(update_fields=["updated_at"])
    return rule


def rules_forget(*, kind: str, names: Iterable[str]) -> None:
    """Drop the rules of things that are gone (a deleted shared persona, say)."""
    AccessRule.objects.filter(kind=kind, name__in=list(names)).delete()
