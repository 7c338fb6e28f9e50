# A reply's reasoning time, shown as "Thought for 12 s".

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('conversations', '0011_conversation_parameters'),
    ]

    operations = [
        migrations.AddField(
            model_name='message',
            name='reasoning_ms',
            field=models.PositiveIntegerField(blank=True, help_text='Time from the first reasoning to the first answer token.', null=True),
        ),
    ]
