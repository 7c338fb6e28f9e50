from django.apps import AppConfig


class ReviewConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "conversations.review"
    label = "review"
    verbose_name = "Review"

    def ready(self) -> None:
        from . import receivers

        receivers.connect()
