"""The leaderboard page: its filter form, the table, and the page for every signed-in user
when CHAT_LEADERBOARD_PUBLIC is on (staff's page in the admin is review/leaderboard.py)."""

import hashlib

from django import forms
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from ..limits.http import rate_limit
from ..limits.rate_limits import READS
from . import leaderboard, leaderboard_selectors

ANY = ("", "Any")
# A fit of 50,000 choices among 200 models takes seconds: each process keeps a table
# until a choice is made or changed (or this long, for a persona renamed or deleted).
CACHE_SECONDS = 600


class LeaderboardForm(forms.Form):
    """The filters, from the query string. `viewer_id` None: staff's, across users."""

    persona = forms.ChoiceField(required=False)
    tag = forms.ChoiceField(required=False)
    project = forms.ChoiceField(required=False)
    since = forms.DateField(required=False, label="From", widget=forms.DateInput({"type": "date"}))
    until = forms.DateField(required=False, label="To", widget=forms.DateInput({"type": "date"}))
    blind_only = forms.BooleanField(required=False, label="Blind choices only")

    def __init__(self, data, *, viewer_id: int | None) -> None:
        super().__init__(data)
        self.viewer_id = viewer_id
        personas = leaderboard_selectors.persona_options(viewer_id=viewer_id)
        projects = leaderboard_selectors.project_options(viewer_id=viewer_id)
        self.fields["persona"].choices = [ANY, *((name, name) for name in personas)]
        self.fields["tag"].choices = [ANY, *leaderboard_selectors.tag_options(viewer_id=viewer_id)]
        self.fields["project"].choices = [ANY, *((name, name) for name in projects)]
        if viewer_id is not None:
            self.fields["tag"].label = "Your tag"
            self.fields["project"].label = "Your project"

    def filters(self) -> leaderboard_selectors.Filters:
        if not self.is_valid():
            return leaderboard_selectors.Filters()
        data = self.cleaned_data
        return leaderboard_selectors.Filters(
            persona=data["persona"],
            tag=data["tag"],
            project=data["project"],
            since=data["since"],
            until=data["until"],
            blind_only=data["blind_only"],
        )


def board(request: HttpRequest, *, viewer_id: int | None) -> dict:
    """The form and the table for this request's filters."""
    form = LeaderboardForm(request.GET or None, viewer_id=viewer_id)
    filters = form.filters()
    limit = settings.CHAT_LEADERBOARD_MAX_PREFERENCES
    rounds = settings.CHAT_LEADERBOARD_BOOTSTRAP_ROUNDS
    stamp = leaderboard_selectors.choices_stamp(filters=filters, viewer_id=viewer_id)
    described = repr((filters, viewer_id, stamp, limit, rounds)).encode()
    key = f"leaderboard:{hashlib.sha256(described).hexdigest()}"
    fitted = cache.get(key)
    if fitted is None:
        choices = leaderboard_selectors.choices(filters=filters, viewer_id=viewer_id, limit=limit)
        fitted = (leaderboard.standings(choices, rounds=rounds), len(choices))
        cache.set(key, fitted, CACHE_SECONDS)
    standings, counted = fitted
    return {
        "form": form,
        "standings": standings,
        "choices": counted,
        "limit": limit,
        "at_limit": counted >= limit,
        "rounds": rounds,
        "max_contestants": leaderboard.MAX_CONTESTANTS,
        "few": leaderboard.FEW,
    }


@login_required
@rate_limit(READS)
@require_GET
def leaderboard_view(request: HttpRequest) -> HttpResponse:
    """Every signed-in user's leaderboard; 404 unless CHAT_LEADERBOARD_PUBLIC is on."""
    if not settings.CHAT_LEADERBOARD_PUBLIC:
        raise Http404("No such page.")
    return render(
        request,
        "compare/leaderboard.html",
        {"title": "Leaderboard", **board(request, viewer_id=request.user.pk)},
    )
