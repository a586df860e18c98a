"""The web flow: upload → preview → confirm → report; each user's imports are their own."""

import csv
import io

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import TestCase
from django.urls import reverse
from django.utils import timezone

from clients.models import Client, Purchase
from clients.tests.factories import ClientFactory
from imports.jobs import progress_get
from imports.models import ImportJob

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
CLIENTS_CSV = (
    "Código;Nombre;Apellidos;Correo;Ciudad\n"
    "C-1;José;Pérez;jose@example.com;Sevilla\n"
    "C-2;Ana;Souto;ana@example;Lugo\n"  # row 3: a bad e-mail
    "C-3;Marta;Gil;marta@example.com;Vigo\n"
)


def upload(client, text: str, kind: str = "clients", name: str = "cartera.csv", encoding: str = "utf-8"):
    file = SimpleUploadedFile(name, text.encode(encoding) if isinstance(text, str) else text, content_type="text/csv")
    return client.post(reverse("imports:import_list"), {"kind": kind, "file": file})


def preview_post(client, job: ImportJob, action: str = "preview", **changes):
    data = {f"column_{index}": "" for index in range(len(job.summary["headers"]))}
    data.update({f"column_{index}": name for name, index in job.mapping.items()})
    data.update({"owner": job.owner_id, "action": action})
    if job.only_valid:
        data["only_valid"] = "on"
    if job.create_missing_clients:
        data["create_missing_clients"] = "on"
    data.update(changes)
    data = {key: value for key, value in data.items() if value is not False}
    # The import is queued when the confirmation commits; run it (in-process, no broker) then.
    with TestCase.captureOnCommitCallbacks(execute=True):
        return client.post(reverse("imports:import_detail", args=[job.pk]), data)


def test_upload_shows_the_proposed_mapping_and_every_row_error(client, owner):
    client.force_login(owner)
    response = upload(client, CLIENTS_CSV)
    job = ImportJob.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("imports:import_detail", args=[job.pk])
    assert job.mapping == {"client_ref": 0, "first_name": 1, "last_name": 2, "email": 3, "city": 4}
    page = client.get(response["Location"])
    content = page.content.decode()
    assert page.context["errors"] == [[3, "Correo", "ana@example", page.context["errors"][0][3]]]
    assert "ana@example" in content and "Sevilla" in content  # the error and the sample rows
    assert page.context["confirmable"] is False
    assert Client.objects.count() == 0  # a preview writes nothing


def test_all_or_nothing_refuses_a_file_with_a_bad_row(client, owner):
    client.force_login(owner)
    upload(client, CLIENTS_CSV)
    job = ImportJob.objects.get()
    response = preview_post(client, job, action="confirm")
    assert response.status_code == 302
    job.refresh_from_db()
    assert job.state == ImportJob.State.PREVIEW
    assert Client.objects.count() == 0


def test_only_the_valid_rows_when_chosen_and_the_report_lists_the_skipped_ones(client, owner):
    client.force_login(owner)
    upload(client, CLIENTS_CSV)
    job = ImportJob.objects.get()
    preview_post(client, job, action="confirm", only_valid="on")
    job.refresh_from_db()
    assert job.state == ImportJob.State.DONE  # no broker in tests: the task ran in-process
    assert set(Client.objects.values_list("client_ref", flat=True)) == {"C-1", "C-3"}
    assert set(Client.objects.values_list("owner", flat=True)) == {owner.pk}
    report = client.get(reverse("imports:import_detail", args=[job.pk]))
    assert report.context["summary"]["bad_rows"] == 1
    assert "ana@example" in report.content.decode()
    errors = client.get(reverse("imports:import_report", args=[job.pk])).content.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(errors), delimiter=";"))
    assert [row[:3] for row in rows[1:]] == [["3", "Correo", "ana@example"]]


def test_a_clean_file_imports_in_full_and_twice_creates_nothing(client, owner):
    client.force_login(owner)
    text = CLIENTS_CSV.replace("ana@example;", "ana@example.com;")
    upload(client, text)
    job = ImportJob.objects.get()
    preview_post(client, job, action="confirm")
    job.refresh_from_db()
    assert job.state == ImportJob.State.DONE
    assert bytes(job.data) == b""  # the file is not kept once imported
    assert Client.objects.count() == 3
    upload(client, text)
    again = ImportJob.objects.latest("pk")
    assert again.summary["clients_created"] == 0 and again.summary["clients_matched"] == 3
    page = client.get(reverse("imports:import_detail", args=[again.pk]))
    assert page.context["confirmable"] is False
    assert 'data-testid="nothing-to-import"' in page.content.decode()
    preview_post(client, again, action="confirm")
    again.refresh_from_db()
    assert again.state == ImportJob.State.PREVIEW and Client.objects.count() == 3


