from django.urls import path

from . import views

urlpatterns = [
    path("", views.chat, name="chat"),
    path("conversations/<int:conversation_id>/", views.chat, name="conversation"),
    path("conversations/<int:conversation_id>/export.json", views.export_json, name="export-json"),
    path("models.json", views.models_json, name="models-json"),
    path("highlight.css", views.highlight_css, name="highlight-css"),
    path("accounts/signup/", views.signup, name="signup"),
]
