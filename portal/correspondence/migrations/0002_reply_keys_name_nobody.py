"""Reply keys keep no user ID text; generated keys that said "Penname author" are marked.

The marked keys are replaced by neutral ones at each author's next login
(portal.correspondence.replykeys.ensure_generated).
"""

from django.db import migrations, models

OLD_USER_ID = "Penname author"


def mark_keys_that_name_the_portal(apps, schema_editor):
    ReplyKey = apps.get_model("correspondence", "ReplyKey")
    for key in ReplyKey.objects.filter(generated=True).only("pk", "user_ids"):
        if OLD_USER_ID in (key.user_ids or []):
            ReplyKey.objects.filter(pk=key.pk).update(names_portal=True)


class Migration(migrations.Migration):
    dependencies = [("correspondence", "0001_initial")]

    operations = [
        migrations.AddField(
            model_name="replykey", name="names_portal", field=models.BooleanField(default=False),
        ),
        migrations.RunPython(mark_keys_that_name_the_portal, migrations.RunPython.noop),
        migrations.RemoveField(model_name="replykey", name="user_ids"),
    ]
