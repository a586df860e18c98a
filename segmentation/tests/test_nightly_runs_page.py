"""The administrador's page of the last nightly runs (segmentation.views.nightly_runs)."""

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import translation

from segmentation.models import NightlyRun, NightlyStep
from segmentation.tests.factories import NightlyRunFactory

URL = reverse("segmentation:nightly_runs")
Step, State = NightlyStep.Name, NightlyStep.State


@pytest.fixture
def failed_run(db) -> NightlyRun:
    return NightlyRunFactory(state=NightlyRun.State.FAILED, steps={
        Step.RECOMMENDATIONS: {"state": State.FAILED, "rows_changed": None, "attempts": 4,
                               "error": "OperationalError: could not connect to server"},
    })


@pytest.mark.parametrize("persona", ["owner", "teammate", "manager", "outsider"])
def test_only_an_administrador_sees_the_runs(client, request, failed_run, persona):
    client.force_login(request.getfixturevalue(persona))

    response = client.get(URL)

    assert response.status_code == 403
    assert "could not connect" not in response.content.decode()


def test_anonymous_is_sent_to_the_login_page(client, db):
    response = client.get(URL)

    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_the_page_shows_every_step_with_its_state_rows_attempts_and_error(client, admin_user, failed_run):
    done = NightlyRunFactory()
    client.force_login(admin_user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"

    response = client.get(URL)

    page = response.content.decode()
    assert response.status_code == 200
    assert list(response.context["runs"]) == [done, failed_run]  # the newest first
    assert page.count('data-state="failed"') == 2  # the run and its step
    assert "OperationalError: could not connect to server" in page
    with translation.override("en"):
        assert all(str(label) in page for label in Step.labels)
    assert page.count('data-state="done"') == 1 + len(Step.values) + len(Step.values) - 1


@pytest.mark.parametrize("language, words", [
    ("es", ["Ejecuciones nocturnas", "Recálculo del ciclo de vida", "Filas cambiadas", "Fallido"]),
    ("pt-br", ["Execuções noturnas", "Recálculo do ciclo de vida", "Linhas alteradas", "Falhou"]),
])
def test_the_page_speaks_spanish_and_portuguese(client, admin_user, failed_run, language, words):
    client.force_login(admin_user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language

    page = client.get(URL).content.decode()

    assert all(word in page for word in words), [word for word in words if word not in page]


def test_the_administration_menu_links_the_page_for_an_administrador_only(client, admin_user, owner):
    client.force_login(admin_user)
    assert URL in client.get(reverse("segmentation:lifecycle_settings")).content.decode()
    client.force_login(owner)
    assert URL not in client.get(reverse("clients:agenda")).content.decode()


@pytest.mark.parametrize("runs", [1, 8])
def test_the_page_queries_do_not_grow_with_the_runs(client, admin_user, django_assert_num_queries, runs):
    NightlyRunFactory.create_batch(runs)
    client.force_login(admin_user)

    # session, user, the user's groups (its role), the runs, their steps (one prefetch)
    with django_assert_num_queries(5):
        response = client.get(URL)

    assert response.status_code == 200 and len(response.context["runs"]) == runs
