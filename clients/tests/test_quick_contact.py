"""Quick contact: phone and WhatsApp links, "log a call" in one step, the grouped client form,
interests as checkboxes and the list sorted by the name shown."""

import csv
import datetime as dt
import io
import re

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext

from audit.models import AuditEntry
from clients.forms import ClientForm
from clients.models import Client, FollowUp, Interaction
from clients.phones import e164, tel_href, whatsapp_url
from clients.tests.factories import CategoryFactory, ClientFactory, FollowUpFactory, InteractionFactory

HTMX = {"HX-Request": "true"}


def _es(text: str) -> str:
    with translation.override("es"):
        return gettext(text)


# --- Phones -------------------------------------------------------------------------------

@pytest.mark.parametrize(("phone", "country", "expected"), [
    # Spain: spaces, dashes, brackets, 00 or + before the country code.
    ("612 34 56 78", "ES", "+34612345678"),
    ("+34 612-345-678", "ES", "+34612345678"),
    ("0034612345678", "ES", "+34612345678"),
    ("(+34) 91 123 45 67", "es", "+34911234567"),
    # Portugal, also one stored on a Spanish client with its own country code.
    ("912 345 678", "PT", "+351912345678"),
    ("+351 21 123 4567", "PT", "+351211234567"),
    ("00351 912 345 678", "ES", "+351912345678"),
    # Brazil: area code in brackets, trunk 0, a carrier code.
    ("(11) 91234-5678", "BR", "+5511912345678"),
    ("011 91234-5678", "BR", "+5511912345678"),
    ("0 21 11 91234 5678", "BR", "+5511912345678"),
    ("+55 21 99876-5432", "BR", "+5521998765432"),
    # Mexico: today's ten digits, and the old mobile 1 and 044/045/01 prefixes people still write.
    ("55 1234 5678", "MX", "+525512345678"),
    ("+52 1 55 1234 5678", "MX", "+525512345678"),
    ("044 55 1234 5678", "MX", "+525512345678"),
    ("045 33 1234 5678", "MX", "+523312345678"),
    ("01 55 1234 5678", "MX", "+525512345678"),
    ("+52 (81) 8123-4567", "ES", "+528181234567"),
])
def test_phone_in_e164_from_the_number_and_the_clients_country(phone, country, expected):
    assert e164(phone, country) == expected
    assert whatsapp_url(phone, country) == f"https://wa.me/{expected[1:]}"
    assert tel_href(phone, country) == f"tel:{expected}"


@pytest.mark.parametrize(("phone", "country"), [
    ("12345", "ES"), ("abc", "ES"), ("", "ES"), ("   ", "PT"), ("612 345 678", ""), ("612 345 678", "XX"),
    ("+34 000", "ES"), ("044 12", "MX"),
])
def test_an_unusable_number_has_no_whatsapp_link(phone, country):
    assert e164(phone, country) is None
    assert whatsapp_url(phone, country) is None


def test_tel_link_keeps_an_unparseable_number_as_typed_without_spaces():
    assert tel_href("ext. 12 34", "ES") == "tel:ext.1234"


@pytest.mark.django_db
def test_client_page_and_list_show_tel_and_whatsapp_links_opening_a_new_tab(client, owner):
    record = ClientFactory(owner=owner, first_name="Joana", last_name="Prado", phone="(11) 91234-5678", country="BR")
    client.force_login(owner)

    page = client.get(record.get_absolute_url()).content.decode()
    assert 'href="tel:+5511912345678"' in page
    assert re.search(r'<a href="https://wa.me/5511912345678" target="_blank" rel="noopener"', page)

    listing = client.get(reverse("clients:client_list")).content.decode()
    assert 'href="tel:+5511912345678"' in listing
    assert re.search(r'<a href="https://wa.me/5511912345678" target="_blank" rel="noopener"', listing)


@pytest.mark.django_db
def test_an_invalid_phone_is_still_dialled_but_gets_no_whatsapp_link(client, owner):
    record = ClientFactory(owner=owner, phone="12345", country="ES")
    client.force_login(owner)
    for url in (record.get_absolute_url(), reverse("clients:client_list")):
        body = client.get(url).content.decode()
        assert 'href="tel:12345"' in body
        assert "wa.me" not in body


# --- Log a call ---------------------------------------------------------------------------

def call_url(record, on="list") -> str:
    return f"{reverse('clients:quick_call', args=[record.pk])}?on={on}"


