"""Agreement between reviewers, per score config: Krippendorff's alpha.

Alpha is computed by the `krippendorff` package (fast-krippendorff, pinned in
requirements.txt): nominal for categories and yes/no, interval for numbers. Units are
replies, coders are reviewers, and a reviewer who did not score a reply is missing data.
Only replies scored by at least two reviewers count; below two such replies there is not
enough data. The work is bounded: at most the newest CHAT_AGREEMENT_MAX_SCORES scores of
each config are read (the page says when that cut some off).
"""

import datetime as dt
import math
from dataclasses import dataclass

import krippendorff
import numpy as np
from django import forms
from django.conf import settings
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.urls import reverse
from django.views.decorators.http import require_GET

from . import permissions, selectors
from .admin_pages import admin_page, reviewer_view
from .models import ScoreConfig

# A reliability matrix larger than this many cells (8 bytes each) is built with one row
# per place in a unit instead of one per reviewer: alpha reads only which values share a
# unit, so it is the same, and the matrix is then at most (most reviewers of one reply)
# times (replies) cells.
MAX_MATRIX_CELLS = 4_000_000

Row = tuple[int, int, float | None, str]  # reply id, reviewer id, value, category


@dataclass(frozen=True)
class Agreement:
    config: ScoreConfig
    level: str  # "nominal" or "interval"
    units: int  # Replies scored by at least two reviewers.
    reviews: int  # Their scores.
    reviewers: int
    alpha: float | None  # None: not enough data, or every score the same.
    why_none: str
    truncated: bool  # The newest CHAT_AGREEMENT_MAX_SCORES scores were read, not all.
    disagreements_url: str


def level_of(config: ScoreConfig) -> str:
    return "interval" if config.kind == ScoreConfig.Kind.NUMERIC else "nominal"


def reliability_matrix(
    *, config: ScoreConfig, rows: list[Row], max_cells: int = MAX_MATRIX_CELLS
) -> np.ndarray:
    """Coders (reviewers) by units (replies), NaN where a reviewer did not score a reply.

    Categories become their place among the config's categories (nominal alpha only asks
    whether two are the same). Past `max_cells`, rows are places within a unit instead of
    reviewers, which gives the same alpha in far less memory.
    """
    units = {message_id: i for i, message_id in enumerate(dict.fromkeys(r[0] for r in rows))}
    reviewers = {author: i for i, author in enumerate(dict.fromkeys(r[1] for r in rows))}
    codes = {name: float(i) for i, name in enumerate(config.categories or [])}

    def number(value: float | None, category: str) -> float:
        if config.kind == ScoreConfig.Kind.CATEGORICAL:
            # A category since removed from the config still differs from the others.
            return codes.setdefault(category, float(len(codes)))
        return math.nan if value is None else float(value)

    if len(reviewers) * len(units) <= max_cells:
        matrix = np.full((len(reviewers), len(units)), np.nan)
        for message_id, author, value, category in rows:
            matrix[reviewers[author], units[message_id]] = number(value, category)
        return matrix
    places = [0] * len(units)
    for message_id, *_ in rows:
        places[units[message_id]] += 1
    matrix = np.full((max(places, default=0), len(units)), np.nan)
    places = [0] * len(units)
    for message_id, _, value, category in rows:
        unit = units[message_id]
        matrix[places[unit], unit] = number(value, category)
        places[unit] += 1
    return matrix


def alpha_of(
    *, config: ScoreConfig, rows: list[Row], max_cells: int = MAX_MATRIX_CELLS
) -> tuple[float | None, str]:
    """(alpha or None, why it is None) over these scores, for replies with two or more."""
    units = {r[0] for r in rows}
    if len(units) < 2:
        return None, "Not enough data: fewer than two replies scored by two or more reviewers."
    matrix = reliability_matrix(config=config, rows=rows, max_cells=max_cells)
    values = matrix[~np.isnan(matrix)]
    if np.unique(values).size < 2:
        # Alpha is 1 - observed / expected disagreement, and nothing varied to expect any.
        return None, "Not defined: every score is the same."
    return float(
        krippendorff.alpha(reliability_data=matrix, level_of_measurement=level_of(config))
    ), ""


def agreement(*, config: ScoreConfig, since: dt.date | None, until: dt.date | None) -> Agreement:
    limit = settings.CHAT_AGREEMENT_MAX_SCORES
    rows, truncated = selectors.agreement_scores(
        config=config, since=since, until=until, limit=limit
    )
    value, why = alpha_of(config=config, rows=rows)
    queue = reverse("admin:review_queueitem_changelist")
    return Agreement(
        config=config,
        level=level_of(config),
        units=len({r[0] for r in rows}),
        reviews=len(rows),
        reviewers=len({r[1] for r in rows}),
        alpha=value,
        why_none=why,
        truncated=truncated,
        disagreements_url=f"{queue}?disagree={config.pk}",
    )


class PeriodForm(forms.Form):
    since = forms.DateField(
        required=False, label="Scored from", widget=forms.DateInput({"type": "date"})
    )
    until = forms.DateField(required=False, label="to", widget=forms.DateInput({"type": "date"}))


@reviewer_view(permissions.can_see_dashboard)
@require_GET
def agreement_view(request: HttpRequest) -> TemplateResponse:
    """Krippendorff's alpha for each active config, optionally within dates (?since, until)."""
    form = PeriodForm(request.GET)
    period = form.cleaned_data if form.is_valid() else {"since": None, "until": None}
    rows = [
        agreement(config=config, since=period["since"], until=period["until"])
        for config in selectors.agreement_configs()
    ]
    return admin_page(
        request,
        "admin/review/agreement.html",
        {
            "title": "Agreement between reviewers",
            "form": form,
            "rows": rows,
            "max_scores": settings.CHAT_AGREEMENT_MAX_SCORES,
            # A report page: the admin's model list beside it only narrows it on a phone.
            "is_nav_sidebar_enabled": False,
        },
    )
