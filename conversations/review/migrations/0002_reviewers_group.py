"""The Reviewers group, with exactly what review needs, and three starter score configs."""

from django.db import migrations

# What a reviewer may do. Not here, on purpose: opening conversations outside the queue,
# exporting datasets, defining score configs, deleting anything, personas, models, users.
REVIEWER_PERMISSIONS = [
    ("conversations", "view_conversation"),
    ("review", "review_conversations"),
    ("review", "view_dashboard"),
    ("review", "view_queueitem"),
    ("review", "add_queueitem"),
    ("review", "change_queueitem"),
    ("review", "view_scoreconfig"),
    ("review", "view_score"),
    ("review", "add_score"),
    ("review", "change_score"),
    ("review", "view_reviewnote"),
    ("review", "add_reviewnote"),
    ("review", "view_correction"),
    ("review", "add_correction"),
]

STARTER_CONFIGS = [
    {
        "name": "helpfulness",
        "description": "How well the reply served the user, 1 (not at all) to 5 (fully).",
        "kind": "numeric",
        "min_value": 1,
        "max_value": 5,
    },
    {
        "name": "hallucination",
        "description": "Does the reply state things that are not true?",
        "kind": "boolean",
    },
    {
        "name": "good example",
        "description": "Worth training on: goes into the fine-tuning dataset.",
        "kind": "boolean",
        "marks_good_example": True,
    },
]


def create_group(apps, schema_editor):
    from django.contrib.auth.management import create_permissions

    # Permissions are normally made after all migrations; make them now to use them.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name="Reviewers")
    for app_label, codename in REVIEWER_PERMISSIONS:
        group.permissions.add(
            Permission.objects.get(content_type__app_label=app_label, codename=codename)
        )
    ScoreConfig = apps.get_model("review", "ScoreConfig")
    for config in STARTER_CONFIGS:
        ScoreConfig.objects.get_or_create(name=config["name"], defaults=config)


def remove_group(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name="Reviewers").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("review", "0001_initial"),
        ("conversations", "0006_message_selected_at"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_group, remove_group)]
