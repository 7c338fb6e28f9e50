from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("conversations", "0019_mcp_servers"),
    ]

    operations = [
        migrations.AddField(
            model_name="message",
            name="tool_record",
            field=models.JSONField(
                blank=True,
                help_text=(
                    "Tool: how the call went (source, server, tool, arguments, duration, "
                    "outcome)."
                ),
                null=True,
            ),
        ),
    ]
