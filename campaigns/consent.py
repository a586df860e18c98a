"""Consent to be written to, per client and purpose: the current state and every change."""

from django.db import models, transaction
from django.utils import timezone

from campaigns.models import Consent, ConsentChange, ConsentSource, Purpose
from clients.models import Client


@transaction.atomic
def consent_record(
    *, client: Client, purpose: str, granted: bool, source: str, evidence: str = "", user=None, campaign=None,
) -> bool:
    """Records a grant or a withdrawal at once; returns whether the state changed (a repeated
    "no" from a second unsubscribe click records nothing new)."""
    current = Consent.objects.select_for_update().filter(client=client, purpose=purpose).first()
    if current is not None and current.granted == granted:
        return False
    now = timezone.now()
    Consent.objects.update_or_create(
        client=client, purpose=purpose,
        defaults={"granted": granted, "changed_at": now, "source": source, "evidence": evidence[:255]},
    )
    ConsentChange.objects.create(
        client=client, purpose=purpose, granted=granted, changed_at=now, source=source, evidence=evidence[:255],
        recorded_by=user, campaign=campaign,
    )
    return True


def consent_withdraw_all(*, client: Client, evidence: str, campaign=None) -> int:
    return sum(
        consent_record(client=client, purpose=purpose, granted=False, source=ConsentSource.UNSUBSCRIBE,
                    evidence=evidence, campaign=campaign)
        for purpose in Purpose.values
    )


def consenting(queryset: models.QuerySet[Client], purpose: str) -> models.QuerySet[Client]:
    """The clients of `queryset` who said yes to `purpose` and have not withdrawn it."""
    return queryset.filter(pk__in=Consent.objects.filter(purpose=purpose, granted=True).values("client_id"))


def consents_of(client: Client) -> dict[str, Consent]:
    return {consent.purpose: consent for consent in client.consents.all()}
