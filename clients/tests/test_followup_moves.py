"""Follow-ups that move: the services (reschedule, postpone, hand over, cancel, note) and their views."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone, translation

from audit.models import AuditEntry
from clients.models import Alert, ClientShare, FollowUp
from clients.tests.factories import ClientFactory, FollowUpFactory
from segmentation import records
from segmentation.services import alert_refresh_client

pytestmark = pytest.mark.django_db
HTMX = {"HX-Request": "true"}
Action = AuditEntry.Action


def local(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, minute)))


def entries(followup: FollowUp, action: str) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(subject="followup", object_id=followup.pk, action=action))


@pytest.fixture
def overdue(owner) -> FollowUp:
    record = ClientFactory(owner=owner, first_name="Lucía", last_name="Ferreira")
    followup = FollowUpFactory(client=record, due_at=timezone.now() - dt.timedelta(days=2), notes="Catálogo")
    alert_refresh_client(record.pk)
    return followup


# --- Services -------------------------------------------------------------------------------

def test_reschedule_moves_the_follow_up_raises_its_sequence_audits_and_recolours(owner, overdue):
    overdue.client.refresh_from_db()
    assert overdue.client.alert == Alert.RED
    before = timezone.localtime(overdue.due_at).isoformat(timespec="minutes")
    new_due = local(timezone.localdate() + dt.timedelta(days=3), 16, 30)

    moved = records.followup_reschedule(followup=overdue, by=owner, due_at=new_due, reason="Está de viaje")

    overdue.refresh_from_db()
    assert overdue.due_at == new_due and overdue.sequence == 1 == moved.sequence
    [entry] = entries(overdue, Action.RESCHEDULE)
    assert entry.user == owner and entry.client_id == overdue.client_id
    after = timezone.localtime(new_due).isoformat(timespec="minutes")
    assert entry.changes == {"due_at": [before, after], "reason": ["", "Está de viaje"]}
    overdue.client.refresh_from_db()
    assert overdue.client.alert != Alert.RED  # nothing overdue any more


def test_a_second_identical_reschedule_writes_nothing(owner, overdue):
    due = timezone.now() + dt.timedelta(days=1)
    records.followup_reschedule(followup=overdue, by=owner, due_at=due)
    records.followup_reschedule(followup=overdue, by=owner, due_at=due)  # a double submit
    overdue.refresh_from_db()
    assert overdue.sequence == 1 and len(entries(overdue, Action.RESCHEDULE)) == 1


@pytest.mark.parametrize("status", [FollowUp.State.DONE, FollowUp.State.CANCELLED, FollowUp.State.ON_HOLD])
@pytest.mark.parametrize(
    "change",
    [
        lambda f, by: records.followup_reschedule(followup=f, by=by, due_at=timezone.now() + dt.timedelta(days=5)),
        lambda f, by: records.followup_postpone(followup=f, by=by, to=records.Postpone.TOMORROW),
        lambda f, by: records.followup_hand_over(followup=f, by=by, to=f.client.owner.team.manager),
        lambda f, by: records.followup_cancel(followup=f, by=by, reason="Ya no hace falta"),
        lambda f, by: records.followup_note_update(followup=f, by=by, notes="Otra nota"),
    ],
    ids=["reschedule", "postpone", "hand_over", "cancel", "note"],
)
def test_only_a_pending_follow_up_changes(owner, overdue, status, change):
    FollowUp.objects.filter(pk=overdue.pk).update(status=status)  # done or cancelled in another tab meanwhile
    with translation.override("en"), pytest.raises(ValidationError, match="no longer pending"):
        change(overdue, owner)
    stored = FollowUp.objects.get(pk=overdue.pk)
    assert (stored.status, stored.sequence, stored.due_at, stored.notes) == (status, 0, overdue.due_at, "Catálogo")
    assert not AuditEntry.objects.filter(subject="followup", object_id=overdue.pk).exists()


@pytest.mark.parametrize(
    ("today", "to", "expected"),
    [
        (dt.date(2026, 12, 2), "tomorrow", dt.date(2026, 12, 3)),  # a Wednesday
        (dt.date(2026, 12, 2), "monday", dt.date(2026, 12, 7)),
        (dt.date(2026, 12, 5), "tomorrow", dt.date(2026, 12, 6)),  # Saturday: tomorrow is Sunday
        (dt.date(2026, 12, 6), "monday", dt.date(2026, 12, 7)),  # Sunday: next Monday is the day after
        (dt.date(2026, 12, 7), "monday", dt.date(2026, 12, 14)),  # Monday: a week on
        (dt.date(2026, 12, 31), "tomorrow", dt.date(2027, 1, 1)),
    ],
)
def test_postpone_goes_to_tomorrow_or_next_monday_at_the_same_time_of_day(today, to, expected):
    due_at = local(dt.date(2026, 11, 20), 9, 45)
    assert records.postpone_to(due_at, to, today=today) == local(expected, 9, 45)


def test_postpone_keeps_the_local_time_across_a_dst_change():
    # Europe/Madrid leaves summer time on 2026-10-25: 10:00 stays 10:00 on the wall.
    due_at = local(dt.date(2026, 10, 24), 10)
    assert timezone.localtime(records.postpone_to(due_at, "tomorrow", today=dt.date(2026, 10, 24))).hour == 10


def test_postpone_writes_a_reschedule_entry(owner, overdue):
    records.followup_postpone(followup=overdue, by=owner, to=records.Postpone.TOMORROW, today=dt.date(2026, 12, 2))
    overdue.refresh_from_db()
    assert timezone.localdate(overdue.due_at) == dt.date(2026, 12, 3) and overdue.sequence == 1
    assert len(entries(overdue, Action.RESCHEDULE)) == 1


def test_owner_hands_over_to_their_gerente(owner, manager, overdue):
    records.followup_hand_over(followup=overdue, by=owner, to=manager)
    overdue.refresh_from_db()
    assert overdue.assigned_to == manager and overdue.sequence == 1
    [entry] = entries(overdue, Action.HAND_OVER)
    assert entry.changes == {"assigned_to": [str(owner), str(manager)]}
    assert not ClientShare.objects.exists()  # the gerente already sees the team's clients


def test_a_comercial_cannot_hand_over_to_a_teammate_or_an_outsider(owner, teammate, outsider, overdue):
    for someone in (teammate, outsider):
        with pytest.raises(ValidationError):
            records.followup_hand_over(followup=overdue, by=owner, to=someone)
    overdue.refresh_from_db()
    assert overdue.assigned_to == owner and overdue.sequence == 0


def test_a_gerente_hands_over_to_a_team_member_who_then_sees_the_client(manager, owner, teammate, overdue):
    records.followup_hand_over(followup=overdue, by=manager, to=teammate)
    overdue.refresh_from_db()
    assert overdue.assigned_to == teammate
    assert ClientShare.objects.filter(client=overdue.client, user=teammate).exists()
    assert AuditEntry.objects.filter(client=overdue.client, action=Action.SHARE).count() == 1


def test_a_gerente_cannot_hand_over_outside_their_teams(manager, outsider, overdue):
    with pytest.raises(ValidationError):
        records.followup_hand_over(followup=overdue, by=manager, to=outsider)


def test_an_administrador_hands_over_to_any_salesperson(admin_user, outsider, overdue):
    records.followup_hand_over(followup=overdue, by=admin_user, to=outsider)
    overdue.refresh_from_db()
    assert overdue.assigned_to == outsider


def test_handing_over_twice_to_the_same_colleague_writes_once(owner, manager, overdue):
    records.followup_hand_over(followup=overdue, by=owner, to=manager)
    records.followup_hand_over(followup=overdue, by=owner, to=manager)  # a double submit
    overdue.refresh_from_db()
    assert overdue.assigned_to == manager and overdue.sequence == 1
    assert len(entries(overdue, Action.HAND_OVER)) == 1


def test_cancel_keeps_the_reason_raises_the_sequence_and_audits(owner, overdue):
    records.followup_cancel(followup=overdue, by=owner, reason="  El cliente cerró la tienda ")
    overdue.refresh_from_db()
    assert overdue.status == FollowUp.State.CANCELLED and overdue.cancel_reason == "El cliente cerró la tienda"
    assert overdue.sequence == 1
    [entry] = entries(overdue, Action.CANCEL)
    assert entry.changes == {"status": ["pending", "cancelled"], "cancel_reason": ["", "El cliente cerró la tienda"]}
    overdue.client.refresh_from_db()
    assert overdue.client.alert != Alert.RED


def test_cancel_without_a_reason_is_refused(owner, overdue):
    with pytest.raises(ValidationError):
        records.followup_cancel(followup=overdue, by=owner, reason="  ")
    overdue.refresh_from_db()
    assert overdue.status == FollowUp.State.PENDING


def test_editing_the_note_audits_it_and_keeps_the_sequence(owner, overdue):
    records.followup_note_update(followup=overdue, by=owner, notes="Llevar muestras")
    overdue.refresh_from_db()
    assert overdue.notes == "Llevar muestras" and overdue.sequence == 0
    [entry] = entries(overdue, Action.UPDATE)
    assert entry.changes == {"notes": ["Catálogo", "Llevar muestras"]}


def test_handover_candidates_follow_the_role(owner, teammate, manager, outsider, admin_user, overdue):
    as_owner = set(records.followup_handover_candidates(client=overdue.client, by=owner))
    as_manager = set(records.followup_handover_candidates(client=overdue.client, by=manager))
    as_admin = set(records.followup_handover_candidates(client=overdue.client, by=admin_user))
    assert as_owner == {owner, manager}
    assert as_manager == {owner, manager, teammate}
    assert {owner, manager, teammate, outsider} <= as_admin


# --- Views ----------------------------------------------------------------------------------

def url(name: str, followup: FollowUp, *args) -> str:
    return reverse(f"clients:{name}", args=[followup.pk, *args])


def test_reschedule_form_in_place_then_saved_in_place(client, owner, overdue):
    client.force_login(owner)
    response = client.get(url("followup_reschedule", overdue) + "?in=list", headers=HTMX)
    assert response.status_code == 200
    assert b'data-testid="followup-action-form"' in response.content and b"<html" not in response.content

    day = timezone.localdate() + dt.timedelta(days=2)
    prefix = f"followup-{overdue.pk}"
    response = client.post(
        url("followup_reschedule", overdue),
        {"in": "list", f"{prefix}-due_date": day.isoformat(), f"{prefix}-due_time": "12:15", f"{prefix}-reason": "Pidió otro día"},
        headers=HTMX,
    )
    assert response.status_code == 200
    assert b'data-testid="followup-message"' in response.content
    assert b'hx-swap-oob="innerHTML:#agenda-overdue-count">0<' in response.content  # the header's counts follow
    overdue.refresh_from_db()
    assert overdue.due_at == local(day, 12, 15) and overdue.sequence == 1


def test_reschedule_into_the_past_is_a_form_error_and_writes_nothing(client, owner, overdue):
    client.force_login(owner)
    prefix = f"followup-{overdue.pk}"
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    response = client.post(
        url("followup_reschedule", overdue),
        {"in": "list", f"{prefix}-due_date": yesterday.isoformat(), f"{prefix}-due_time": "10:00"}, headers=HTMX,
    )
    assert response.status_code == 200 and b'role="alert"' in response.content
    overdue.refresh_from_db()
    assert overdue.sequence == 0


@pytest.mark.parametrize("garbage", ["", "mañana", "2026-02-30"])
def test_bad_dates_are_form_errors_not_500s(client, owner, overdue, garbage):
    client.force_login(owner)
    prefix = f"followup-{overdue.pk}"
    response = client.post(url("followup_reschedule", overdue), {f"{prefix}-due_date": garbage, f"{prefix}-due_time": "25:00"})
    assert response.status_code == 200 and b'role="alert"' in response.content


def test_without_htmx_each_action_is_a_page_and_redirects_with_a_message(client, owner, overdue):
    client.force_login(owner)
    response = client.get(url("followup_cancel", overdue))
    assert response.status_code == 200 and b"<html" in response.content
    response = client.post(url("followup_cancel", overdue), {"in": "client", f"followup-{overdue.pk}-reason": "Duplicado"}, follow=True)
    assert response.redirect_chain[-1][0] == overdue.client.get_absolute_url()
    assert len(list(response.context["messages"])) == 1
    overdue.refresh_from_db()
    assert overdue.status == FollowUp.State.CANCELLED and overdue.cancel_reason == "Duplicado"


def test_postpone_in_place_and_without_htmx(client, owner, overdue):
    client.force_login(owner)
    response = client.post(url("followup_postpone", overdue, "tomorrow"), {"in": "calendar"}, headers=HTMX)
    assert response.status_code == 200 and b'data-testid="followup-message"' in response.content
    overdue.refresh_from_db()
    assert timezone.localdate(overdue.due_at) == timezone.localdate() + dt.timedelta(days=1)
    response = client.post(url("followup_postpone", overdue, "monday"))
    assert response.status_code == 302 and response.url == reverse("clients:agenda")
    overdue.refresh_from_db()
    assert timezone.localdate(overdue.due_at).weekday() == 0 and overdue.sequence == 2


def test_postpone_is_post_only_and_knows_two_targets(client, owner, overdue):
    client.force_login(owner)
    assert client.get(url("followup_postpone", overdue, "tomorrow")).status_code == 405
    assert client.post(url("followup_postpone", overdue, "someday")).status_code == 404


def test_an_action_on_a_done_follow_up_says_it_is_no_longer_pending(client, owner, overdue):
    FollowUp.objects.filter(pk=overdue.pk).update(status=FollowUp.State.DONE)
    client.force_login(owner)
    response = client.post(url("followup_postpone", overdue, "tomorrow"), {"in": "list"}, headers=HTMX)
    assert response.status_code == 200 and b'data-testid="followup-error"' in response.content
    response = client.get(url("followup_note", overdue), headers=HTMX)
    assert b'data-testid="followup-error"' in response.content and b"followup-action-form" not in response.content
    overdue.refresh_from_db()
    assert overdue.sequence == 0


@pytest.mark.parametrize("name", ["followup_entry", "followup_reschedule", "followup_hand_over", "followup_cancel", "followup_note"])
def test_another_portfolios_follow_up_is_a_404(client, outsider, overdue, name):
    client.force_login(outsider)
    assert client.get(url(name, overdue), headers=HTMX).status_code == 404
    assert client.post(url(name, overdue), headers=HTMX).status_code in (404, 405)
    assert client.post(url("followup_postpone", overdue, "tomorrow"), headers=HTMX).status_code == 404


def test_a_teammate_it_is_shared_with_may_move_it(client, teammate, overdue):
    ClientShare.objects.create(client=overdue.client, user=teammate)
    client.force_login(teammate)
    assert client.post(url("followup_postpone", overdue, "tomorrow"), headers=HTMX).status_code == 200
    overdue.refresh_from_db()
    assert overdue.sequence == 1


def test_hand_over_form_offers_the_owner_and_their_gerente_and_refuses_anyone_else(client, owner, manager, outsider, overdue):
    client.force_login(owner)
    response = client.get(url("followup_hand_over", overdue), headers=HTMX)
    options = response.content.decode()
    assert f'value="{manager.pk}"' in options and f'value="{outsider.pk}"' not in options
    assert f'value="{owner.pk}"' not in options  # already theirs
    response = client.post(url("followup_hand_over", overdue), {f"followup-{overdue.pk}-to": outsider.pk}, headers=HTMX)
    assert b'role="alert"' in response.content
    overdue.refresh_from_db()
    assert overdue.assigned_to == owner
    response = client.post(url("followup_hand_over", overdue), {f"followup-{overdue.pk}-to": manager.pk}, headers=HTMX)
    assert b'data-testid="followup-message"' in response.content
    overdue.refresh_from_db()
    assert overdue.assigned_to == manager


def test_cancel_needs_a_reason(client, owner, overdue):
    client.force_login(owner)
    response = client.post(url("followup_cancel", overdue), {f"followup-{overdue.pk}-reason": " "}, headers=HTMX)
    assert b'role="alert"' in response.content
    overdue.refresh_from_db()
    assert overdue.status == FollowUp.State.PENDING


def test_note_edit_in_place(client, owner, overdue):
    client.force_login(owner)
    response = client.get(url("followup_note", overdue) + "?in=client", headers=HTMX)
    assert "Catálogo" in response.content.decode()
    response = client.post(url("followup_note", overdue), {"in": "client", f"followup-{overdue.pk}-notes": "Llamar por la tarde"}, headers=HTMX)
    assert "Llamar por la tarde" in response.content.decode()
    overdue.refresh_from_db()
    assert overdue.notes == "Llamar por la tarde"


def test_back_puts_the_entry_back(client, owner, overdue):
    client.force_login(owner)
    response = client.get(url("followup_entry", overdue) + "?in=calendar", headers=HTMX)
    assert response.status_code == 200 and b'data-testid="followup-actions"' in response.content
    assert client.get(url("followup_entry", overdue)).status_code == 302


def test_every_place_offers_the_actions(client, owner, overdue):
    client.force_login(owner)
    day = timezone.localdate(overdue.due_at).isoformat()
    for page in (reverse("clients:agenda"), f"{reverse('clients:agenda')}?view=week&date={day}",
                 f"{reverse('clients:agenda')}?view=month&date={day}", overdue.client.get_absolute_url()):
        content = client.get(page).content.decode()
        for action in ("followup_reschedule", "followup_hand_over", "followup_cancel", "followup_note"):
            assert url(action, overdue) in content, (page, action)
        assert url("followup_postpone", overdue, "tomorrow") in content
        assert url("followup_postpone", overdue, "monday") in content


def test_a_gerente_hands_a_team_members_call_to_a_teammate_from_their_agenda(client, manager, owner, teammate, overdue):
    client.force_login(manager)
    page = client.get(reverse("clients:agenda"), {"user": owner.pk}).content.decode()
    assert url("followup_hand_over", overdue) in page
    options = client.get(url("followup_hand_over", overdue), headers=HTMX).content.decode()
    assert f'value="{teammate.pk}"' in options and f'value="{manager.pk}"' in options
    response = client.post(url("followup_hand_over", overdue), {"in": "list", f"followup-{overdue.pk}-to": teammate.pk}, headers=HTMX)
    assert b'data-testid="followup-message"' in response.content
    # The owner's agenda badges follow: the call left it.
    assert b'hx-swap-oob="innerHTML:#agenda-overdue-count">0<' in response.content
    overdue.refresh_from_db()
    assert overdue.assigned_to == teammate
    client.force_login(teammate)
    assert client.get(overdue.client.get_absolute_url()).status_code == 200  # shared with them on the way


def test_an_administrador_cancels_any_call(client, admin_user, overdue):
    client.force_login(admin_user)
    response = client.post(url("followup_cancel", overdue), {"in": "list", f"followup-{overdue.pk}-reason": "Baja"}, headers=HTMX)
    assert b'data-testid="followup-message"' in response.content
    overdue.refresh_from_db()
    assert overdue.status == FollowUp.State.CANCELLED


def test_without_htmx_a_calendar_postpone_returns_to_the_week_it_moved_to(client, owner, overdue):
    client.force_login(owner)
    response = client.post(url("followup_postpone", overdue, "tomorrow"), {"in": "calendar"})
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    assert response.status_code == 302 and response.url == f"{reverse('clients:agenda')}?view=week&date={tomorrow}"


@pytest.mark.parametrize("name", ["followup_reschedule", "followup_hand_over", "followup_cancel", "followup_note"])
def test_without_htmx_each_form_is_a_full_page(client, owner, overdue, name):
    client.force_login(owner)
    response = client.get(url(name, overdue) + "?in=client")
    content = response.content.decode()
    assert response.status_code == 200 and "<html" in content and 'name="in" value="client"' in content
    assert overdue.client.get_absolute_url() in content  # the way back
