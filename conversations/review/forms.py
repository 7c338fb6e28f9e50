"""Validation of what users and reviewers send: Django forms, also for JSON bodies."""

from django import forms

from .models import (
    COMMENT_MAX_CHARS,
    CORRECTION_MAX_CHARS,
    FEEDBACK_CATEGORIES,
    NOTE_MAX_CHARS,
    REPORT_CATEGORIES,
    Feedback,
    QueueItem,
)

ALL_FEEDBACK_CATEGORIES = sorted({name for names in FEEDBACK_CATEGORIES.values() for name in names})

# Fields for JSON bodies. Django's fields take whatever comes and make text of it with
# str(), fit for form posts, where everything is text: from JSON, a comment sent as an
# object would be stored as its Python repr. These refuse any other JSON type (null is
# the same as leaving the field out).


def _not_a_string(value) -> bool:
    return value is not None and not isinstance(value, str)


class JsonText(forms.CharField):
    def to_python(self, value):
        if _not_a_string(value):
            raise forms.ValidationError("Must be a string.", code="type")
        return super().to_python(value)


class JsonChoice(forms.ChoiceField):
    def to_python(self, value):
        if _not_a_string(value):
            raise forms.ValidationError("Must be a string.", code="type")
        return super().to_python(value)


class JsonChoices(forms.MultipleChoiceField):
    """A list of strings from the choices, each kept once (in the order first given)."""

    def to_python(self, value):
        if value is not None and not (
            isinstance(value, list) and all(isinstance(item, str) for item in value)
        ):
            raise forms.ValidationError("Must be a list of strings.", code="type")
        return list(dict.fromkeys(super().to_python(value)))


class FeedbackForm(forms.Form):
    rating = JsonChoice(choices=Feedback.Rating.choices)
    categories = JsonChoices(
        choices=[(name, name) for name in ALL_FEEDBACK_CATEGORIES], required=False
    )
    comment = JsonText(max_length=COMMENT_MAX_CHARS, required=False, strip=True)

    def clean(self):
        data = super().clean()
        rating, categories = data.get("rating"), data.get("categories") or []
        if rating:
            wrong = [c for c in categories if c not in FEEDBACK_CATEGORIES[rating]]
            if wrong:
                self.add_error("categories", f"Not categories of a thumbs {rating}: {wrong}.")
        return data


class ReportForm(forms.Form):
    categories = JsonChoices(choices=list(REPORT_CATEGORIES.items()), required=False)
    comment = JsonText(max_length=COMMENT_MAX_CHARS, required=False, strip=True)

    def clean(self):
        data = super().clean()
        if not data.get("categories") and not data.get("comment"):
            raise forms.ValidationError("Say what is wrong: a category or a comment.")
        return data


class NoteForm(forms.Form):
    text = forms.CharField(max_length=NOTE_MAX_CHARS, strip=True, widget=forms.Textarea)


class CorrectionForm(forms.Form):
    content = forms.CharField(max_length=CORRECTION_MAX_CHARS, strip=False, widget=forms.Textarea)

    def clean_content(self) -> str:
        content = self.cleaned_data["content"]
        if not content.strip():
            raise forms.ValidationError("Write what the reply should have said.")
        return content


class QueueStatusForm(forms.Form):
    status = forms.ChoiceField(choices=QueueItem.Status.choices)
    note = forms.CharField(max_length=NOTE_MAX_CHARS, required=False, strip=True)
