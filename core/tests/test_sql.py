"""core.sql: the dialect helpers and the nesting of a QuerySet's SQL in a hand-written query."""

import datetime as dt

import pytest
from django.db import connection
from django.db.models import F

from clients.models import Client, Contract
from clients.tests.factories import ClientFactory, ContractFactory
from core.sql import date_param, date_value, days_between, integer_cents, iso_date, queryset_sql

pytestmark = pytest.mark.django_db
DAY = dt.date(2026, 11, 12)


def scalar(sql: str, params: dict):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()[0]


def test_a_nested_queryset_finds_what_the_orm_finds(owner):
    """Its parameters become named ones and its literal percent signs stay escaped (LIKE)."""
    ClientFactory(owner=owner, last_name="García")
    ClientFactory(owner=owner, last_name="Gómez 100%")
    ClientFactory(owner=owner, first_name="Ana", last_name="Pérez Ana")
    lookups = ({"last_name__startswith": "G"}, {"last_name__contains": "100%"}, {"last_name__contains": F("first_name")})
    for lookup in lookups:
        queryset = Client.objects.filter(**lookup).order_by().values("id")
        params = {"other": 1}
        nested = queryset_sql(queryset, params, "q")
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT n.id FROM ({nested}) n WHERE %(other)s = 1 ORDER BY n.id", params)  # noqa: S608
            assert [pk for (pk,) in cursor.fetchall()] == sorted(queryset.values_list("id", flat=True))


def test_a_nested_queryset_keeps_its_dates(owner):
    client = ClientFactory(owner=owner)
    for end in (DAY - dt.timedelta(days=1), DAY, DAY + dt.timedelta(days=30), DAY + dt.timedelta(days=31)):
        ContractFactory(client=client, start_date=end - dt.timedelta(days=365), end_date=end)
    params: dict = {}
    nested = queryset_sql(Contract.objects.renewal_due(DAY, 30).order_by().values("end_date"), params, "k")
    assert scalar(f"SELECT COUNT(*) FROM ({nested}) k", params) == 2  # noqa: S608


def test_dates_and_money_read_the_same_on_both_backends():
    params = {"day": date_value(DAY), "earlier": date_value(DAY - dt.timedelta(days=45))}
    assert scalar(f"SELECT {days_between(date_param('day'), date_param('earlier'))}", params) == 45
    assert scalar(f"SELECT {iso_date(date_param('day'))}", params) == "2026-11-12"
    assert scalar(f"SELECT {integer_cents('12.345')}", {}) == 1235  # half away from zero, as core.money


def test_in_list_and_lookup_chunks_find_every_value_once_on_either_backend(monkeypatch):
    from clients.models import Category
    from core import sql

    monkeypatch.setattr(sql, "IN_CHUNK", 3)  # SQLite's chunks, with a few rows
    made = Category.objects.bulk_create(Category(name=f"Categoría {n}") for n in range(8))
    ids = [category.pk for category in made][1:] + [10**9]  # one left out, one that does not exist
    found = []
    with connection.cursor() as cursor:
        for condition, params in sql.in_list("id", ids):
            cursor.execute(f"SELECT id FROM {Category._meta.db_table} WHERE {condition}", params)  # noqa: S608
            found += [pk for (pk,) in cursor.fetchall()]
    assert sorted(found) == ids[:-1]
    assert len(sql.in_list("id", ids)) == (1 if sql.is_postgres() else 3)
    names = [name for chunk in sql.lookup_chunks(ids) for name in Category.objects.filter(pk__in=chunk).values_list("name", flat=True)]
    assert sorted(names) == sorted(f"Categoría {n}" for n in range(1, 8))
    assert sql.lookup_chunks([]) == [] and sql.in_list("id", []) == ([("id = ANY(%s)", [[]])] if sql.is_postgres() else [])
