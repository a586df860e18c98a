"""Purchases already held: their original amount and currency, converted into the business currency.

Every purchase keeps what it was paid (original_amount = amount). One in the business currency has
the rate 1; one in another currency is converted by the rates table when it has a rate for its
date, and otherwise waits (exchange_rate NULL, amount 0: it adds nothing to the figures until an
administrador gives a rate, which converts it). Set-based UPDATEs: three statements whatever the
number of purchases. The clients' figures follow at the next recompute (the nightly run).
"""

from django.conf import settings
from django.db import migrations, models
from django.db.models import Case, F, Value, When


def purchases_in_business_currency(apps, schema_editor) -> None:
    from clients.currency import waiting_convert

    purchase = apps.get_model("clients", "Purchase")
    rate = apps.get_model("clients", "ExchangeRate")
    business = settings.CURRENCY
    purchase.objects.filter(original_amount__isnull=True).update(
        original_amount=F("amount"),
        exchange_rate=Case(When(currency=business, then=Value(1)), default=None, output_field=models.DecimalField()),
    )
    waiting_convert(purchase, rate)
    purchase.objects.filter(exchange_rate__isnull=True).exclude(amount=0).update(amount=0)


def purchases_as_paid(apps, schema_editor) -> None:
    """Back: each purchase's amount is again what was paid, in whatever currency."""
    purchase = apps.get_model("clients", "Purchase")
    purchase.objects.exclude(currency=settings.CURRENCY).update(amount=F("original_amount"))


class Migration(migrations.Migration):
    dependencies = [("clients", "0015_identifiers_normal_form")]

    operations = [
        migrations.RunPython(purchases_in_business_currency, purchases_as_paid),
        migrations.AddIndex(
            model_name="purchase",
            index=models.Index(
                condition=models.Q(("exchange_rate__isnull", True)), fields=["currency", "date"], name="purchase_waiting_for_rate",
            ),
        ),
    ]