def tomorrow() -> dt.date:
    return timezone.localdate() + dt.timedelta(days=1)


@pytest.mark.django_db
def test_list_row_has_a_log_a_call_link_and_the_list_a_dialog(client, owner):
    record = ClientFactory(owner=owner)
    client.force_login(owner)
    body = client.get(reverse("clients:client_list")).content.decode()
    assert f'href="{call_url(record)}" data-quick-call' in body
    assert 'id="quick-call-modal"' in body and "js/quick_call.js" in body
    page = client.get(record.get_absolute_url()).content.decode()
    assert f'href="{call_url(record, "page")}" data-quick-call' in page


@pytest.mark.django_db
def test_logging_a_call_records_it_and_books_the_call_back_in_one_submit(client, owner):
    record = ClientFactory(owner=owner, first_name="Rosa", last_name="Pinto")
    client.force_login(owner)
    form = client.get(call_url(record), headers=HTMX)
    assert form.status_code == 200 and 'data-testid="quick-call-form"' in form.content.decode()
    assert 'data-testid="due-followup"' not in form.content.decode()  # nothing due: nothing offered

    response = client.post(call_url(record), {
        "outcome": "interested", "summary": "Quiere el catálogo nuevo", "call_back_on": tomorrow().isoformat(),
        "call_back_at": "10:30",
    }, headers=HTMX)

    assert response.status_code == 200
    body = response.content.decode()
    assert 'data-testid="quick-call-done"' in body
    assert f'hx-swap-oob="innerHTML:#client-alert-{record.pk}"' in body  # the row's colour follows
    call = Interaction.objects.get(client=record)
    assert (call.kind, call.direction, call.outcome, call.user) == ("call", "outbound", "interested", owner)
    assert call.summary == "Quiere el catálogo nuevo"
    call_back = FollowUp.objects.get(client=record)
    assert call_back.kind == "call" and call_back.status == "pending" and call_back.assigned_to == owner
    assert timezone.localtime(call_back.due_at) == timezone.make_aware(dt.datetime.combine(tomorrow(), dt.time(10, 30)))
    record.refresh_from_db()
    assert record.alert == "yellow" and record.alert_reason == "followup_due_soon"
    assert 'data-alert="yellow"' in body
    actions = set(AuditEntry.objects.filter(client_id=record.pk).values_list("subject", "action"))
    assert {("interaction", "create"), ("followup", "create")} <= actions


@pytest.mark.django_db
def test_a_call_without_summary_or_call_back_says_its_outcome(client, owner):
    record = ClientFactory(owner=owner)
    client.force_login(owner)
    response = client.post(call_url(record), {"outcome": "offer_sent"}, headers=HTMX)
    assert response.status_code == 200
    call = Interaction.objects.get(client=record)
    assert call.summary == "Oferta enviada" and call.awaiting_reply  # an offer: waiting for their answer
    assert not FollowUp.objects.filter(client=record).exists()


@pytest.mark.django_db
def test_call_back_today_without_a_time_is_booked_later_today_not_in_the_past(client, owner):
    record = ClientFactory(owner=owner)
    client.force_login(owner)
    client.post(call_url(record), {"outcome": "no_answer", "call_back_on": timezone.localdate().isoformat()}, headers=HTMX)
    call_back = FollowUp.objects.get(client=record)
    assert call_back.due_at > timezone.now() or timezone.localtime().time() < dt.time(9, 0)


@pytest.mark.django_db
def test_from_the_client_page_the_call_reloads_the_page_with_a_confirmation(client, owner):
    record = ClientFactory(owner=owner)
    client.force_login(owner)
    response = client.post(call_url(record, "page"), {"outcome": "info"}, headers=HTMX)
    assert response.status_code == 200 and response["HX-Redirect"] == record.get_absolute_url()
    page = client.get(record.get_absolute_url())
    assert [str(m) for m in page.context["messages"]] == [_es("Call recorded.")]
    assert Interaction.objects.get(client=record).outcome == "info"


@pytest.mark.django_db
def test_without_htmx_the_form_is_a_page_and_saving_returns_to_the_client(client, owner):
    record = ClientFactory(owner=owner)
    client.force_login(owner)
    page = client.get(call_url(record, "page"))
    assert page.status_code == 200 and "<html" in page.content.decode() and "hx-post" not in page.content.decode()
    response = client.post(call_url(record, "page"), {"outcome": "sale"})
    assert response.status_code == 302 and response["Location"] == record.get_absolute_url()
    assert Interaction.objects.filter(client=record, outcome="sale").count() == 1


