"""A file a user attached: its stored bytes, what was read from it, and the messages that
carry it."""

import uuid

from django.conf import settings
from django.core.files.storage import Storage, storages
from django.db import models


def file_storage() -> Storage:
    """The storage files are kept in (settings.CHAT_FILES_STORAGE names one of STORAGES).
    The field takes it once, at import; the services ask for it each time, so a changed
    setting (another folder) applies to every read and write."""
    return storages[settings.CHAT_FILES_STORAGE]


def stored_name(attachment: "Attachment", filename: str) -> str:
    """Where the bytes go: the owner's folder and the attachment's id, never the name the
    user gave (which is kept, sanitised, in `name` and used only for downloads)."""
    return f"{attachment.owner_id}/{attachment.id.hex}"


class Attachment(models.Model):
    """A file uploaded by its owner; sent with the user messages in `messages` (none yet:
    not sent). An edit or a branch carries the same rows, never copies."""

    class Kind(models.TextChoices):
        TEXT = "text"
        IMAGE = "image"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="attachments"
    )
    kind = models.CharField(max_length=8, choices=Kind.choices)
    name = models.CharField(max_length=200, help_text="Sanitised file name.")
    content_type = models.CharField(max_length=100, help_text="As detected from the content.")
    size = models.PositiveBigIntegerField(help_text="Bytes stored.")
    file = models.FileField(storage=file_storage, upload_to=stored_name, max_length=300)
    text = models.TextField(blank=True, help_text="The extracted text (blank for images).")
    tokens = models.PositiveIntegerField(default=0, help_text="Estimated tokens when sent.")
    pages = models.PositiveIntegerField(null=True, blank=True)
    note = models.CharField(max_length=300, blank=True)
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    sha256 = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    messages = models.ManyToManyField("Message", related_name="attachments", blank=True)

    class Meta:
        ordering = ["created_at"]
        indexes = [models.Index(fields=["owner", "created_at"], name="attachment_owner_recent")]

    def __str__(self) -> str:
        return self.name
