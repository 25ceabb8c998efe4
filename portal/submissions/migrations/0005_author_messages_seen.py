"""Submission.editor_messages_seen: the author's page marks editors' messages she has not read."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("authors", "0004_unused_and_hidden_identities")]

    operations = [
        migrations.AddField("submission", "editor_messages_seen",
                            models.PositiveIntegerField(default=0)),
    ]
