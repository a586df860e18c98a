"""The demo business's consents: most clients with an e-mail said yes to something when they
signed up (set-based: one INSERT … SELECT per purpose and table)."""

from django.db import connection, transaction

from campaigns.models import Consent, ConsentChange, ConsentSource, Purpose
from clients.models import Client

# Tenths of the clients with an e-mail who agreed to each purpose.
SHARES = {Purpose.NEWSLETTER: 6, Purpose.PROMOTIONS: 4, Purpose.SURVEYS: 7}
EVIDENCE = "Ficha de alta firmada"


@transaction.atomic
def consents_seed() -> int:
    clients = Client._meta.db_table
    written = 0
    with connection.cursor() as cursor:
        for purpose, tenths in SHARES.items():
            for table, extra_columns, extra_values in (
                (Consent._meta.db_table, "", ""),
                (ConsentChange._meta.db_table, ", recorded_by_id, campaign_id", ", NULL, NULL"),
            ):
                cursor.execute(
                    f"INSERT INTO {table} (client_id, purpose, granted, changed_at, source, evidence{extra_columns})"  # noqa: S608
                    f" SELECT id, %s, %s, created_at, %s, %s{extra_values} FROM {clients}"
                    " WHERE email <> '' AND (id %% 10) < %s",
                    [purpose, True, ConsentSource.FORM, EVIDENCE, tenths],
                )
                written += cursor.rowcount if table == Consent._meta.db_table else 0
    return written
