"""Making attachments for tests through the real upload service (and its worker)."""

from pathlib import Path

from conversations.chat import budget
from conversations.files import services


def attach(user, name: str, data: bytes, tmp_path: Path, **options):
    """An upload of `data` as `name` by `user`, through the service."""
    path = tmp_path / f"upload-{len(list(tmp_path.iterdir()))}"
    path.write_bytes(data)
    return services.attachment_upload(
        user=user,
        path=str(path),
        name=name,
        size=len(data),
        count_tokens=budget.count_tokens,
        **options,
    )
