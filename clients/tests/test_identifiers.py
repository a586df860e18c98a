"""Tax ids by country (python-stdnum), phones in E.164 and countries read from what people write.

The numbers are real-world examples, most of them from python-stdnum's own doctests.
"""

import importlib

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import translation

from clients import phones
from clients.identifiers import country_code, tax_id_clean, tax_id_display, tax_id_normal
from clients.models import Client
from clients.tests.factories import ClientFactory
from clients.text import fold, phone_key, tax_key

VALID = [
    # country, as typed, normal form, as shown
    ("ES", "ES B-58378431", "B58378431", "B58378431"),  # CIF with the VAT prefix
    ("ES", "b64717838", "B64717838", "B64717838"),  # CIF, lower case
    ("ES", "54362315-k", "54362315K", "54362315K"),  # NIF (DNI)
    ("ES", "12.345.678-Z", "12345678Z", "12345678Z"),  # with the thousands dots
    ("ES", "X-5253868-R", "X5253868R", "X5253868R"),  # NIE
    ("PT", "PT 501 964 843", "501964843", "501964843"),
    ("BR", "390.533.447-05", "39053344705", "390.533.447-05"),  # CPF
    ("BR", "16727230000197", "16727230000197", "16.727.230/0001-97"),  # CNPJ
    ("CL", "76086428-5", "760864285", "76.086.428-5"),
    ("CL", "CL 12531909-2", "125319092", "12.531.909-2"),
    ("MX", "GODE 561231 GR8", "GODE561231GR8", "GODE561231GR8"),  # a person
    ("MX", "MAB-930714-8T4", "MAB9307148T4", "MAB9307148T4"),  # a company
    ("AR", "20-05536168-2", "20055361682", "20-05536168-2"),
    ("CO", "213.123.432-1", "2131234321", "213.123.432-1"),
    ("PE", "20512333797", "20512333797", "20512333797"),
    ("FR", "FR 61 954 506 077", "61954506077", "FR61954506077"),  # with the prefix
    ("FR", "61954506077", "61954506077", "FR61954506077"),  # without it
    ("BE", "BE697449992", "0697449992", "BE0697449992"),
    ("DE", "DE 136,695 976", "136695976", "DE136695976"),
    ("IT", "IT 00743110157", "00743110157", "IT00743110157"),
    ("NL", "NL004495445B01", "004495445B01", "NL004495445B01"),
    ("GR", "EL 094259216", "094259216", "EL094259216"),  # Greece's VAT prefix is EL
]

INVALID = [
    ("ES", "B64717839"),  # wrong check digit
    ("ES", "54362315Z"),  # wrong DNI letter
    ("PT", "501964842"),
    ("BR", "231.002.999-00"),
    ("BR", "16.727.230/0001-98"),
    ("CL", "12531909-3"),
    ("MX", "GODE561331GR8"),  # no 31st of the 13th month
    ("AR", "20267565392"),
    ("CO", "2131234325"),
    ("PE", "20512333798"),
    ("FR", "FR 61 954 506 078"),
    ("DE", "DE136695978"),
]


@pytest.mark.parametrize(("country", "typed", "normal", "shown"), VALID)
def test_a_valid_tax_id_is_stored_in_its_normal_form_and_shown_as_its_country_writes_it(country, typed, normal, shown):
    assert tax_id_clean(typed, country) == normal
    assert tax_key(normal) == normal  # the import's match key is the stored value itself
    assert tax_id_display(normal, country) == shown


@pytest.mark.parametrize(("country", "typed"), INVALID)
def test_a_wrong_tax_id_is_refused(country, typed):
    assert tax_id_normal(typed, country) is None
    with pytest.raises(ValidationError):
        tax_id_clean(typed, country)


def test_the_error_names_the_country_kinds_of_id():
    with translation.override("en"), pytest.raises(ValidationError) as spanish:
        tax_id_clean("B64717839", "ES")
    assert spanish.value.messages == ["This is not a valid Spanish NIF, NIE or CIF: check its letters and digits."]
    with translation.override("en"), pytest.raises(ValidationError) as brazilian:
        tax_id_clean("231.002.999-00", "BR")
    assert "CPF or CNPJ" in brazilian.value.messages[0]
    with translation.override("en"), pytest.raises(ValidationError) as french:
        tax_id_clean("FR61954506078", "FR")
    assert french.value.messages == ["This is not a valid VAT number of France: check its letters and digits."]


def test_a_tax_id_of_a_country_without_checker_is_kept_trimmed_and_upper_case():
    assert tax_id_clean("  ab-123 ", "US") == "AB-123"
    assert tax_id_clean("", "ES") == ""
    assert tax_id_display("whatever", "ES") == "whatever"  # an invalid value held is shown as it is


