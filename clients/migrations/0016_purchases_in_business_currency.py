"""Purchases already held: their original amount and currency, converted into the business currency (filled by the currency work)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("clients", "0015_identifiers_normal_form")]

    operations = []