@pytest.mark.django_db
def test_a_due_follow_up_is_offered_and_completed_by_the_call_exactly_once(client, owner):
    record = ClientFactory(owner=owner)
    overdue = FollowUpFactory(client=record, kind="call", due_at=timezone.now() - dt.timedelta(days=2))
    FollowUpFactory(client=record, kind="visit", due_at=timezone.now() + dt.timedelta(days=5))  # not due: not offered
    client.force_login(owner)

    form = client.get(call_url(record), headers=HTMX).content.decode()
    assert 'data-testid="due-followup"' in form
    assert f'name="followup" value="{overdue.pk}"' in form

    data = {"outcome": "interested", "complete_followup": "on", "followup": overdue.pk}
    first = client.post(call_url(record), data, headers=HTMX)
    assert 'data-testid="followup-completed"' in first.content.decode()
    overdue.refresh_from_db()
    call = Interaction.objects.get(client=record)
    assert overdue.status == "done" and overdue.closed_by == call

    second = client.post(call_url(record), data, headers=HTMX)  # a double click, a second tab
    assert second.status_code == 200
    assert _es("This follow-up is no longer pending.") in second.content.decode()
    assert Interaction.objects.filter(client=record).count() == 1
    assert AuditEntry.objects.filter(client_id=record.pk, subject="followup", action="complete").count() == 1


@pytest.mark.django_db
def test_unticking_the_offer_leaves_the_due_follow_up_pending(client, owner):
    record = ClientFactory(owner=owner)
    due = FollowUpFactory(client=record, due_at=timezone.now() + dt.timedelta(minutes=30))  # later today
    client.force_login(owner)
    if timezone.localtime(due.due_at).date() == timezone.localdate():
        assert 'data-testid="due-followup"' in client.get(call_url(record), headers=HTMX).content.decode()
    client.post(call_url(record), {"outcome": "no_answer", "followup": due.pk}, headers=HTMX)
    due.refresh_from_db()
    assert due.status == "pending" and Interaction.objects.filter(client=record).count() == 1


@pytest.mark.django_db
def test_another_portfolios_client_is_a_404_and_nothing_is_written(client, owner, outsider):
    record = ClientFactory(owner=owner)
    due = FollowUpFactory(client=record, due_at=timezone.now() - dt.timedelta(days=1))
    client.force_login(outsider)
    assert client.get(call_url(record), headers=HTMX).status_code == 404
    response = client.post(call_url(record), {"outcome": "sale", "complete_followup": "on", "followup": due.pk})
    assert response.status_code == 404
    due.refresh_from_db()
    assert due.status == "pending" and not Interaction.objects.exists()


@pytest.mark.django_db
def test_teammate_and_gerente_may_log_a_call_only_where_they_see_the_client(client, owner, teammate, manager):
    record = ClientFactory(owner=owner)
    client.force_login(teammate)
    assert client.get(call_url(record), headers=HTMX).status_code == 404
    client.force_login(manager)
    assert client.post(call_url(record), {"outcome": "info"}, headers=HTMX).status_code == 200
    assert Interaction.objects.get(client=record).user == manager


@pytest.mark.django_db
@pytest.mark.parametrize(("data", "field", "message"), [
    ({}, "outcome", "Este campo es obligatorio."),
    ({"outcome": "nope"}, "outcome", "Elige una opción válida."),
    ({"outcome": "info", "call_back_on": "2020-01-01"}, "call_back_on", None),
    ({"outcome": "info", "call_back_on": "31/02/2030"}, "call_back_on", None),
    ({"outcome": "info", "call_back_at": "10:00"}, "call_back_on", None),
    ({"outcome": "info", "summary": "x" * 501}, "summary", None),
    ({"outcome": "info", "complete_followup": "on", "followup": "99999999999999999999"}, "followup", None),
    ({"outcome": "info", "complete_followup": "on", "followup": "abc"}, "followup", None),
])
def test_bad_input_is_a_form_error_and_writes_nothing(client, owner, data, field, message):
    record = ClientFactory(owner=owner)
    client.force_login(owner)
    response = client.post(call_url(record), data, headers=HTMX)
    assert response.status_code == 200
    assert field in response.context["form"].errors
    if message:
        assert message in response.content.decode()
    assert "No se ha guardado nada" in response.content.decode()
    assert not Interaction.objects.exists() and not FollowUp.objects.exists()


