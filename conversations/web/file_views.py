"""Files in a conversation over HTTP: upload, remove an unsent one, download and view.

Uploads stream to a temporary file on disk (never held whole in memory), capped as they
are read; the file is then read in a worker (conversations/files/) and stored. Every
answer about a file that is not the asker's is the same 404 as for a missing id.
"""

import asyncio
import tempfile

from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.files.uploadhandler import StopUpload, TemporaryFileUploadHandler
from django.http import FileResponse, HttpRequest, HttpResponse, JsonResponse
from django.utils.http import content_disposition_header
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_http_methods

from .. import hooks
from ..chat import budget
from ..files import selectors as file_selectors
from ..files import services as file_services
from ..files.models import Attachment
from ..limits.http import rate_limit
from ..limits.rate_limits import READS, WRITES
from ..provider import catalog


class CappedUpload(TemporaryFileUploadHandler):
    """Django's handler that writes an upload to a temporary file, stopping the upload as
    soon as it passes CHAT_MAX_FILE_BYTES (the server's body cap is the first line)."""

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes | None:
        if start + len(raw_data) > settings.CHAT_MAX_FILE_BYTES:
            self.too_large = True
            raise StopUpload(connection_reset=True)
        return super().receive_data_chunk(raw_data, start)


def _error(message: str, status: int = 400) -> JsonResponse:
    return JsonResponse({"error": message}, status=status)


def _not_found() -> JsonResponse:
    return _error("That file does not exist.", 404)


@csrf_exempt  # Checked below, once the upload handlers are set (Django's documented way).
@require_http_methods(["POST"])
async def upload(request: HttpRequest) -> HttpResponse:
    """POST /api/files: one file in the multipart field `file`, and optionally `model`
    (the conversation's, for the window check) -> 201 with the attachment, or 400/413
    with `error` in words fit to show.

    Async, so a file being read (up to CHAT_FILE_TIMEOUT) holds no thread that other
    requests need: Django runs sync views on one shared thread.
    """
    handler = CappedUpload(request)
    handler.too_large = False
    request.upload_handlers = [handler]
    return await _upload(request, handler)


@csrf_protect
@rate_limit(WRITES, json=True)
async def _upload(request: HttpRequest, handler: CappedUpload) -> HttpResponse:
    user = await request.auser()
    if not user.is_authenticated:
        return _error("Sign in first.", 401)
    # Parsing writes the file to a temporary file on disk: off the event loop.
    files, model = await asyncio.to_thread(_parsed, request)
    if handler.too_large:
        return _error(f"Files may be at most {settings.CHAT_MAX_FILE_BYTES:,} bytes.", status=413)
    if len(files) != 1:
        return _error("Send one file, in the field 'file'.")
    uploaded = files[0]
    try:
        with tempfile.TemporaryDirectory(prefix="chat-upload-") as folder:
            name, room = await _in_request_thread(_checked)(user, uploaded, model)
            attachment, stored_path = await asyncio.to_thread(
                file_services.upload_read,
                user=user,
                path=uploaded.temporary_file_path(),
                name=name,
                folder=folder,
                count_tokens=budget.count_tokens,
                max_tokens=room,
            )
            attachment = await _in_request_thread(file_services.upload_store)(
                attachment=attachment, stored_path=stored_path
            )
    except file_services.FileRefused as refused:
        return _error(refused.message, refused.status)
    finally:
        uploaded.close()
    data = file_selectors.attachment_data(attachment) | {"tokens": attachment.tokens}
    return JsonResponse(data, status=201)


def _in_request_thread(function):
    """The database work of a request, on the thread Django gives sync code (its
    connection is the request's, closed by Django when the request ends; channels'
    wrapper would close it in the middle)."""
    return sync_to_async(function, thread_sensitive=True)


def _parsed(request: HttpRequest) -> tuple[list, str]:
    files = request.FILES.getlist("file") if list(request.FILES) == ["file"] else []
    return files, (request.POST.get("model") or settings.LLM_DEFAULT_MODEL)[:200]


def _checked(user, uploaded, model: str) -> tuple[str, int]:
    """The upload's bounds before it is read (its sanitised name), and the room the
    model's window leaves for it beside the reply."""
    name = file_services.upload_check(user=user, name=uploaded.name or "", size=uploaded.size)
    window = catalog.model_info(model).context_window
    return name, window - budget.reply_reserve(max_tokens=None, window=window)


@require_http_methods(["DELETE"])
@rate_limit(WRITES, json=True)
def remove(request: HttpRequest, attachment_id: str) -> HttpResponse:
    """DELETE /api/files/<id>: the user's own unsent file -> 204; else 404."""
    if not request.user.is_authenticated:
        return _error("Sign in first.", 401)
    if not file_services.attachment_delete(user=request.user, attachment_id=attachment_id):
        return _not_found()
    return HttpResponse(status=204)


@login_required
@require_GET
@rate_limit(READS)
def download(request: HttpRequest, attachment_id: str) -> HttpResponse:
    """GET /files/<id>: the stored bytes, as a download."""
    return _serve(request, attachment_id, inline=False)


@login_required
@require_GET
@rate_limit(READS)
def view(request: HttpRequest, attachment_id: str) -> HttpResponse:
    """GET /files/<id>/view: an image, shown inline (thumbnails); anything else 404."""
    return _serve(request, attachment_id, inline=True)


def _serve(request: HttpRequest, attachment_id: str, *, inline: bool) -> HttpResponse:
    attachment = _readable(request, attachment_id)
    if attachment is None or (inline and attachment.kind != Attachment.Kind.IMAGE):
        return _not_found()
    response = attachment_response(attachment, inline=inline)
    if response is None:
        return _not_found()
    response["Content-Security-Policy"] = "sandbox"
    response["Cache-Control"] = "private, no-store"
    return response


def attachment_response(attachment: Attachment, *, inline: bool) -> FileResponse | None:
    """A stored file as it goes out, to its owner or through a share link: its served type,
    length, a sanitised name for saving (inline only for images), `nosniff`; None when its
    bytes cannot be read. The caller adds its own cache and CSP headers."""
    try:
        stored = file_selectors.attachment_open(attachment)
    except OSError:
        return None
    response = FileResponse(stored, content_type=_served_type(attachment))
    response["Content-Length"] = str(attachment.size)
    response["Content-Disposition"] = content_disposition_header(
        as_attachment=not inline, filename=attachment.name
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response


def _served_type(attachment: Attachment) -> str:
    if attachment.kind == Attachment.Kind.IMAGE:
        return attachment.content_type
    if attachment.content_type == "application/pdf":
        return "application/pdf"
    # Text of any kind goes out as plain text: never HTML a browser would run.
    return "text/plain; charset=utf-8"


def _readable(request: HttpRequest, attachment_id: str) -> Attachment | None:
    """The attachment when this user may read it: theirs, or a receiver of the hook lets
    them (and records it); else None."""
    attachment = file_selectors.attachment_own(user=request.user, attachment_id=attachment_id)
    if attachment is not None:
        return attachment
    found = file_selectors.attachment_anyones(attachment_id=attachment_id)
    if found is None:
        return None
    attachment, conversations = found
    if not conversations:
        return None
    allowed = hooks.may_see_file(
        user=request.user, attachment=attachment, conversations=conversations, request=request
    )
    return attachment if allowed else None
