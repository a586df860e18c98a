"""Client.lost_revenue: a baja's purchases in the 365 days up to its last purchase, stored with its
reason for leaving (segmentation/leaving.py); filled here for the bajas already there. The bajas'
index by the day they left covers what the reasons page and the dashboard read of them."""

from decimal import Decimal

from django.conf import settings
from django.db import migrations, models


def fill(apps, schema_editor) -> None:
    """Each baja's revenue lost, in one UPDATE (the rule as segmentation.leaving writes it then)."""
    connection = schema_editor.connection
    if connection.vendor == "postgresql":
        window_start = "(c.last_purchase_date - 364)"
    else:
        window_start = "date(c.last_purchase_date, '-364 days')"
    with connection.cursor() as cursor:
        cursor.execute(
            f"""UPDATE clients_client SET lost_revenue = COALESCE((
                    SELECT SUM(CAST(ROUND(p.amount * 100) AS BIGINT)) FROM clients_purchase p
                    JOIN clients_client c ON c.id = p.client_id
                    WHERE c.id = clients_client.id AND p.date <= c.last_purchase_date AND p.date >= {window_start}
                ), 0) / 100.0
                WHERE status = 'lost' AND last_purchase_date IS NOT NULL"""  # noqa: S608 - constants
        )


class Migration(migrations.Migration):

    dependencies = [
        ("clients", "0029_drop_unused_tax_id_index"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="client",
            name="lost_revenue",
            field=models.DecimalField(decimal_places=2, default=Decimal("0"), editable=False, max_digits=14, verbose_name="revenue lost"),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop, elidable=True),
        migrations.RemoveIndex(model_name="client", name="client_lost_since_idx"),
        migrations.AddIndex(
            model_name="client",
            index=models.Index(
                condition=models.Q(("status", "lost")), fields=["status_since"],
                include=("owner", "deleted_at", "leave_reason", "lost_revenue", "id"), name="client_lost_since_cover_idx",
            ),
        ),
    ]
