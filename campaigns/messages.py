"""A campaign e-mail for one client: merge fields, the client's language, the unsubscribe link
and headers (RFC 2369 List-Unsubscribe, RFC 8058 one-click), and the personal NPS link."""

import re
import unicodedata

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.urls import reverse
from django.utils import formats, translation
from django.utils.html import escape, linebreaks
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from campaigns.models import Campaign
from campaigns.tokens import survey_token, unsubscribe_token
from clients.models import Client, PurchaseLine

FIELD = re.compile(r"\{\{\s*([A-Za-z_]+)\s*\}\}")
MERGE_FIELDS = {
    "first_name": gettext_lazy("first name"),
    "last_name": gettext_lazy("last name"),
    "name": gettext_lazy("full name or company"),
    "company": gettext_lazy("company name"),
    "city": gettext_lazy("city"),
    "salesperson": gettext_lazy("their salesperson"),
    "salesperson_email": gettext_lazy("their salesperson's e-mail"),
    "last_product": gettext_lazy("the last product they bought"),
    "last_purchase_date": gettext_lazy("the date of their last purchase"),
    "survey_link": gettext_lazy("their personal survey link (NPS campaigns)"),
}
# Countries whose clients read Portuguese, or English; everyone else reads Spanish.
PORTUGUESE = {"PT", "BR", "AO", "MZ", "CV"}
ENGLISH = {"GB", "IE", "US", "CA", "AU", "NZ"}


def client_language(client: Client) -> str:
    country = str(client.country or "").upper()
    return "pt-br" if country in PORTUGUESE else "en" if country in ENGLISH else "es"


# Unicode categories that break a header line: control characters (CR, LF, tab, NUL…) and the
# line and paragraph separators.
NOT_IN_A_HEADER = ("Cc", "Zl", "Zp")


def has_control_characters(text: str) -> bool:
    """Whether `text` holds a character that has no place in a one-line header such as the subject."""
    return any(unicodedata.category(char) in NOT_IN_A_HEADER for char in text or "")


def one_line(text: str) -> str:
    """`text` with every control character or line separator turned into a space: a merge value
    (a client's name typed with a line break) must not break the subject's header either."""
    return "".join(" " if unicodedata.category(char) in NOT_IN_A_HEADER else char for char in text).strip()


def unknown_fields(text: str) -> list[str]:
    return sorted({name for name in FIELD.findall(text or "") if name not in MERGE_FIELDS})


def merge(text: str, values: dict[str, str]) -> str:
    return FIELD.sub(lambda match: values.get(match.group(1), ""), text or "")


def last_products(client_ids: list[int]) -> dict[int, str]:
    """{client id: name of the product of their latest purchase line}, in one query."""
    latest: dict[int, str] = {}
    lines = (
        PurchaseLine.objects.filter(purchase__client_id__in=client_ids)
        .order_by("purchase__client_id", "-purchase__date", "-purchase_id", "-id")
        .values_list("purchase__client_id", "product__name")
    )
    for client_id, name in lines:
        latest.setdefault(client_id, name)
    return latest


def merge_values(client: Client, *, last_product: str = "", survey_url: str = "") -> dict[str, str]:
    owner = client.owner
    return {
        "first_name": client.first_name or client.display_name,
        "last_name": client.last_name,
        "name": client.display_name,
        "company": client.company_name,
        "city": client.city,
        "salesperson": owner.get_full_name() or owner.username if owner else "",
        "salesperson_email": owner.email if owner else "",
        "last_product": last_product,
        "last_purchase_date": formats.date_format(client.last_purchase_date, "SHORT_DATE_FORMAT")
        if client.last_purchase_date else "",
        "survey_link": survey_url,
    }


def _site() -> str:
    return settings.SITE_URL.rstrip("/")


def message_build(
    campaign: Campaign, client: Client, *, recipient_id: int | None = None, last_product: str = "",
) -> EmailMultiAlternatives:
    """The e-mail `client` gets, in their language; `recipient_id` None gives a preview."""
    with translation.override(client_language(client)):
        unsubscribe_url = _site() + reverse(
            "campaigns:unsubscribe", args=[unsubscribe_token(client.pk, campaign.purpose, campaign.pk)]
        )
        survey_url = ""
        if campaign.goal == Campaign.Goal.SURVEY:
            token = survey_token(recipient_id) if recipient_id else "preview"
            survey_url = _site() + reverse("campaigns:survey", args=[token])
        values = merge_values(client, last_product=last_product, survey_url=survey_url)
        subject = one_line(merge(campaign.subject, values))
        body = merge(campaign.body, values)
        if survey_url and "survey_link" not in FIELD.findall(campaign.body):
            body += "\n\n" + _("Answer in one minute: %(url)s") % {"url": survey_url}
        # The link asks once more (a mail scanner opening it changes nothing); the mail program's
        # own unsubscribe button POSTs to it in one click (the headers below).
        footer = _("You receive this because you agreed to hear from us. Unsubscribe with one click: %(url)s") % {
            "url": unsubscribe_url
        }
        # The link text is its own msgid, outside the f-string: makemessages never looks inside one.
        link_text = _("Unsubscribe with one click")
        html_footer = _("You receive this because you agreed to hear from us. %(link)s") % {
            "link": f'<a href="{escape(unsubscribe_url)}">{escape(link_text)}</a>'
        }
    message = EmailMultiAlternatives(
        subject=subject, body=f"{body}\n\n-- \n{footer}\n", to=[client.email],
        headers={
            "List-Unsubscribe": f"<{unsubscribe_url}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
    )
    html_body = linebreaks(escape(body))
    message.attach_alternative(f"{html_body}<hr><p style=\"font-size:small\">{html_footer}</p>", "text/html")
    return message