def test_changing_the_mapping_reanalyses(client, owner):
    client.force_login(owner)
    upload(client, 'Fecha,Importe,Cliente\n31/10/2026,"1.234,50",C-1\n', kind="purchases")
    job = ImportJob.objects.get()
    assert job.summary["problems"]  # "Cliente" is not a known header: no client column
    ClientFactory(owner=owner, client_ref="C-1")
    preview_post(client, job, column_2="client_ref")
    job.refresh_from_db()
    assert job.mapping == {"date": 0, "amount": 1, "client_ref": 2}
    assert not job.summary["problems"] and job.summary["purchases_created"] == 1
    preview_post(client, job, action="confirm")
    assert Purchase.objects.get().amount == 1234.5
    record = Client.objects.get()
    assert record.purchase_count == 1 and record.status != "prospect"


def test_a_field_mapped_twice_is_refused(client, owner):
    client.force_login(owner)
    upload(client, CLIENTS_CSV)
    job = ImportJob.objects.get()
    response = client.post(
        reverse("imports:import_detail", args=[job.pk]),
        {
            "column_0": "client_ref",
            "column_1": "client_ref",
            "owner": owner.pk,
            "action": "confirm",
        },
    )
    assert response.status_code == 200
    assert response.context["form"].errors["column_1"]
    job.refresh_from_db()
    assert job.state == ImportJob.State.PREVIEW


def test_a_gerente_imports_into_a_team_members_portfolio_not_another_teams(client, manager, owner, outsider):
    client.force_login(manager)
    upload(client, CLIENTS_CSV.replace("ana@example;", "ana@example.com;"))
    job = ImportJob.objects.get()
    refused = preview_post(client, job, action="confirm", owner=outsider.pk)
    assert refused.status_code == 200 and "owner" in refused.context["form"].errors
    preview_post(client, job, action="confirm", owner=owner.pk)
    assert set(Client.objects.values_list("owner", flat=True)) == {owner.pk}


def test_a_comercial_can_only_import_into_their_own_portfolio(client, owner, teammate):
    client.force_login(owner)
    upload(client, CLIENTS_CSV)
    job = ImportJob.objects.get()
    response = preview_post(client, job, owner=teammate.pk)
    assert "owner" in response.context["form"].errors


def test_a_row_of_another_portfolio_is_an_error_not_an_update(client, owner, outsider):
    theirs = ClientFactory(owner=outsider, client_ref="C-1", city="")
    client.force_login(owner)
    upload(client, CLIENTS_CSV)
    job = ImportJob.objects.get()
    assert [error[:3] for error in job.errors if error[0] == 2] == [[2, "Código", "C-1"]]
    theirs.refresh_from_db()
    assert theirs.city == ""


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "This is not a CSV or Excel (.xlsx) file."),
        (b"", "The submitted file is empty."),
        (b"   \n\n", "The file is empty."),
    ],
)
def test_files_that_are_not_tables_are_refused_with_a_message(client, owner, payload, message):
    client.force_login(owner)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    response = client.post(
        reverse("imports:import_list"), {"kind": "clients", "file": SimpleUploadedFile("x.csv", payload)}
    )
    assert response.status_code == 200
    assert message in " ".join(response.context["form"].errors["file"])
    assert not ImportJob.objects.exists()


@pytest.mark.parametrize(("filename", "stored"), [("/", None), ("..", None), ("../../etc/passwd", "passwd")])
def test_a_file_named_like_a_path_is_refused_or_reduced_to_its_name(client, owner, filename, stored):
    # Built by hand: the test client itself refuses to send such names, a browser or a script may not.
    client.force_login(owner)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    body = (
        f'--B\r\nContent-Disposition: form-data; name="kind"\r\n\r\nclients\r\n'
        f'--B\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
        f"Content-Type: text/csv\r\n\r\n{CLIENTS_CSV}\r\n--B--\r\n"
    ).encode()
    response = client.generic(
        "POST", reverse("imports:import_list"), body, content_type="multipart/form-data; boundary=B"
    )
    if stored is None:  # no usable name: Django drops the file, and the form says so
        assert response.status_code == 200
        assert "This field is required." in response.context["form"].errors["file"]
        assert not ImportJob.objects.exists()
    else:
        assert response.status_code == 302
        assert ImportJob.objects.get().filename == stored


