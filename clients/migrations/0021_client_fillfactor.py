"""Room on each page of the clients' table for an updated row (PostgreSQL's fillfactor).

The nightly run and every write rewrite computed columns of client rows: the colour (alert,
alert_reason, alert_value) and most figures are in no index. With full pages (fillfactor 100)
PostgreSQL cannot keep the new row version on the same page, so even such an update writes an
entry into each of the table's sixteen indexes (a 281 MB trigram GIN among them): at a million
clients 80,000 colour changes took 52 s. With 15 % of each page free the update is HOT (heap
only): no index is touched. New pages follow the setting at once; existing ones when the table is
rewritten (VACUUM FULL, or the demo and benchmark loads, which write it after migrating).
"""

from django.db import migrations

FILLFACTOR = 85


def fillfactor_set(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"ALTER TABLE clients_client SET (fillfactor = {FILLFACTOR})")


def fillfactor_reset(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE clients_client RESET (fillfactor)")


class Migration(migrations.Migration):
    dependencies = [("clients", "0020_followup_agenda_index_with_id")]

    operations = [migrations.RunPython(fillfactor_set, fillfactor_reset, elidable=False)]
