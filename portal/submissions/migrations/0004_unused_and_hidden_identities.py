"""Author.came_back (unused identities are purged) and Author.hidden (editors hide abuse)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("authors", "0003_safe_copies")]

    operations = [
        # Identities made before this release count as used: none is purged by surprise.
        migrations.AddField("author", "came_back", models.BooleanField(default=True)),
        migrations.AlterField("author", "came_back", models.BooleanField(default=False)),
        migrations.AddField("author", "hidden", models.BooleanField(default=False)),
    ]
