"""The demo business's NPS surveys: every two months of the last year each gerente sent a
satisfaction survey to a third of their team's clients who agreed to surveys, and about a third of
them answered, over the following weeks (the answers page and the dashboard's NPS show something).

Set-based: one INSERT … SELECT per campaign for its recipients and one per answering group for
the answers, whatever the number of clients. The answers are loaded data, as the demo's history
is: no interaction or detractor call is made for them (survey_answer_record does for a real one).
"""

import datetime as dt

from django.db import connection, transaction
from django.utils import timezone

from accounts.models import Team
from campaigns.models import Campaign, Consent, Purpose, Recipient, SurveyAnswer
from clients.models import NOT_IN_TRASH_SQL, Client, Status
from segmentation.leaving import leave_reasons_update
from segmentation.models import Segment
from segmentation.segments import segment_snapshot_take, snapshot_day

LAUNCHED_DAYS_AGO = (340, 280, 220, 160, 100, 40)  # the oldest first
# Recipients whose id % ANSWER_MODULO is k answered ANSWER_DAYS[k] days after the launch: a third.
ANSWER_MODULO = 12
ANSWER_DAYS = (1, 4, 9, 16)
SUBJECT = "¿Nos recomendarías? / Você nos recomendaria?"
BODY = "Hola {{ first_name }}: ¿qué tal te atendemos? Contéstanos en un minuto."

# Per client and campaign, x = (client id × 7 + campaign id) % 20 picks the score: below the
# campaign's promoter cut 9–10, then 7–8 up to its detractor start, then 4–6 and 0–3. Both grow
# with each campaign (cuts 5 … 12 and starts 14 … 16 of 20): the service improves, and the NPS
# drawn with it (about −5 for the oldest survey, +40 for the newest, before the small samples' noise).
SCORE_SQL = (
    "CASE WHEN x < %s THEN 10 - (x %% 2) WHEN x < %s THEN 8 - (x %% 2)"
    " WHEN x < 18 THEN 6 - (x %% 3) ELSE x %% 4 END"
)


def _cuts(index: int) -> tuple[int, int]:
    """The promoter cut and the detractor start of the index-th survey (0: the oldest)."""
    return 5 + index + index // 2, 14 + index // 2


COMMENTS = {  # by language and answer, two of each; NULL-free: '' for no comment
    "es": {"promoter": ["Muy buena atención, siempre resolvéis rápido.", ""],
           "passive": ["Bien en general, aunque los plazos podrían mejorar.", ""],
           "detractor": ["El último pedido llegó tarde y nadie avisó.", "Cuesta contactar con mi comercial."]},
    "pt": {"promoter": ["Atendimento excelente, sempre resolvem rápido.", ""],
           "passive": ["Bom no geral, mas os prazos poderiam melhorar.", ""],
           "detractor": ["O último pedido atrasou e ninguém avisou.", "É difícil falar com o meu vendedor."]},
}


def _comment_sql() -> tuple[str, list]:
    branches, params = [], []
    for language, countries in (("pt", "('PT', 'BR')"), ("es", None)):
        for category, test in (("promoter", "score >= 9"), ("passive", "score >= 7"), ("detractor", "score >= 0")):
            first, second = COMMENTS[language][category]
            where = f"country IN {countries} AND {test}" if countries else test
            branches.append(f"WHEN {where} AND client_id %% 2 = 0 THEN %s WHEN {where} THEN %s")
            params += [first, second]
    return "CASE " + " ".join(branches) + " ELSE '' END", params


