"""Count the messages already saved into the dashboard's daily rollups."""

from django.db import migrations


def rebuild(apps, schema_editor):
    from conversations.review import stats

    stats.rebuild(
        message_model=apps.get_model("conversations", "Message"),
        stat=apps.get_model("review", "DailyStat"),
        users=apps.get_model("review", "DailyActiveUser"),
        latency=apps.get_model("review", "DailyLatency"),
    )


class Migration(migrations.Migration):
    dependencies = [("review", "0002_reviewers_group")]

    operations = [migrations.RunPython(rebuild, migrations.RunPython.noop)]
