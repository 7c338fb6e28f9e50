"""Reads of the model catalog staff keep (ModelInfo rows)."""

from .models import ModelInfo


def model_info_all(*, limit: int) -> dict[str, ModelInfo]:
    """Every model row staff may have edited (at most `limit`), by model id."""
    return {row.model_id: row for row in ModelInfo.objects.order_by("pk")[:limit]}


def model_info_get(*, model_id: str) -> ModelInfo | None:
    """Staff's row for a model, if there is one."""
    return ModelInfo.objects.filter(model_id=model_id).first()


def model_info_by_id(*, model_ids: list[str]) -> dict[str, ModelInfo]:
    """Staff's rows for these models, by model id."""
    return {row.model_id: row for row in ModelInfo.objects.filter(model_id__in=model_ids)}
