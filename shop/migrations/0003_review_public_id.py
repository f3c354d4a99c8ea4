import uuid

from django.db import migrations, models


def fill_public_ids(apps, schema_editor):
    Review = apps.get_model("shop", "Review")
    for review in Review.objects.filter(public_id__isnull=True).only("pk").iterator():
        Review.objects.filter(pk=review.pk).update(public_id=uuid.uuid4())


class Migration(migrations.Migration):
    dependencies = [
        ("shop", "0002_postgres_search"),
    ]

    operations = [
        # Nullable first, filled row by row, then unique: existing rows must not share one default.
        migrations.AddField(
            model_name="review",
            name="public_id",
            field=models.UUIDField(null=True, editable=False),
        ),
        migrations.RunPython(fill_public_ids, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="review",
            name="public_id",
            field=models.UUIDField(default=uuid.uuid4, editable=False, unique=True),
        ),
    ]