@transaction.atomic
def surveys_seed(*, now: dt.datetime | None = None) -> int:
    """Writes the surveys; returns the number of answers."""
    now = now or timezone.now()
    clients, recipients, answers = Client._meta.db_table, Recipient._meta.db_table, SurveyAnswer._meta.db_table
    consents = Consent._meta.db_table
    comment_sql, comment_params = _comment_sql()
    written = 0
    with connection.cursor() as cursor:
        for team in Team.objects.select_related("manager").order_by("pk"):
            manager = team.manager
            members = list(team.members.values_list("pk", flat=True))
            if manager is None or not members:
                continue
            segment, created = Segment.objects.get_or_create(
                owner=manager, name="Encuesta de satisfacción", defaults={"params": {}, "shared": False},
            )
            if created:  # as segment_create does: the dashboard reads its figures from the night's day on
                segment_snapshot_take(segment=segment, day=snapshot_day() or timezone.localdate())
            for index, days_ago in enumerate(LAUNCHED_DAYS_AGO):
                launched = now - dt.timedelta(days=days_ago)
                campaign = Campaign.objects.create(
                    name=f"Encuesta de satisfacción {timezone.localdate(launched):%m/%Y}", goal=Campaign.Goal.SURVEY,
                    segment=segment, subject=SUBJECT, body=BODY, state=Campaign.State.DONE, created_by=manager,
                    created_at=launched - dt.timedelta(days=1), launched_at=launched,
                    finished_at=launched + dt.timedelta(hours=1),
                )
                owners = ", ".join(["%s"] * len(members))
                cursor.execute(
                    f"INSERT INTO {recipients} (campaign_id, client_id, state, status_at_launch, sent_at, error)"  # noqa: S608
                    f" SELECT %s, c.id, %s, c.status, %s, '' FROM {clients} c"
                    f" WHERE c.{NOT_IN_TRASH_SQL} AND c.owner_id IN ({owners}) AND c.email <> ''"
                    " AND c.created_at < %s AND (c.id + %s) %% 3 = 0"
                    f" AND EXISTS (SELECT 1 FROM {consents} k WHERE k.client_id = c.id AND k.purpose = %s AND k.granted = %s)",
                    [campaign.pk, Recipient.State.SENT, launched, *members, launched, index, Purpose.SURVEYS, True],
                )
                Campaign.objects.filter(pk=campaign.pk).update(recipient_count=cursor.rowcount)
                for group, days in enumerate(ANSWER_DAYS):
                    answered = launched + dt.timedelta(days=days, hours=3 + group)
                    if answered >= now:
                        continue
                    cursor.execute(
                        f"INSERT INTO {answers} (recipient_id, client_id, score, comment, leave_reason, answered_at, interaction_id)"  # noqa: S608
                        f" SELECT id, client_id, score, {comment_sql}, '', %s, NULL FROM ("
                        f"  SELECT id, client_id, country, {SCORE_SQL} AS score FROM ("
                        f"   SELECT r.id, r.client_id, c.country, (r.client_id * 7 + %s) %% 20 AS x"
                        f"   FROM {recipients} r JOIN {clients} c ON c.id = r.client_id"
                        f"   WHERE r.campaign_id = %s AND r.id %% {ANSWER_MODULO} = %s) scored) answering",
                        [*comment_params, answered, *_cuts(index), campaign.pk, campaign.pk, group],
                    )
                    written += cursor.rowcount
        _leave_reasons_answered(cursor)
    return written


# What the lost detractors answer to "why did you leave", by client: the mix the reasons page shows.
LEAVE_REASONS = ("price", "service", "competitor", "no_need", "moved", "price", "competitor")


def _leave_reasons_answered(cursor) -> None:
    """The lost clients who answered 0-6 say why they left; as survey_answer_record does, the
    answer becomes the close reason of a lost client without one, and the bajas' reasons follow."""
    clients, answers = Client._meta.db_table, SurveyAnswer._meta.db_table
    reason = "CASE " + " ".join(
        f"WHEN client_id %% {len(LEAVE_REASONS)} = {index} THEN '{code}'" for index, code in enumerate(LEAVE_REASONS)
    ) + " END"
    cursor.execute(
        f"UPDATE {answers} SET leave_reason = {reason}"  # noqa: S608
        f" WHERE score <= 6 AND client_id IN (SELECT id FROM {clients} WHERE status = %s)",
        [Status.LOST],
    )
    # Each client's latest reason, ranked once over the answers and joined (a subquery per client
    # walked the answers' date index for each of 53,000 bajas at a million clients: hours).
    cursor.execute(
        f"""UPDATE {clients} SET close_reason = latest.leave_reason
            FROM (SELECT client_id, leave_reason,
                         ROW_NUMBER() OVER (PARTITION BY client_id ORDER BY answered_at DESC, id DESC) AS rn
                  FROM {answers} WHERE leave_reason <> '') latest
            WHERE latest.client_id = {clients}.id AND latest.rn = 1
              AND {clients}.status = %s AND {clients}.close_reason = ''""",  # noqa: S608
        [Status.LOST],
    )
    leave_reasons_update(cursor)
