"""The admin's "Who may use what": per thing (a model, a shared persona, a tool), the groups
whose members may use it. A thing with no rule is everyone's."""

from django import forms
from django.contrib import admin

from . import kinds
from .models import AccessRule
from .services import MAX_RULES


def thing_choices(current: tuple[str, str] | None = None) -> list:
    """Every thing a rule can name, grouped by kind (what each kind's owner offers)."""
    grouped = []
    for key, label in kinds.KINDS.items():
        source = kinds.NAME_SOURCES.get(key)
        names = list(source()) if source else []
        if current and current[0] == key and current[1] not in {name for name, _ in names}:
            names.append((current[1], f"{current[1]} (no longer offered)"))
        if names:
            grouped.append((label, [(f"{key}:{name}", shown) for name, shown in names]))
    return grouped


class AccessRuleForm(forms.ModelForm):
    thing = forms.ChoiceField(help_text="What the rule keeps to the groups below.")

    class Meta:
        model = AccessRule
        fields = ("groups",)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        current = (self.instance.kind, self.instance.name) if self.instance.pk else None
        self.fields["thing"].choices = thing_choices(current)
        if current:
            self.initial["thing"] = f"{current[0]}:{current[1]}"
        self.fields["groups"].help_text = (
            "Only members of these groups may use it; to let everyone use it again, delete "
            "this rule. Superusers too are held to it."
        )
        self.order_fields(["thing", "groups"])

    def clean_thing(self) -> tuple[str, str]:
        kind, _, name = self.cleaned_data["thing"].partition(":")
        taken = AccessRule.objects.filter(kind=kind, name=name).exclude(pk=self.instance.pk)
        if taken.exists():
            raise forms.ValidationError("That already has a rule: change that one.")
        if not self.instance.pk and AccessRule.objects.count() >= MAX_RULES:
            raise forms.ValidationError(f"There are {MAX_RULES:,} rules already, the most kept.")
        return kind, name

    def save(self, commit: bool = True) -> AccessRule:
        self.instance.kind, self.instance.name = self.cleaned_data["thing"]
        return super().save(commit)


@admin.register(AccessRule)
class AccessRuleAdmin(admin.ModelAdmin):
    form = AccessRuleForm
    list_display = ("thing", "kind_label", "who")
    list_filter = ("kind", "groups")
    search_fields = ("name", "groups__name")
    filter_horizontal = ("groups",)

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("groups")

    @admin.display(description="thing", ordering="name")
    def thing(self, rule: AccessRule) -> str:
        labeller = kinds.LABELLERS.get(rule.kind)
        return labeller(rule.name) if labeller else rule.name

    @admin.display(description="kind", ordering="kind")
    def kind_label(self, rule: AccessRule) -> str:
        return kinds.label(rule.kind)

    @admin.display(description="who may use it")
    def who(self, rule: AccessRule) -> str:
        names = sorted(group.name for group in rule.groups.all())
        return ", ".join(names) if names else "nobody (its groups were deleted)"