@pytest.mark.parametrize(("country", "typed", "stored", "shown"), [
    ("ES", "612 34 56 78", "+34612345678", "612 34 56 78"),
    ("ES", "0034 912-345-678", "+34912345678", "912 34 56 78"),
    ("PT", "912 345 678", "+351912345678", "912 345 678"),
    ("BR", "(11) 98765-4321", "+5511987654321", "(11) 98765-4321"),
    ("MX", "044 55 1234 5678", "+525512345678", "55 1234 5678"),  # the old mobile prefix
    ("CL", "9 6123 4567", "+56961234567", "9 6123 4567"),
    ("AR", "011 15-2345-6789", "+5491123456789", "011 15-2345-6789"),
    ("ES", "+351 912 345 678", "+351912345678", "+351 912 345 678"),  # another country's number
])
def test_a_phone_is_stored_in_e164_and_shown_in_the_national_format(country, typed, stored, shown):
    assert phones.phone_clean(typed, country) == stored
    assert phones.display(stored, country) == shown


@pytest.mark.parametrize(("country", "typed"), [("ES", "12345"), ("ES", "hola"), ("BR", "(11) 1234"), ("PT", "+351 1")])
def test_what_cannot_be_a_phone_is_refused(country, typed):
    with pytest.raises(ValidationError):
        phones.phone_clean(typed, country)


@pytest.mark.parametrize(("written", "code"), [
    ("España", "ES"), ("espana", "ES"), ("Espanha", "ES"), ("SPAIN", "ES"), ("es", "ES"), ("ESP", "ES"),
    ("Brasil", "BR"), ("Brazil", "BR"), ("México", "MX"), ("MEXICO", "MX"), ("Perú", "PE"), ("Alemanha", "DE"),
    ("Alemania", "DE"), ("Germany", "DE"), ("Estados Unidos", "US"), ("EE.UU.", "US"), ("Reino Unido", "GB"),
    ("Países Bajos", "NL"), ("Holanda", "NL"),
])
def test_a_country_is_read_from_its_name_in_spanish_portuguese_or_english_or_its_code(written, code):
    assert country_code(written) == code


@pytest.mark.parametrize("written", ["Narnia", "XX", "", "  "])
def test_an_unknown_country_is_none(written):
    assert country_code(written) is None


def _posted(**fields) -> dict:
    return {"first_name": "Lucía", "last_name": "Gómez", "country": "ES", **fields}


