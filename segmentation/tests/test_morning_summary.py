import datetime as dt

import pytest
from django.core import mail
from django.core.mail import EmailMultiAlternatives
from django.utils import timezone, translation
from django.utils.translation import gettext, ngettext

from accounts.models import Role, User
from accounts.services import user_create
from clients.models import Alert, AlertReason, Client, Contract, FollowUp, Status
from clients.tests.factories import ClientFactory, ContractFactory, FollowUpFactory
from segmentation.models import StatusChange
from segmentation.rules import Thresholds
from segmentation.summary import MAX_REDS, morning_summaries_send

DAY = dt.date(2025, 3, 10)
SITE = "https://cartera.example"


@pytest.fixture(autouse=True)
def site_url(settings):
    settings.SITE_URL = SITE


def at(day: dt.date, hour: int) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=timezone.get_default_timezone())


def salesperson(username: str, language: str = "es", email: str | None = None) -> User:
    return user_create(
        username=username, password="s3cret-pass-123", role=Role.COMERCIAL, first_name=username.capitalize(),
        email=f"{username}@cartera.example" if email is None else email, language=language,
    )


def red_client(owner: User, **names) -> Client:
    return ClientFactory(
        owner=owner, alert=Alert.RED, alert_reason=AlertReason.FOLLOWUP_OVERDUE, alert_value="3", **names
    )


def full_portfolio(owner: User, size: int = 1) -> None:
    """`size` of everything the summary lists, plus what it must leave out."""
    for n in range(size):
        red = red_client(owner, first_name="Ana", last_name=f"Rojo{n}")
        FollowUpFactory(client=red, due_at=at(DAY - dt.timedelta(days=3), 9))  # overdue
        FollowUpFactory(client=ClientFactory(owner=owner, first_name="Beatriz", last_name=f"Hoy{n}"),
                        due_at=at(DAY, 10), kind=FollowUp.Kind.CALL)
        dormant = ClientFactory(owner=owner, first_name="Carlos", last_name=f"Dormido{n}",
                                status=Status.DORMANT, last_purchase_date=DAY - dt.timedelta(days=91))
        StatusChange.objects.create(client=dormant, from_status=Status.ACTIVE, to_status=Status.DORMANT, date=DAY)
        contract(ClientFactory(owner=owner, first_name="Diana", last_name=f"Contrato{n}"),
                        title=f"Mantenimiento {n}", end_date=DAY + dt.timedelta(days=10))
    # Left out: tomorrow's follow-up, a done one today, yesterday's dormant, a renewed contract,
    # a contract ending after the notice, a yellow client.
    quiet = ClientFactory(owner=owner, first_name="Elena", last_name="Fuera", alert=Alert.YELLOW)
    FollowUpFactory(client=quiet, due_at=at(DAY + dt.timedelta(days=1), 10))
    FollowUpFactory(client=quiet, due_at=at(DAY, 11), status=FollowUp.State.DONE)
    StatusChange.objects.create(client=quiet, from_status=Status.ACTIVE, to_status=Status.DORMANT,
                                date=DAY - dt.timedelta(days=1))
    contract(quiet, title="Renovado", end_date=DAY + dt.timedelta(days=5),
                    renewal_status=Contract.Renewal.RENEWED)
    contract(quiet, title="Lejano", end_date=DAY + dt.timedelta(days=31))


def contract(client: Client, **fields) -> Contract:
    return ContractFactory(client=client, start_date=DAY - dt.timedelta(days=300), **fields)


def subject_in(language: str, *, reds: int, today: int) -> str:
    with translation.override(language):
        return gettext("Your day in Cartera: %(reds)s, %(today)s") % {
            "reds": ngettext("%(count)d red client", "%(count)d red clients", reds) % {"count": reds},
            "today": ngettext("%(count)d follow-up today", "%(count)d follow-ups today", today) % {"count": today},
        }


def html_of(message: EmailMultiAlternatives) -> str:
    [(html, mimetype)] = message.alternatives
    assert mimetype == "text/html"
    return html