@pytest.mark.django_db
def test_another_clients_follow_up_cannot_be_completed_through_this_one(client, owner):
    record, other = ClientFactory(owner=owner), ClientFactory(owner=owner)
    others = FollowUpFactory(client=other, due_at=timezone.now() - dt.timedelta(days=1))
    client.force_login(owner)
    response = client.post(call_url(record), {"outcome": "info", "complete_followup": "on", "followup": others.pk}, headers=HTMX)
    assert "followup" in response.context["form"].errors
    others.refresh_from_db()
    assert others.status == "pending" and not Interaction.objects.exists()


@pytest.mark.django_db
def test_quick_call_in_brazilian_portuguese(client, owner):
    record = ClientFactory(owner=owner)
    client.force_login(owner)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "pt-br"
    response = client.post(call_url(record), {"call_back_on": "2020-01-01"}, headers=HTMX)
    body = response.content.decode()
    assert "Este campo é obrigatório." in body
    assert 'lang="pt-br"' not in body  # a fragment, not a page
    form = client.get(call_url(record), headers=HTMX).content.decode()
    assert "Interessado" in form  # the outcomes in the user's language


# --- The client form ----------------------------------------------------------------------

def test_client_form_sections_hold_every_field_exactly_once():
    grouped = [name for _legend, names in ClientForm.FIELDSETS for name in names]
    assert len(grouped) == len(set(grouped))
    assert set(grouped) == set(ClientForm.Meta.fields)


@pytest.mark.django_db
def test_grouped_client_form_renders_every_field_once_and_interests_as_checkboxes(client, owner):
    categories = CategoryFactory.create_batch(3)
    client.force_login(owner)
    body = client.get(reverse("clients:client_create")).content.decode()
    assert body.count('data-testid="client-fieldset"') == 4
    for name in ClientForm.Meta.fields:
        inputs = re.findall(rf'<(?:input|select|textarea)[^>]*\bname="{name}"', body)
        expected = len(categories) if name == "interests" else 1
        assert len(inputs) == expected, name
    assert len(re.findall(r'<input type="checkbox" name="interests"', body)) == 3
    assert '<select name="interests"' not in body
    assert 'name="version"' in body


@pytest.mark.django_db
def test_interests_ticked_in_the_form_are_saved_and_filter_the_list(client, owner):
    wine, cheese, bread = CategoryFactory(name="Vinos"), CategoryFactory(name="Quesos"), CategoryFactory(name="Panes")
    client.force_login(owner)
    response = client.post(reverse("clients:client_create"), {
        "first_name": "Inés", "last_name": "Lobo", "country": "ES", "interests": [wine.pk, cheese.pk], "version": 0,
    })
    assert response.status_code == 302
    ines = Client.objects.get(last_name="Lobo")
    assert set(ines.interests.all()) == {wine, cheese}
    other = ClientFactory(owner=owner, first_name="Otto", last_name="Pan")
    other.interests.set([bread])

    listing = client.get(reverse("clients:client_list"), {"interests": [cheese.pk]}).content.decode()
    assert "Inés Lobo" in listing and "Otto Pan" not in listing
    assert re.search(rf'<input type="checkbox" name="interests" value="{cheese.pk}"[^>]*checked', listing)

    edit = client.get(reverse("clients:client_edit", args=[ines.pk])).content.decode()
    assert re.search(rf'<input type="checkbox" name="interests" value="{wine.pk}"[^>]*checked', edit)
    assert not re.search(rf'<input type="checkbox" name="interests" value="{bread.pk}"[^>]*checked', edit)


@pytest.mark.django_db
def test_editing_over_a_newer_version_is_still_refused_with_the_grouped_form(client, owner):
    record = ClientFactory(owner=owner, first_name="Vera")
    client.force_login(owner)
    data = {"first_name": "Vera", "last_name": "Nueva", "country": "ES", "version": record.version}
    Client.objects.filter(pk=record.pk).update(version=record.version + 1)
    response = client.post(reverse("clients:client_edit", args=[record.pk]), data)
    assert response.status_code == 200 and response.context["form"].non_field_errors()
    record.refresh_from_db()
    assert record.last_name != "Nueva"


