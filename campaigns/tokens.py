"""Signed links that work without a login: unsubscribe (client + purpose) and the NPS survey
(recipient). The signature is the credential; a tampered or foreign token is refused."""

from django.core import signing

from campaigns.models import Purpose

UNSUBSCRIBE_SALT = "campaigns.unsubscribe"
SURVEY_SALT = "campaigns.survey"


def unsubscribe_token(client_id: int, purpose: str, campaign_id: int | None) -> str:
    return signing.dumps([client_id, purpose, campaign_id], salt=UNSUBSCRIBE_SALT, compress=True)


def unsubscribe_read(token: str) -> tuple[int, str, int | None] | None:
    """(client id, purpose, campaign id or None), or None for a tampered or foreign token."""
    try:
        client_id, purpose, campaign_id = signing.loads(token, salt=UNSUBSCRIBE_SALT)
        if purpose not in Purpose.values:  # signed by us, but for a purpose that no longer exists
            return None
        return int(client_id), str(purpose), int(campaign_id) if campaign_id else None
    except (signing.BadSignature, ValueError, TypeError):
        return None


def survey_token(recipient_id: int) -> str:
    return signing.dumps(recipient_id, salt=SURVEY_SALT, compress=True)


def survey_read(token: str) -> int | None:
    try:
        return int(signing.loads(token, salt=SURVEY_SALT))
    except (signing.BadSignature, ValueError, TypeError):
        return None
