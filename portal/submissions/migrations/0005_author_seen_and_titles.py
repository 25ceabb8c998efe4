"""The author's page: which editors' messages she has seen (a count), and her titles
encrypted to her reply key (TitleCopy)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("authors", "0004_unused_and_hidden_identities")]

    operations = [
        migrations.AddField("submission", "editor_messages_seen",
                            models.PositiveIntegerField(default=0)),
        migrations.CreateModel(
            name="TitleCopy",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False,
                                           verbose_name="ID")),
                ("ciphertext", models.BinaryField()),
                ("reply_key", models.CharField(max_length=64)),
                ("submission", models.OneToOneField(on_delete=models.deletion.CASCADE,
                                                    related_name="title_copy",
                                                    to="authors.submission")),
            ],
        ),
    ]