# --- The list sorted by the name shown ----------------------------------------------------

NAMES = [  # (first, last, company) -> shown
    ("", "", "Zapatería Zeta"),
    ("Ana", "Álvarez", ""),
    ("Carlos", "Ruiz", "Bodega Beta"),
    ("carla", "Díaz", ""),
    ("", "", "Ñandú Viajes"),
    ("Óscar", "Abad", ""),
]
EXPECTED = ["Ana Álvarez", "Bodega Beta (Carlos Ruiz)", "carla Díaz", "Ñandú Viajes", "Óscar Abad", "Zapatería Zeta"]


@pytest.fixture
def named(owner):
    return [ClientFactory(owner=owner, first_name=first, last_name=last, company_name=company) for first, last, company in NAMES]


def shown_order(body: str) -> list[str]:
    positions = {name: body.index(name) for name in EXPECTED}
    return sorted(EXPECTED, key=positions.get)


@pytest.mark.django_db
def test_list_sorts_companies_and_people_together_by_the_name_shown(client, owner, named):
    client.force_login(owner)
    assert shown_order(client.get(reverse("clients:client_list")).content.decode()) == EXPECTED  # the default
    assert shown_order(client.get(reverse("clients:client_list"), {"sort": "name"}).content.decode()) == EXPECTED
    assert shown_order(client.get(reverse("clients:client_list"), {"sort": "-name"}).content.decode()) == EXPECTED[::-1]


@pytest.mark.django_db
def test_exports_and_segment_pages_follow_the_name_shown(client, owner, named):
    from django.http import QueryDict

    from segmentation.segments import segment_create

    client.force_login(owner)
    export = client.get(reverse("clients:client_list_export", args=["csv"]), {"sort": "-name"})
    rows = list(csv.reader(io.StringIO(b"".join(export.streaming_content).decode("utf-8-sig")), delimiter=";"))[1:]
    shown = [Client.name_shown(r[1], r[2], r[3]) for r in rows]
    assert shown == EXPECTED[::-1]

    segment = segment_create(owner=owner, name="Todos", shared=False, query=QueryDict(""))
    assert shown_order(client.get(segment.get_absolute_url()).content.decode()) == EXPECTED
    export = client.get(reverse("segmentation:segment_export", args=[segment.pk, "csv"]))
    rows = list(csv.reader(io.StringIO(b"".join(export.streaming_content).decode("utf-8-sig")), delimiter=";"))[1:]
    assert [Client.name_shown(r[1], r[2], r[3]) for r in rows] == EXPECTED


@pytest.mark.django_db
def test_renaming_a_client_moves_it_in_the_list(client, owner, named):
    from segmentation import records

    zeta = named[0]
    records.client_update(by=owner, client=zeta, data={"company_name": "Abacería Zeta"})
    client.force_login(owner)
    body = client.get(reverse("clients:client_list")).content.decode()
    assert body.index("Abacería Zeta") < body.index("Ana Álvarez")


@pytest.mark.django_db
def test_list_on_a_phone_keeps_colour_name_and_status_and_hides_the_rest(client, owner):
    ClientFactory(owner=owner)
    client.force_login(owner)
    body = client.get(reverse("clients:client_list")).content.decode()
    header = re.search(r"<thead.*?</thead>", body, re.S).group(0)
    cells = re.findall(r'<th\b([^>]*)>', header)
    hidden = [attrs for attrs in cells if "d-none" in attrs and "d-md-table-cell" in attrs]
    assert len(cells) - len(hidden) == 3  # colour, client, status (the comercial has no select box)
    assert all("d-none" not in attrs for attrs in re.findall(r'<th\b([^>]*)>', header)[:2])


# --- Query counts -------------------------------------------------------------------------

# session, user, groups; + the clients shared with the user (access rule).
SESSION = 3
BASE = SESSION + 1


def portfolio(owner, size: int) -> list[Client]:
    phones = ["612 34 56 78", "(11) 91234-5678", "+52 1 55 1234 5678", "12345", ""]
    clients = [ClientFactory(owner=owner, phone=phones[i % len(phones)], country=["ES", "BR", "MX", "PT", "ES"][i % 5])
               for i in range(size)]
    for record in clients:
        InteractionFactory(client=record, user=owner)
        FollowUpFactory(client=record, due_at=timezone.now() - dt.timedelta(days=1))
    return clients


