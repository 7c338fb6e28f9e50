"""Agreement between reviewers (review/agreement.py): Krippendorff's alpha from Score rows,
checked against the published worked example, and the page staff read it on."""

import numpy as np
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from conversations.review import agreement, selectors
from conversations.review import services as review
from conversations.review.models import Score, ScoreConfig
from tests.review.builders import chat, config, grant

pytestmark = pytest.mark.django_db
PAGE = "/admin/review/agreement/"

# Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", section C: four
# observers, twelve units, values 1 to 5, None where an observer gave none. The paper
# gives alpha = 0.743 nominal and 0.849 interval (0.815 ordinal, 0.797 ratio); the
# krippendorff package's own tests reproduce the ordinal and ratio figures on this data.
PUBLISHED = {
    "A": [1, 2, 3, 3, 2, 1, 4, 1, 2, None, None, None],
    "B": [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, None, 3],
    "C": [None, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, None],
    "D": [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, None],
}
LETTERS = ["a", "b", "c", "d", "e"]  # 1 to 5 as categories, for the nominal figure.


@pytest.fixture
def published(user, django_user_model):
    """The example as Score rows: a reply per unit, a reviewer per observer, the values
    scored on a numeric config (1 to 5) and, as letters, on a categorical one."""
    numeric = ScoreConfig.objects.create(
        name="grade", kind="numeric", min_value=1, max_value=5, reviews_required=4
    )
    nominal = ScoreConfig.objects.create(
        name="label", kind="categorical", categories=LETTERS, reviews_required=4
    )
    replies = list(
        chat(user, turns=12).messages.filter(role="assistant").order_by("id")
    )  # The twelve units.
    for name, values in PUBLISHED.items():
        author = django_user_model.objects.create_user(username=f"observer-{name}")
        for message, value in zip(replies, values, strict=True):
            if value is None:
                continue
            Score.objects.create(
                config=numeric,
                conversation=message.conversation,
                message=message,
                author=author,
                value=value,
            )
            Score.objects.create(
                config=nominal,
                conversation=message.conversation,
                message=message,
                author=author,
                category=LETTERS[value - 1],
            )
    return numeric, nominal


def rows_of(scored: ScoreConfig):
    rows, _ = selectors.agreement_scores(config=scored, since=None, until=None, limit=1000)
    return rows


def test_the_published_example_from_score_rows(published):
    numeric, nominal = published
    interval_alpha, _ = agreement.alpha_of(config=numeric, rows=rows_of(numeric))
    nominal_alpha, _ = agreement.alpha_of(config=nominal, rows=rows_of(nominal))
    assert round(interval_alpha, 3) == 0.849
    assert round(nominal_alpha, 3) == 0.743
    # Unit 12 has one observer only: it is left out, and alpha is the same without it.
    matrix = agreement.reliability_matrix(config=numeric, rows=rows_of(numeric))
    assert matrix.shape == (4, 11)
    assert int((~np.isnan(matrix)).sum()) == 40
    # Past the cell bound, one row per place in a unit instead of per reviewer: same alpha.
    packed = agreement.reliability_matrix(config=numeric, rows=rows_of(numeric), max_cells=10)
    assert packed.shape == (4, 11)
    for scored, figure in ((numeric, 0.849), (nominal, 0.743)):
        value, _ = agreement.alpha_of(config=scored, rows=rows_of(scored), max_cells=10)
        assert round(value, 3) == figure


def test_not_enough_data_below_two_replies_and_none_when_all_agree(user, reviewer, boss):
    helpfulness = config("helpfulness")
    first, second = chat(user, turns=2).messages.filter(role="assistant").order_by("id")
    for author in (reviewer, boss):
        review.score_set(author=author, message=first, config=helpfulness, raw="4")
    value, why = agreement.alpha_of(config=helpfulness, rows=rows_of(helpfulness))
    assert value is None and why.startswith("Not enough data")
    for author in (reviewer, boss):
        review.score_set(author=author, message=second, config=helpfulness, raw="4")
    value, why = agreement.alpha_of(config=helpfulness, rows=rows_of(helpfulness))
    assert value is None and why == "Not defined: every score is the same."
    review.score_set(author=boss, message=second, config=helpfulness, raw="1")
    value, why = agreement.alpha_of(config=helpfulness, rows=rows_of(helpfulness))
    # Values 4, 4, 4 and 1, the 1 beside a 4: disagreement no less than chance.
    assert value == pytest.approx(0.0) and why == ""


def test_the_page_shows_alpha_per_config_with_its_counts(client, reviewer, published):
    client.force_login(reviewer)
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(PAGE)
    assert response.status_code == 200
    page = response.content.decode()
    by_name = {row.config.name: row for row in response.context["rows"]}
    grade, label = by_name["grade"], by_name["label"]
    assert (grade.units, grade.reviews, grade.reviewers, grade.level) == (11, 40, 4, "interval")
    assert round(grade.alpha, 3) == 0.849 and round(label.alpha, 3) == 0.743
    assert label.level == "nominal" and not grade.truncated
    assert ">0.849<" in page and ">0.743<" in page
    assert page.count("Not enough data") == 3  # The three starter configs have no scores.
    assert f'href="/admin/review/queueitem/?disagree={grade.config.pk}"' in page
    # A query per config, whatever the number of scores.
    assert len(ctx.captured_queries) <= 2 * len(by_name) + 12
    assert "<script" not in page.split('id="content-main"')[1]


def test_the_page_filters_by_date_and_says_when_scores_were_cut(
    client, reviewer, published, settings
):
    client.force_login(reviewer)
    rows = client.get(PAGE, {"until": "2000-01-01"}).context["rows"]
    assert all(row.units == 0 and row.alpha is None for row in rows)
    rows = client.get(PAGE, {"since": "2000-01-01"}).context["rows"]
    assert {row.config.name: row.units for row in rows}["grade"] == 11
    assert client.get(PAGE, {"since": "bogus"}).status_code == 200
    settings.CHAT_AGREEMENT_MAX_SCORES = 20
    response = client.get(PAGE)
    grade = {row.config.name: row for row in response.context["rows"]}["grade"]
    assert grade.truncated and grade.reviews <= 20
    assert "From the newest 20 scores only." in response.content.decode()


def test_only_staff_with_the_dashboard_permission_see_it(client, user, staff, reviewer, boss):
    assert client.get(PAGE).status_code == 302  # To the admin's sign-in.
    client.force_login(user)
    assert client.get(PAGE).status_code == 302  # Not staff: the admin's sign-in too.
    client.force_login(staff)
    assert client.get(PAGE).status_code == 403
    grant(staff, "review_conversations")  # Review rights, but not the dashboard's.
    assert client.get(PAGE).status_code == 403
    grant(staff, "view_dashboard")
    staff = type(staff).objects.get(pk=staff.pk)  # Permissions are cached per instance.
    client.force_login(staff)
    assert client.get(PAGE).status_code == 200
    for account in (reviewer, boss):
        client.force_login(account)
        assert client.get(PAGE).status_code == 200
        index = client.get("/admin/").content.decode()
        assert 'href="/admin/review/agreement/"' in index
        assert (
            'href="/admin/review/agreement/"'
            in client.get("/admin/review/dashboard/").content.decode()
        )
    assert client.post(PAGE).status_code == 405