def test_a_file_over_the_size_limit_is_refused(client, owner, monkeypatch):
    monkeypatch.setattr("imports.forms.MAX_BYTES", 100)
    client.force_login(owner)
    response = upload(client, CLIENTS_CSV * 3)
    assert response.status_code == 200 and response.context["form"].errors["file"]
    assert not ImportJob.objects.exists()


def test_another_users_import_is_a_404(client, owner, teammate, manager):
    client.force_login(owner)
    upload(client, CLIENTS_CSV)
    job = ImportJob.objects.get()
    for someone in (teammate, manager):
        client.force_login(someone)
        for name in ("import_detail", "import_progress", "import_report"):
            assert client.get(reverse(f"imports:{name}", args=[job.pk])).status_code == 404
        for name in ("import_detail", "import_reopen", "import_delete"):
            assert client.post(reverse(f"imports:{name}", args=[job.pk])).status_code == 404
    assert ImportJob.objects.filter(pk=job.pk, state=ImportJob.State.PREVIEW).exists()


def test_confirming_twice_imports_once(client, owner):
    client.force_login(owner)
    upload(client, "Referencia,Fecha,Importe\nC-1,2026-10-01,10\n", kind="purchases")
    ClientFactory(owner=owner, client_ref="C-1")
    job = ImportJob.objects.get()
    preview_post(client, job)  # re-analysed: the client exists now
    job.refresh_from_db()
    preview_post(client, job, action="confirm")
    preview_post(client, job, action="confirm")
    assert Purchase.objects.count() == 1


def test_progress_reloads_the_page_when_finished(client, owner):
    client.force_login(owner)
    upload(client, CLIENTS_CSV.replace("ana@example;", "ana@example.com;"))
    job = ImportJob.objects.get()
    preview_post(client, job, action="confirm")
    job.refresh_from_db()
    response = client.get(reverse("imports:import_progress", args=[job.pk]))
    assert response["HX-Refresh"] == "true"
    assert progress_get(job)["percent"] == 100


def test_a_refused_import_goes_back_to_its_preview(client, owner, outsider):
    client.force_login(owner)
    upload(client, "Referencia,Fecha,Importe\nC-1,2026-10-01,10\n", kind="purchases")
    job = ImportJob.objects.get()
    ClientFactory(owner=owner, client_ref="C-1")
    preview_post(client, job)
    job.refresh_from_db()
    # The client leaves the portfolio between the preview and the run: the run refuses it all.
    Client.objects.update(owner=outsider)
    preview_post(client, job, action="confirm")
    job.refresh_from_db()
    assert job.state == ImportJob.State.FAILED and Purchase.objects.count() == 0
    assert job.errors
    client.post(reverse("imports:import_reopen", args=[job.pk]))
    job.refresh_from_db()
    assert job.state == ImportJob.State.PREVIEW


def test_the_preview_page_runs_a_constant_number_of_queries(client, owner, django_assert_num_queries):
    client.force_login(owner)
    upload(client, CLIENTS_CSV * 1 + "".join(f"D-{n};Nombre{n};Apellido;d{n}@example.com;Vigo\n" for n in range(40)))
    job = ImportJob.objects.get()
    # session, user, the job, the user's roles, the owner choices
    with django_assert_num_queries(5):
        client.get(reverse("imports:import_detail", args=[job.pk]))


@pytest.mark.parametrize("imports", [1, 6])
def test_the_import_list_and_report_run_a_constant_number_of_queries(client, owner, django_assert_num_queries, imports):
    client.force_login(owner)
    for _ in range(imports):
        upload(client, CLIENTS_CSV)
    job = ImportJob.objects.latest("pk")
    preview_post(client, job, action="confirm", only_valid="on")
    # session, user, the user's roles (navigation), the user's imports
    with django_assert_num_queries(4):
        client.get(reverse("imports:import_list"))
    # session, user, the job, the user's roles
    with django_assert_num_queries(4):
        client.get(reverse("imports:import_detail", args=[job.pk]))


def test_a_row_of_a_client_in_the_trash_says_so(client, owner):
    from segmentation.records import client_trash

    record = ClientFactory(owner=owner, client_ref="C-1", city="")
    client_trash(by=owner, client=record)
    client.force_login(owner)
    upload(client, CLIENTS_CSV)
    job = ImportJob.objects.get()
    [error] = [error for error in job.errors if error[0] == 2]
    assert error[:3] == [2, "Código", "C-1"] and "papelera" in error[3]
    record.refresh_from_db()
    assert record.city == ""
