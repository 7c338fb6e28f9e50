"""Reads of the access rules and of the group memberships they depend on."""

from django.contrib.auth import get_user_model

from .models import AccessRule


def rule_groups_all(*, limit: int) -> dict[tuple[str, str], frozenset[int]]:
    """Every rule (at most `limit`) as the groups that may use its thing, by (kind, name)."""
    through = AccessRule.groups.through
    rules = list(AccessRule.objects.order_by("pk").values_list("pk", "kind", "name")[:limit])
    groups: dict[int, set[int]] = {}
    for rule_id, group_id in through.objects.filter(
        accessrule_id__in=[pk for pk, _, _ in rules]
    ).values_list("accessrule_id", "group_id"):
        groups.setdefault(rule_id, set()).add(group_id)
    return {(kind, name): frozenset(groups.get(pk, ())) for pk, kind, name in rules}


def memberships(*, group_ids: set[int], limit: int) -> dict[int, frozenset[int]] | None:
    """The members of these groups, as each user's groups among them; None when there are
    more than `limit` memberships (then each user's are read when needed)."""
    through = get_user_model().groups.through
    rows = list(
        through.objects.filter(group_id__in=group_ids).values_list("user_id", "group_id")[
            : limit + 1
        ]
    )
    if len(rows) > limit:
        return None
    found: dict[int, set[int]] = {}
    for user_id, group_id in rows:
        found.setdefault(user_id, set()).add(group_id)
    return {user_id: frozenset(groups) for user_id, groups in found.items()}


def user_group_ids(*, user_id: int) -> frozenset[int]:
    """One user's groups."""
    through = get_user_model().groups.through
    return frozenset(through.objects.filter(user_id=user_id).values_list("group_id", flat=True))


def rule_get(*, kind: str, name: str) -> AccessRule | None:
    return AccessRule.objects.filter(kind=kind, name=name).first()


def rule_group_ids(*, kind: str, name: str) -> list[int]:
    """The groups one thing is kept to ([]: everyone may use it)."""
    return list(
        AccessRule.groups.through.objects.filter(
            accessrule__kind=kind, accessrule__name=name
        ).values_list("group_id", flat=True)
    )


def groups_named(*, group_ids: set[int]) -> bool:
    """Whether any rule names one of these groups."""
    return AccessRule.groups.through.objects.filter(group_id__in=group_ids).exists()
