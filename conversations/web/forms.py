from django import forms
from django.contrib.auth.forms import UserCreationForm

from ..chat.assembly import TOOL_CHOICES
from ..errors import TurnRefused
from ..models import Persona
from ..provider import availability
from ..services import PERSONA_FIELDS
from ..tools import registry


class SignupForm(UserCreationForm):
    """Username and password twice; the account is made by services.user_create."""


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

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        names = sorted(registry.REGISTRY)
        self.fields["tools"].choices = [(n, n) for n in names]
        self.fields["tool_choice"].choices = [(c, c) for c in TOOL_CHOICES] + [
            (n, f"always call {n}") for n in names
        ]
        self.fields["model"].help_text = "Blank: the chat's model picker decides."
        self.fields["model"].widget.attrs["list"] = "model-options"

    def clean_model(self) -> str:
        """A model the server would refuse (unknown, or turned off by staff) is no choice."""
        model = self.cleaned_data["model"].strip()
        if model:
            try:
                availability.policy().check_chosen(model)
            except TurnRefused as exc:
                raise forms.ValidationError(exc.message) from None
        return model