@pytest.mark.django_db
def test_summary_lists_reds_agenda_new_dormant_and_renewals_in_one_email():
    owner = salesperson("marta")
    full_portfolio(owner)

    assert morning_summaries_send(day=DAY, thresholds=Thresholds()) == 1

    [message] = mail.outbox
    assert message.to == ["marta@cartera.example"]
    assert message.subject == subject_in("es", reds=1, today=1)
    text, html = message.body, html_of(message)
    clients = {c.last_name: c for c in Client.objects.filter(owner=owner)}
    for body in (text, html):
        assert "10 de marzo de 2025" in body
        assert "Rojo0" in body and "Seguimiento vencido hace 3 días" in body
        assert "Hoy0" in body and "Llamada" in body and "10:00" in body
        assert "Dormido0" in body
        assert "Contrato0" in body and "Mantenimiento 0" in body and "20/03/2025" in body
        assert "Fuera" not in body and "Renovado" not in body and "Lejano" not in body
        for name in ("Rojo0", "Hoy0", "Dormido0", "Contrato0"):
            assert f"{SITE}/clients/{clients[name].pk}/" in body
        assert f"{SITE}/agenda/" in body
        with translation.override("es"):
            assert ngettext("You also have %(count)d overdue follow-up.", "You also have %(count)d overdue follow-ups.",
                            1) % {"count": 1} in body
    assert f'href="{SITE}/clients/{clients["Rojo0"].pk}/"' in html
    owner.refresh_from_db()
    assert owner.morning_summary_sent_on == DAY


@pytest.mark.django_db
def test_second_run_on_the_same_day_sends_nothing_and_the_next_day_sends_again():
    owner = salesperson("marta")
    full_portfolio(owner)
    assert morning_summaries_send(day=DAY, thresholds=Thresholds()) == 1

    assert morning_summaries_send(day=DAY, thresholds=Thresholds()) == 0
    assert len(mail.outbox) == 1

    assert morning_summaries_send(day=DAY + dt.timedelta(days=1), thresholds=Thresholds()) == 1
    assert len(mail.outbox) == 2


@pytest.mark.django_db
def test_disabled_summary_sends_nothing():
    owner = salesperson("marta")
    full_portfolio(owner)

    assert morning_summaries_send(day=DAY, thresholds=Thresholds(morning_summary_enabled=False)) == 0

    assert mail.outbox == []
    owner.refresh_from_db()
    assert owner.morning_summary_sent_on is None


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("language", "call", "overdue", "date", "absent"),
    [
        ("pt-br", "Ligação", "Acompanhamento atrasado há 3 dias", "10 de março de 2025", "Llamada"),
        ("en", "Call", "Follow-up overdue for 3 days", "March 10, 2025", "Llamada"),
    ],
)
def test_summary_is_in_the_salespersons_language(language, call, overdue, date, absent):
    owner = salesperson("joana", language=language)
    full_portfolio(owner)

    with translation.override("es"):
        morning_summaries_send(day=DAY, thresholds=Thresholds())
        # The summary left the active language alone.
        assert translation.get_language() == "es"

    [message] = mail.outbox
    assert message.subject == subject_in(language, reds=1, today=1)
    for body in (message.body, html_of(message)):
        assert call in body and overdue in body and date in body
        assert absent not in body
    assert f'lang="{language}"' in html_of(message)


@pytest.mark.django_db
def test_a_salesperson_never_sees_another_portfolio():
    marta, pablo = salesperson("marta"), salesperson("pablo")
    red_client(marta, first_name="Ana", last_name="DeMarta")
    FollowUpFactory(client=ClientFactory(owner=marta, last_name="HoyMarta"), due_at=at(DAY, 9))
    red_client(pablo, first_name="Pedro", last_name="DePablo")
    FollowUpFactory(client=ClientFactory(owner=pablo, last_name="HoyPablo"), due_at=at(DAY, 9))
    contract(ClientFactory(owner=pablo, last_name="ContratoPablo"), end_date=DAY)

    assert morning_summaries_send(day=DAY, thresholds=Thresholds()) == 2

    by_recipient = {m.to[0]: m.body + html_of(m) for m in mail.outbox}
    marta_mail, pablo_mail = by_recipient["marta@cartera.example"], by_recipient["pablo@cartera.example"]
    assert "DeMarta" in marta_mail and "HoyMarta" in marta_mail
    assert "DePablo" not in marta_mail and "HoyPablo" not in marta_mail and "ContratoPablo" not in marta_mail
    assert "DePablo" in pablo_mail and "ContratoPablo" in pablo_mail and "DeMarta" not in pablo_mail


@pytest.mark.django_db
def test_nobody_without_something_to_do_or_an_address_gets_a_summary(manager):
    idle = salesperson("idle")
    quiet = ClientFactory(owner=idle, alert=Alert.YELLOW)
    FollowUpFactory(client=quiet, due_at=at(DAY + dt.timedelta(days=2), 9))
    contract(quiet, end_date=DAY + dt.timedelta(days=5), renewal_status=Contract.Renewal.RENEWED)
    red_client(salesperson("no_mail", email=""))
    gone = salesperson("gone")
    red_client(gone)
    User.objects.filter(pk=gone.pk).update(is_active=False)
    manager.email = "gerente@cartera.example"
    manager.save()
    red_client(manager)

    assert morning_summaries_send(day=DAY, thresholds=Thresholds()) == 0

    assert mail.outbox == []
    idle.refresh_from_db()
    assert idle.morning_summary_sent_on is None


