"""Reads of the model rows staff keep: all of them up to a bound, one, or several by id."""

import pytest

from conversations.catalog import selectors
from conversations.catalog.models import ModelInfo

pytestmark = pytest.mark.django_db


@pytest.fixture
def rows():
    ModelInfo.objects.all().delete()  # Rows the data migrations or a sync made.
    return [
        ModelInfo.objects.create(model_id=model_id, enabled=model_id != "off/model")
        for model_id in ("a/model", "b/model", "off/model")
    ]


def test_every_row_by_model_id_up_to_the_bound(rows):
    assert list(selectors.model_info_all(limit=10)) == ["a/model", "b/model", "off/model"]
    assert list(selectors.model_info_all(limit=2)) == ["a/model", "b/model"]  # Oldest first.


def test_one_row_or_none(rows):
    assert selectors.model_info_get(model_id="off/model").enabled is False
    assert selectors.model_info_get(model_id="unknown/model") is None


def test_rows_of_the_models_asked_for(rows):
    found = selectors.model_info_by_id(model_ids=["b/model", "unknown/model", "a/model"])
    assert sorted(found) == ["a/model", "b/model"]
    assert found["b/model"] == rows[1]