@pytest.mark.django_db
def test_the_client_form_refuses_a_wrong_tax_id_naming_the_country_ids(client, owner):
    client.force_login(owner)
    response = client.post(reverse("clients:client_create"), _posted(tax_id="54362315Z"), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert response.context["form"].errors["tax_id"] == [
        "This is not a valid Spanish NIF, NIE or CIF: check its letters and digits."
    ]
    assert not Client.objects.exists()


@pytest.mark.django_db
def test_the_client_form_reads_tax_id_and_phone_by_the_chosen_country_and_stores_their_normal_form(client, owner):
    client.force_login(owner)
    response = client.post(reverse("clients:client_create"), _posted(
        country="br", tax_id="390.533.447-05", phone="(11) 98765-4321",
    ))
    assert response.status_code == 302
    created = Client.objects.get()
    assert (created.country, created.tax_id, created.tax_key, created.phone) == ("BR", "39053344705", "39053344705", "+5511987654321")
    assert created.phone_key == phone_key("98765-4321")  # a search by the last digits still finds it
    page = client.get(created.get_absolute_url()).content.decode()
    assert '>(11) 98765-4321</a>' in page and 'href="tel:+5511987654321"' in page
    assert "390.533.447-05" in page


@pytest.mark.django_db
def test_the_client_form_refuses_what_cannot_be_a_phone(client, owner):
    client.force_login(owner)
    response = client.post(reverse("clients:client_create"), _posted(phone="12345"), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert "cannot be a phone number" in response.context["form"].errors["phone"][0]
    assert not Client.objects.exists()


@pytest.mark.django_db
def test_a_spanish_nif_is_refused_for_a_client_in_portugal(client, owner):
    client.force_login(owner)
    response = client.post(reverse("clients:client_create"), _posted(country="PT", tax_id="54362315K"), HTTP_ACCEPT_LANGUAGE="en")
    assert response.context["form"].errors["tax_id"] == ["This is not a valid Portuguese NIF: check its digits."]


@pytest.mark.django_db
def test_an_invalid_tax_id_already_held_does_not_block_an_unrelated_edit(client, owner):
    record = ClientFactory(owner=owner, tax_id="B1234", country="ES")  # typed before the checks
    client.force_login(owner)
    data = _posted(first_name=record.first_name, last_name=record.last_name, tax_id="B1234", city="Lugo", phone=record.phone)
    response = client.post(reverse("clients:client_edit", args=[record.pk]), data | {"version": record.version})
    assert response.status_code == 302
    record.refresh_from_db()
    assert (record.city, record.tax_id) == ("Lugo", "B1234")
    changed = client.post(reverse("clients:client_edit", args=[record.pk]), data | {"tax_id": "B1235", "version": record.version})
    assert changed.status_code == 200 and "tax_id" in changed.context["form"].errors


@pytest.mark.django_db
def test_the_list_shows_and_filters_countries_by_name(client, owner):
    ClientFactory(owner=owner, first_name="Ana", country="BR")
    ClientFactory(owner=owner, first_name="Bea", country="ES")
    client.force_login(owner)
    with translation.override("es"):
        response = client.get(reverse("clients:client_list"), {"country": "BR"}, HTTP_ACCEPT_LANGUAGE="es")
    assert [row.record.first_name for row in response.context["table"].page.object_list] == ["Ana"]
    page = response.content.decode()
    assert ">Brasil</td>" in page
    assert '<option value="BR" selected>Brasil</option>' in page
    refused = client.get(reverse("clients:client_list"), {"country": "Narnia"})
    assert refused.status_code == 200


@pytest.mark.django_db
def test_the_client_form_offers_translated_country_names_with_the_markets_first(client, owner):
    client.force_login(owner)
    page = client.get(reverse("clients:client_create"), HTTP_ACCEPT_LANGUAGE="pt-br").content.decode()
    select = page[page.index('name="country"'):]
    select = select[:select.index("</select>")]
    assert select.index('value="ES"') < select.index('value="BR"') < select.index('value="AD"')
    assert ">Espanha</option>" in select and ">Alemanha</option>" in select


@pytest.mark.django_db
def test_the_admin_checks_and_normalises_identifiers_as_the_client_form_does(client, owner, admin_user):
    from segmentation.tests.test_records import _admin_client_data

    record = ClientFactory(owner=owner, country="PT")
    client.force_login(admin_user)
    url = reverse("admin:clients_client_change", args=[record.pk])
    refused = client.post(url, _admin_client_data(record, owner, tax_id="501964842"), HTTP_ACCEPT_LANGUAGE="en")
    assert refused.status_code == 200
    assert refused.context["adminform"].form.errors["tax_id"] == ["This is not a valid Portuguese NIF: check its digits."]
    saved = client.post(url, _admin_client_data(record, owner, tax_id="PT 501 964 843", phone="912 345 678"))
    assert saved.status_code == 302
    record.refresh_from_db()
    assert (record.tax_id, record.phone) == ("501964843", "+351912345678")


migration = importlib.import_module("clients.migrations.0015_identifiers_normal_form")


@pytest.mark.django_db
def test_the_migration_puts_valid_identifiers_held_in_normal_form_and_leaves_the_rest_as_typed(owner, django_assert_num_queries):
    from django.apps import apps

    typed = [
        ("ES", "ES B-58378431", "612 34 56 78"),
        ("BR", "390.533.447-05", "(11) 98765-4321"),
        ("ES", "B1234", "12345"),  # neither passes
        ("US", " ab-1 ", ""),  # no checker: trimmed and upper case
    ]
    made = [ClientFactory(owner=owner, country=country, tax_id=tax_id, phone=phone) for country, tax_id, phone in typed]
    with django_assert_num_queries(2):  # the read, one write for the three clients that change
        migration.identifiers_normal_form(apps, None)
    with django_assert_num_queries(1):  # a second run finds nothing to change
        migration.identifiers_normal_form(apps, None)
    stored = [Client.objects.values_list("tax_id", "tax_key", "phone", "phone_key").get(pk=c.pk) for c in made]
    assert stored == [
        ("B58378431", "B58378431", "+34612345678", phone_key("612345678")),
        ("39053344705", "39053344705", "+5511987654321", phone_key("987654321")),
        ("B1234", "B1234", "12345", phone_key("12345")),
        ("AB-1", "AB1", "", ""),
    ]
    assert Client.objects.search("B58378431").get() == made[0]


@pytest.mark.django_db
def test_a_search_finds_a_tax_id_written_with_other_separators(owner):
    record = ClientFactory(owner=owner, tax_id="12345678Z", country="ES")
    ClientFactory(owner=owner, tax_id="", country="ES")
    assert list(Client.objects.search("12.345.678-z")) == [record]
    assert list(Client.objects.search("12345678 Z")) == [record]


def test_fold_drops_marks_and_case_whether_or_not_the_text_is_ascii():
    assert fold("  José  PÉREZ ") == "jose perez"
    assert fold("Conceição ŒUVRE ﬁ") == "conceicao œuvre fi"
    assert fold("Plain ASCII\tText") == "plain ascii text"
    assert fold(None) == ""


def test_fold_collapses_every_kind_of_whitespace_as_a_regular_expressions_whitespace():
    """fold joins str.split()'s words; a run of anything \\s matches is one space, none at the ends."""
    import re
    import sys

    spaces = [chr(code) for code in range(sys.maxunicode + 1) if re.fullmatch(r"\s", chr(code))]
    assert {"\t", "\n", "\xa0", "\u2003", "\u3000"} <= set(spaces)
    for space in spaces:
        assert fold(f"{space}José{space}{space}PÉREZ {space}") == "jose perez"
    assert fold("  Ana\tMaría \n de  la\xa0Cruz ") == "ana maria de la cruz"
    assert fold("") == fold(None) == ""
