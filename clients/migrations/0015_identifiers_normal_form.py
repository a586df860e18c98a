"""Tax ids and phones of the clients already held, in their normal form (filled by the identifiers work)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("clients", "0014_identifiers_duplicates_currencies")]

    operations = []
