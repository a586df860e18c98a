"""Tax ids and phones of the clients already held, in their normal form.

Each tax id that passes its country's check becomes its normal form ('ES B-58378431' -> 'B58378431')
and each phone that libphonenumber holds valid for the client's country becomes E.164
('612 34 56 78' -> '+34612345678'); the match and search keys follow. A value that does not pass
is left as typed (the form and the imports then say so). Read with iterator() and written in
batches, only the rows that change, by one prepared UPDATE run for each row of the batch
(executemany: pipelined by psycopg): bulk_update's CASE over 2,000 ids made PostgreSQL compare
every row with every id, 6 ms a client. Memory stays flat whatever the number of clients.
Reverse: nothing to undo (the normal form is the same tax id and the same number).
"""

from django.db import connection as default_connection
from django.db import migrations
from django.db.models import Q

BATCH = 2000


def identifiers_normal_form(apps, schema_editor) -> None:
    from clients.identifiers import tax_id_normal
    from clients.phones import e164
    from clients.text import fold, phone_key, tax_key

    client_model = apps.get_model("clients", "Client")
    connection = schema_editor.connection if schema_editor else default_connection
    held = client_model.objects.filter(~Q(tax_id="") | ~Q(phone="")).order_by("pk")
    changed = []
    for client in held.iterator(chunk_size=BATCH):
        country = str(getattr(client.country, "code", client.country) or "")
        tax_id = tax_id_normal(client.tax_id, country) or client.tax_id
        phone = e164(client.phone, country) or client.phone
        if (tax_id, phone) == (client.tax_id, client.phone):
            continue
        client.tax_id, client.phone = tax_id, phone
        client.tax_key, client.phone_key = tax_key(tax_id), phone_key(phone)
        # As Client.refresh_search_fields: a search for the tax id as now stored finds it.
        client.search_text = fold(" ".join([
            client.first_name, client.last_name, client.company_name, client.email, tax_id, client.client_ref, client.city,
        ]))
        changed.append(client)
        if len(changed) == BATCH:
            _write(connection, client_model, changed)
            changed = []
    _write(connection, client_model, changed)


def _write(connection, client_model, clients: list) -> None:
    if not clients:
        return
    quote = connection.ops.quote_name
    columns = ("tax_id", "tax_key", "phone", "phone_key", "search_text")
    assignments = ", ".join(f"{quote(column)} = %s" for column in columns)
    sql = f"UPDATE {quote(client_model._meta.db_table)} SET {assignments} WHERE {quote('id')} = %s"  # noqa: S608 - names are constants, values parameters
    with connection.cursor() as cursor:
        cursor.executemany(sql, [[*(getattr(client, column) for column in columns), client.pk] for client in clients])


class Migration(migrations.Migration):
    dependencies = [("clients", "0014_identifiers_duplicates_currencies")]

    operations = [migrations.RunPython(identifiers_normal_form, migrations.RunPython.noop)]
