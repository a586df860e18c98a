"""API tokens: created (the secret shown once), found by the digest of what a request sends, revoked.

A token is "ctr_" and 40 random URL-safe characters; only its SHA-256 is stored (a leaked database
gives no usable token) and its first characters, so that its owner recognises it in the list.
"""

import hashlib
import secrets
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from api.models import ApiToken

PREFIX = "ctr_"
SHOWN = 12  # characters of the token kept to recognise it: "ctr_" and 8 of the secret
LAST_USED_EVERY = timedelta(minutes=1)  # last_used_at is written at most this often per token


def digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


@transaction.atomic
def token_create(
    *, user: User, name: str, scope: str = ApiToken.Scope.WRITE, expires_at: datetime | None = None,
) -> tuple[ApiToken, str]:
    """A new token for `user`; returns it and the secret, which is never seen again."""
    name = name.strip()
    if not name:
        raise ValidationError({"name": _("Give the token a name, such as the system that will use it.")})
    if expires_at is not None and expires_at <= timezone.now():
        raise ValidationError({"expires_at": _("The expiry must be in the future.")})
    raw = PREFIX + secrets.token_urlsafe(30)
    token = ApiToken(user=user, name=name, scope=scope, expires_at=expires_at, prefix=raw[:SHOWN], key_hash=digest(raw))
    token.full_clean()
    token.save()
    return token, raw


@transaction.atomic
def token_revoke(*, token: ApiToken) -> bool:
    """Stops the token at once; False when it was revoked already."""
    return bool(ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=timezone.now()))


def token_for(raw: str) -> ApiToken | None:
    """The usable token whose secret is `raw` (with its user), or None; notes when it was used."""
    if not raw.startswith(PREFIX) or len(raw) > 100:
        return None
    now = timezone.now()
    token = ApiToken.objects.usable(now).select_related("user").filter(key_hash=digest(raw)).first()
    if token is not None and (token.last_used_at is None or token.last_used_at < now - LAST_USED_EVERY):
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token
