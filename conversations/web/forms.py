from django import forms
from django.contrib.auth import password_validation
from django.contrib.auth.forms import PasswordChangeForm, UserCreationForm
from django.http import HttpRequest

from ..accounts.login_throttle import password_confirmed
from ..accounts.models import UserSettings
from ..accounts.services import SETTINGS_FIELDS
from ..chat.assembly import TOOL_CHOICES, usable_tools
from ..deletion import selectors as deletion_selectors
from ..errors import TurnRefused
from ..personas import selectors as persona_selectors
from ..personas.models import Persona
from ..personas.services import PERSONA_FIELDS
from ..provider import availability
from ..tools import external


def usable_model(model: str, *, user_id: int) -> str:
    """A model the server would refuse (unknown, turned off by staff, or kept to other
    groups than the user's) is no choice."""
    model = model.strip()
    if model:
        try:
            availability.policy().check_chosen(model, user_id=user_id)
        except TurnRefused as exc:
            raise forms.ValidationError(exc.message) from None
    return model


class SignupForm(UserCreationForm):
    """Username and password twice, and a setup token or invite code when the rules ask for
    one; the account is made by services.user_create."""

    token = forms.CharField(max_length=200, strip=True)

    def __init__(self, *args, needs: str = "", **kwargs) -> None:
        super().__init__(*args, **kwargs)
        token = self.fields["token"]
        token.widget.attrs.update(autocomplete="off", spellcheck="false")
        if needs == "setup_token":
            token.label = "Setup token"
            token.help_text = (
                "Printed by the server when it started; on the server, "
                "python manage.py setup_token prints a new one."
            )
        elif needs == "invite":
            token.label = "Invite code"
            token.help_text = "From the invite link an administrator gave you."
        else:
            del self.fields["token"]
        # The rules a password must meet are shown before a sign-up can fail on them.
        self.fields["password1"].help_text = " ".join(
            password_validation.password_validators_help_texts()
        )
        for name, field in self.fields.items():
            if field.help_text:
                field.widget.attrs["aria-describedby"] = f"id_{name}-help"


class PersonaForm(forms.ModelForm):
    """A persona's fields, with tools as checkboxes and tool_choice among what exists."""

    tools = forms.MultipleChoiceField(required=False, widget=forms.CheckboxSelectMultiple)
    tool_choice = forms.ChoiceField()
    temperature = forms.FloatField(required=False, min_value=0, max_value=2)
    top_p = forms.FloatField(required=False, min_value=0, max_value=1)
    max_tokens = forms.IntegerField(required=False, min_value=1, max_value=1_000_000)

    class Meta:
        model = Persona
        fields = list(PERSONA_FIELDS)
        widgets = {"system_prompt": forms.Textarea(attrs={"rows": 8})}

    def __init__(self, *args, user, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        outside = external.for_user(user.pk)
        names = sorted(usable_tools(user_id=user.pk, outside=outside))
        # An external tool is labelled with its server, and whether each call asks first.
        self.fields["tools"].choices = [(n, _tool_label(n, outside.get(n))) for n in names]
        self.fields["tool_choice"].choices = [(c, c) for c in TOOL_CHOICES] + [
            (n, f"always call {n}") for n in names
        ]
        self.fields["model"].help_text = "Blank: the chat's model picker decides."
        self.fields["model"].widget.attrs["list"] = "model-options"

    def clean_model(self) -> str:
        return usable_model(self.cleaned_data["model"], user_id=self.user.pk)


def _tool_label(name: str, tool: external.ExternalTool | None) -> str:
    if tool is None:
        return name
    ask = ", asks before each call" if tool.needs_approval else ""
    return f"{name} (server {tool.server}{ask})"


def _days(days: int) -> str:
    return "1 day" if days == 1 else f"{days:,} days"


class PreferencesForm(forms.ModelForm):
    """The settings a user chooses: theme, what new chats start with, instructions, Enter,
    and how long their conversations are kept (only periods shorter than the site's and
    their groups' rules are offered)."""

    retention_days = forms.TypedChoiceField(
        coerce=int, empty_value=None, required=False, label="Delete my conversations"
    )

    class Meta:
        model = UserSettings
        fields = list(SETTINGS_FIELDS)
        widgets = {
            "theme": forms.RadioSelect,
            "custom_instructions": forms.Textarea(attrs={"rows": 6}),
        }
        labels = {
            "default_persona": "Persona for new chats",
            "default_model": "Model for new chats",
            "enter_to_send": "Enter sends the message (Shift+Enter adds a line)",
        }

    def __init__(self, *args, user, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        persona = self.fields["default_persona"]
        persona.queryset = persona_selectors.persona_list(user=user)
        persona.empty_label = "No persona"
        self.fields["theme"].choices = UserSettings.Theme.choices  # No blank choice.
        self.fields["default_model"].widget.attrs["list"] = "model-options"
        self.fields["custom_instructions"].help_text = (
            "Added after the persona's system prompt in every conversation, and shown under "
            f"each reply in “What was sent”. At most {UserSettings.MAX_INSTRUCTIONS:,} "
            "characters."
        )
        self.retention = deletion_selectors.retention_for(user=user)
        offered = list(self.retention.choices())
        chosen = self.instance.retention_days
        if chosen and chosen not in offered:  # Chosen before a shorter rule came: kept.
            offered.append(chosen)
        limit, whose = self.retention.limit, self.retention.limit_source
        rule = f"when untouched for {_days(limit)} ({whose})" if limit else "only when I do"
        field = self.fields["retention_days"]
        field.choices = [("", rule)] + [
            (days, f"when untouched for {_days(days)}") for days in sorted(offered)
        ]
        field.widget.attrs["aria-describedby"] = "retention-help"

    def clean_default_model(self) -> str:
        return usable_model(self.cleaned_data["default_model"], user_id=self.user.pk)


class ConfirmPasswordForm(forms.Form):
    """The account's password again, before something that cannot be undone; checked as
    a sign-in is, under the same throttle (login_throttle.password_confirmed)."""

    password = forms.CharField(
        label="Your password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    def __init__(self, *args, request: HttpRequest, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.request = request

    def clean_password(self) -> str:
        password = self.cleaned_data["password"]
        if not password_confirmed(request=self.request, password=password):
            raise forms.ValidationError("That is not your password.")
        return password


class ThrottledPasswordChangeForm(PasswordChangeForm):
    """Django's password change, its old password checked under the sign-in throttle."""

    def __init__(self, *args, request: HttpRequest, **kwargs) -> None:
        super().__init__(request.user, *args, **kwargs)
        self.request = request

    def clean_old_password(self) -> str:
        old_password = self.cleaned_data["old_password"]
        if not password_confirmed(request=self.request, password=old_password):
            raise forms.ValidationError(
                self.error_messages["password_incorrect"], code="password_incorrect"
            )
        return old_password


class DeleteAccountForm(ConfirmPasswordForm):
    """The password, and a tick that the user knows everything goes."""

    confirm = forms.BooleanField(
        label="I understand: my account, conversations, personas and settings are deleted for good."
    )