@pytest.mark.django_db
@pytest.mark.parametrize("size", [2, 12])
def test_list_with_quick_contact_runs_constant_queries(client, django_assert_num_queries, owner, size):
    portfolio(owner, size)
    client.force_login(owner)
    # + the page of clients with their owners (one join), salespeople for the owner filter,
    # categories for the interests checkboxes. The links are computed from the row: no query each.
    with django_assert_num_queries(BASE + 3):
        response = client.get(reverse("clients:client_list"))
    assert response.status_code == 200 and response.content.decode().count('data-testid="quick-call"') == size


@pytest.mark.django_db
@pytest.mark.parametrize("size", [1, 10])
def test_quick_call_form_and_save_run_constant_queries(client, django_assert_num_queries, owner, size):
    record = portfolio(owner, 1)[0]
    InteractionFactory.create_batch(size, client=record, user=owner)
    FollowUpFactory.create_batch(size, client=record, due_at=timezone.now() - dt.timedelta(hours=3))
    client.force_login(owner)
    # + the client with its owner, the follow-up due (with its assignee).
    with django_assert_num_queries(BASE + 2):
        response = client.get(call_url(record), headers=HTMX)
    assert response.status_code == 200
    offered = response.context["form"].offered
    data = {"outcome": "interested", "call_back_on": tomorrow().isoformat(), "complete_followup": "on", "followup": offered.pk}
    # + the client, the posted follow-up (to offer again on an error) and the form's choice of it;
    # then records.interaction_record: savepoint, lock, insert, audit, close, audit, call-back,
    # audit, the reason for leaving (a lost client's competitor or objection), the colour's
    # recompute, savepoint release; and the client's new colour for the row.
    with django_assert_num_queries(BASE + SAVE_QUERIES):
        response = client.post(call_url(record), data, headers=HTMX)
    assert 'data-testid="quick-call-done"' in response.content.decode()


SAVE_QUERIES = 27



@pytest.mark.django_db
def test_client_page_with_quick_contact_runs_the_same_queries_at_any_size(client, owner):
    """The phone links and the "log a call" button add no query: the page counts the same with
    1 or 10 of everything (its exact number is clients/tests/test_query_counts.py's)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(owner)
    counts = []
    for size in (1, 10):
        record = portfolio(owner, 1)[0]
        InteractionFactory.create_batch(size, client=record, user=owner)
        FollowUpFactory.create_batch(size, client=record, due_at=timezone.now() - dt.timedelta(hours=2))
        with CaptureQueriesContext(connection) as queries:
            body = client.get(record.get_absolute_url()).content.decode()
        assert 'data-testid="quick-call"' in body and 'href="tel:+34612345678"' in body
        counts.append(len(queries))
    assert counts[0] == counts[1]


# --- The list sorted by name reads the index (PostgreSQL) -----------------------------------

@pytest.mark.django_db
@pytest.mark.parametrize("persona", ["owner", "admin_user"])
def test_list_sorted_by_name_reads_the_sort_name_index_not_a_sort_of_every_client(client, owner, admin_user, persona):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    if connection.vendor != "postgresql":
        pytest.skip("the plan is PostgreSQL's")
    from accounts.models import Role
    from conftest import make_user

    others = make_user("otro", Role.COMERCIAL)
    rows = []
    for n in range(20_000):
        row = Client(owner=owner if n % 10 == 0 else others, first_name=f"Nombre{n:05d}", last_name="Apellido")
        row.refresh_search_fields()
        rows.append(row)
    Client.objects.bulk_create(rows, batch_size=5000)
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {Client._meta.db_table}")
    user = owner if persona == "owner" else admin_user
    index = "client_owner_sort_name_idx" if persona == "owner" else "client_sort_name_idx"
    client.force_login(user)
    for params in ({}, {"sort": "name"}, {"sort": "-name"}):
        with CaptureQueriesContext(connection) as queries:
            assert client.get(reverse("clients:client_list"), params).status_code == 200
        page_sql = next(q["sql"] for q in queries if "ORDER BY" in q["sql"] and "sort_name" in q["sql"] and "LIMIT" in q["sql"])
        with connection.cursor() as cursor:
            cursor.execute(f"EXPLAIN {page_sql}")
            plan = "\n".join(line for (line,) in cursor.fetchall())
        assert index in plan, plan
        assert "Sort Key" not in plan, plan  # walks the index in order and stops after a page
