from django.db import migrations, models

from clients.text import tax_key

BATCH = 2000


def tax_keys_fill(apps, schema_editor):
    """The key of every existing tax id (few clients have one: only those are read)."""
    Client = apps.get_model("clients", "Client")
    pending = Client.objects.exclude(tax_id="").only("id", "tax_id").order_by("id")
    batch = []
    for client in pending.iterator(chunk_size=BATCH):
        client.tax_key = tax_key(client.tax_id)
        batch.append(client)
        if len(batch) == BATCH:
            Client.objects.bulk_update(batch, ["tax_key"])
            batch = []
    Client.objects.bulk_update(batch, ["tax_key"])


class Migration(migrations.Migration):
    dependencies = [
        ("clients", "0008_recommendation"),
    ]

    operations = [
        migrations.AddField(
            model_name="client",
            name="tax_key",
            field=models.CharField(default="", editable=False, max_length=32),
        ),
        migrations.RunPython(tax_keys_fill, migrations.RunPython.noop, elidable=True),
        migrations.AddIndex(
            model_name="client",
            index=models.Index(condition=models.Q(("tax_key", ""), _negated=True), fields=["tax_key"], name="client_tax_key_idx"),
        ),
    ]
