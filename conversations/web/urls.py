from django.urls import path

from ..sharing.urls import urlpatterns as sharing_urls
from . import file_views, health, persona_views, prompt_views, settings_views, views

urlpatterns = [
    path("", views.chat, name="chat"),
    path("conversations/<int:conversation_id>/", views.chat, name="conversation"),
    path("conversations/<int:conversation_id>/export.json", views.export_json, name="export-json"),
    path("conversations/<int:conversation_id>/export.md", views.export_markdown, name="export-md"),
    path("conversations/<int:conversation_id>/export.zip", views.export_zip, name="export-zip"),
    path("conversations.json", views.conversations_json, name="conversations-json"),
    path("export/all.json", views.export_all, name="export-all"),
    path("export/all.zip", views.export_all_zip, name="export-all-zip"),
    path("import/", views.import_conversations, name="import"),
    path("search.json", views.search_json, name="search-json"),
    path("models.json", views.models_json, name="models-json"),
    path("highlight.css", views.highlight_css, name="highlight-css"),
    path("api/files", file_views.upload, name="file-upload"),
    path("api/files/<str:attachment_id>", file_views.remove, name="file-remove"),
    path("files/<str:attachment_id>", file_views.download, name="file-download"),
    path("files/<str:attachment_id>/view", file_views.view, name="file-view"),
    path("healthz", health.healthz, name="healthz"),
    path("accounts/signup/", views.signup, name="signup"),
    path("settings/", settings_views.settings_page, name="settings"),
    path("settings/password/", settings_views.change_password, name="settings-password"),
    path(
        "settings/sign-out-everywhere/",
        settings_views.sign_out_everywhere,
        name="settings-sign-out-everywhere",
    ),
    path("settings/delete-account/", settings_views.delete_account, name="settings-delete"),
    path("personas/", persona_views.persona_list, name="personas"),
    path("personas/new/", persona_views.persona_create, name="persona-create"),
    path("personas/<int:persona_id>/edit/", persona_views.persona_edit, name="persona-edit"),
    path(
        "personas/<int:persona_id>/duplicate/",
        persona_views.persona_duplicate,
        name="persona-duplicate",
    ),
    path("personas/<int:persona_id>/delete/", persona_views.persona_delete, name="persona-delete"),
    path("prompts/", prompt_views.prompt_list, name="prompts"),
    path("prompts/new/", prompt_views.prompt_create, name="prompt-create"),
    path("prompts/<int:prompt_id>/edit/", prompt_views.prompt_edit, name="prompt-edit"),
    path("prompts/<int:prompt_id>/delete/", prompt_views.prompt_delete, name="prompt-delete"),
    path("prompts.json", prompt_views.prompts_json, name="prompts-json"),
    *sharing_urls,
]
