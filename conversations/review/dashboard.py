"""The review dashboard: activity, errors, speed and satisfaction per day, from the rollups.

It reads the daily rollups (kept by stats.py, read by selectors/dashboard.py), never the
message table, so it costs the same at a million messages as at a thousand: a fixed dozen
aggregate queries (bench/bench_dashboard.py).
"""

import datetime as dt

from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.views.decorators.http import require_GET

from . import charts, permissions, selectors, stats
from .admin_pages import admin_page, reviewer_view

PERIODS = (7, 30, 90)
TOP_MODELS_IN_CHART = 5
NONE = "\N{EN DASH}"


def _days(since: dt.date, until: dt.date) -> list[dt.date]:
    return [since + dt.timedelta(days=i) for i in range((until - since).days + 1)]


def data(*, days: int, user) -> dict:
    """Everything the dashboard shows for the last `days` days (today included)."""
    until = stats._today()
    since = until - dt.timedelta(days=days - 1)
    calendar = _days(since, until)
    labels = [d.strftime("%m-%d") for d in calendar]
    per_day = selectors.daily_totals(since=since, until=until)
    tokens = selectors.daily_tokens_by_model(since=since, until=until)
    active = selectors.daily_active_users(since=since, until=until)
    active_total = selectors.active_user_total(since=since, until=until)
    histograms = selectors.daily_latency(since=since, until=until)
    ratings = selectors.daily_ratings(since=since)
    top_personas = selectors.top_personas(since=since, until=until)
    top_models = selectors.top_models(since=since, until=until)

    def series(key: str) -> list[float]:
        return [(per_day.get(d) or {}).get(key) or 0 for d in calendar]

    replies, errors = series("replies"), series("errors")
    # Replies, tool results and notes, plus users' own messages.
    messages = [
        m + ((active.get(d) or {}).get("messages") or 0)
        for m, d in zip(series("messages"), calendar, strict=True)
    ]
    error_rate = [
        round(100 * e / r, 1) if r else None for e, r in zip(errors, replies, strict=True)
    ]
    p50 = [stats.percentile(histograms.get(d, []), 0.5) for d in calendar]
    p95 = [stats.percentile(histograms.get(d, []), 0.95) for d in calendar]
    all_latency = [pair for h in histograms.values() for pair in h]
    up_share = [
        round(100 * ratings[d]["up"] / ratings[d]["total"], 1) if d in ratings else None
        for d in calendar
    ]
    ranked = sorted(tokens, key=lambda m: -sum(tokens[m].values()))
    token_series = [
        charts.Series(m, [tokens[m].get(d, 0) for d in calendar])
        for m in ranked[:TOP_MODELS_IN_CHART]
    ]
    if len(ranked) > TOP_MODELS_IN_CHART:
        rest = ranked[TOP_MODELS_IN_CHART:]
        token_series.append(
            charts.Series(
                f"{len(rest)} other models",
                [sum(tokens[m].get(d, 0) for m in rest) for d in calendar],
            )
        )
    total_ratings = sum(r["total"] for r in ratings.values())
    return {
        "days": days,
        "since": since,
        "until": until,
        "cards": [
            ("Messages", f"{sum(messages):,}"),
            ("Active users", f"{active_total:,}"),
            ("Replies", f"{sum(replies):,}"),
            (
                "Error rate",
                f"{100 * sum(errors) / sum(replies):.1f}%" if sum(replies) else NONE,
            ),
            ("First token p50", _ms(stats.percentile(all_latency, 0.5))),
            ("First token p95", _ms(stats.percentile(all_latency, 0.95))),
            (
                "Thumbs up",
                f"{100 * sum(r['up'] for r in ratings.values()) / total_ratings:.0f}% of {total_ratings:,}"
                if total_ratings
                else NONE,
            ),
        ],
        "charts": [
            charts.bars(
                "Messages per day", labels, [charts.Series("messages", series("messages"))]
            ),
            charts.bars(
                "Active users per day",
                labels,
                [
                    charts.Series(
                        "active users", [(active.get(d) or {}).get("users", 0) for d in calendar]
                    )
                ],
            ),
            charts.bars("Tokens per day, by model", labels, token_series),
            charts.lines(
                "Error rate per day",
                labels,
                [charts.Series("error rate", error_rate)],
                unit="%",
                top=100 if max((r or 0 for r in error_rate), default=0) > 20 else 20,
            ),
            charts.lines(
                "Time to first token per day",
                labels,
                [charts.Series("p50", p50), charts.Series("p95", p95)],
                unit=" ms",
            ),
            charts.lines(
                "Thumbs-up share per day",
                labels,
                [charts.Series("thumbs up", up_share)],
                unit="%",
                top=100,
            ),
        ],
        "top_personas": top_personas,
        "top_models": top_models,
        "queue": selectors.queue_counts(user=user),
    }


def _ms(value: int | None) -> str:
    return f"≤ {value:,} ms" if value is not None else NONE


@reviewer_view(permissions.can_see_dashboard)
@require_GET
def dashboard_view(request: HttpRequest) -> TemplateResponse:
    """The dashboard for the last 7, 30 or 90 days (?days=…, default 30)."""
    try:
        days = int(request.GET.get("days", 30))
    except ValueError:
        days = 30
    days = days if days in PERIODS else 30
    stats.flush()  # Counts this process holds in memory go in first.
    return admin_page(
        request,
        "admin/review/dashboard.html",
        {"title": "Review dashboard", "d": data(days=days, user=request.user), "periods": PERIODS},
    )
