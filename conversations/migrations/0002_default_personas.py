from django.db import migrations

PERSONAS = [
    ("Helpful assistant", "You are a helpful assistant."),
    (
        "Python expert",
        "You are an expert Python developer. Follow these guidelines:\n"
        "- Write clean, well-documented code\n"
        "- Include type hints\n"
        "- Add brief comments explaining complex logic\n"
        "- Suggest improvements when relevant",
    ),
]


def create_personas(apps, schema_editor):
    Persona = apps.get_model("conversations", "Persona")
    for name, prompt in PERSONAS:
        Persona.objects.get_or_create(name=name, owner=None, defaults={"system_prompt": prompt})


def remove_personas(apps, schema_editor):
    Persona = apps.get_model("conversations", "Persona")
    Persona.objects.filter(owner=None, name__in=[name for name, _ in PERSONAS]).delete()


class Migration(migrations.Migration):
    dependencies = [("conversations", "0001_initial")]
    operations = [migrations.RunPython(create_personas, remove_personas)]