@pytest.mark.django_db
def test_long_sections_list_the_first_rows_and_count_the_rest():
    owner = salesperson("marta")
    for n in range(MAX_REDS + 2):
        red_client(owner, first_name="Ana", last_name=f"Rojo{n:02d}")

    morning_summaries_send(day=DAY, thresholds=Thresholds())

    [message] = mail.outbox
    assert message.body.count(f"{SITE}/clients/") == MAX_REDS
    assert "Rojo19" in message.body and "Rojo20" not in message.body
    with translation.override("es"):
        assert ngettext("%(count)d client in red", "%(count)d clients in red", 22) % {"count": 22} in message.body
        assert ngettext("…and %(counter)s more.", "…and %(counter)s more.", 2) % {"counter": 2} in message.body


@pytest.mark.django_db
def test_a_failed_send_does_not_hold_back_the_others_and_is_retried(monkeypatch):
    for name in ("ana", "bea", "carla"):
        red_client(salesperson(name))
    real_send, calls = EmailMultiAlternatives.send, []

    def send_then_fail(self, *args, **kwargs):
        calls.append(self.to)
        if len(calls) == 2:
            raise ConnectionError("SMTP went away")
        return real_send(self, *args, **kwargs)

    monkeypatch.setattr(EmailMultiAlternatives, "send", send_then_fail)
    assert morning_summaries_send(day=DAY, thresholds=Thresholds()) == 2
    assert [m.to for m in mail.outbox] == [["ana@cartera.example"], ["carla@cartera.example"]]

    assert morning_summaries_send(day=DAY, thresholds=Thresholds()) == 1
    assert mail.outbox[-1].to == ["bea@cartera.example"]


@pytest.mark.django_db
@pytest.mark.parametrize("size", [1, 5])
def test_summary_queries_do_not_grow_with_the_portfolio(django_assert_num_queries, size):
    full_portfolio(salesperson("marta"), size)
    full_portfolio(salesperson("pablo"), size)
    # The recipients; then per salesperson: reds, today's follow-ups, new dormant clients and
    # contracts to renew (one query each, the total in a window column), the follow-up counts
    # (one aggregate) and the UPDATE marking them sent.
    with django_assert_num_queries(1 + 2 * 6):
        assert morning_summaries_send(day=DAY, thresholds=Thresholds()) == 2


@pytest.mark.django_db
def test_a_gerente_gets_a_red_alert_when_one_reason_passes_the_share_of_the_months_lost_clients():
    """6 of the team's 11 lost clients this month cite price: above 50 %, with at least 5 lost."""
    from accounts.models import Team

    gerente = user_create(
        username="gema", password="s3cret-pass-123", role=Role.GERENTE, first_name="Gema",
        email="gema@cartera.example", language="en",
    )
    seller = salesperson("sergio", email="")  # no address: only the gerente gets an e-mail
    Team.objects.create(name="Norte", manager=gerente).members.add(seller)
    reasons = ["price"] * 6 + ["service"] * 2 + ["competitor", "", ""]
    for reason in reasons:
        ClientFactory(owner=seller, status=Status.LOST, status_since=DAY - dt.timedelta(days=2), leave_reason=reason)
    ClientFactory(owner=seller, status=Status.LOST, status_since=DAY - dt.timedelta(days=40), leave_reason="service")  # last month
    ClientFactory(owner=salesperson("otro"), status=Status.LOST, status_since=DAY, leave_reason="moved")  # another team's

    thresholds = Thresholds(leave_alert_share=50, leave_alert_minimum=5)
    assert morning_summaries_send(day=DAY, thresholds=thresholds) == 1
    [message] = mail.outbox
    assert message.to == ["gema@cartera.example"]
    assert message.subject == "Your day in Cartera: 6 of 11 lost clients this month cite “Price”"
    assert "6 of 11 lost clients this month cite “Price”" in message.body
    html = html_of(message)
    assert "6 of 11 lost clients this month cite “Price”" in html and "#dc3545" in html
    assert f"{SITE}/dashboard/leaving/" in message.body

    mail.outbox.clear()
    User.objects.update(morning_summary_sent_on=None)
    # 6 of 11 is 54.5 %: not above 55 %, and nothing else to tell her, so no e-mail at all.
    assert morning_summaries_send(day=DAY, thresholds=Thresholds(leave_alert_share=55, leave_alert_minimum=5)) == 0
    assert morning_summaries_send(day=DAY, thresholds=Thresholds(leave_alert_share=50, leave_alert_minimum=12)) == 0
