"""The permission matrix, generated from the URLconf: every view × every persona × their own
and another portfolio's objects × GET and POST. Zero leaks; a view with no entry fails.

Personas: anonymous; the comercial who owns the objects (`owner`); another comercial of the
same team (`teammate`, the closest a stranger gets); the gerente of that team (`manager`); the
gerente of another team (`other_manager`); the administrador. "Own" objects hang from a client
of `owner`; "other" objects from a client of `outsider`, a comercial of the other team.

Each request runs in a savepoint rolled back afterwards, so a POST that deletes or launches
something leaves the next persona the same data. Expected answers:
* allowed: anything but a login redirect, 403 or 404 (a 405 for a method the view does not take
  is fine: it reveals nothing);
* hidden: 404 (another portfolio's object is never a 403, never a 200), or 405;
* refused: 403 or 404 (a page reserved to a role), or 405;
* anonymous: a redirect to the login page, except the public views.
"""

from dataclasses import dataclass, field

import pytest
from django.core.files.base import ContentFile
from django.db import transaction
from django.http import QueryDict
from django.utils import timezone

from accounts.models import User
from api.tokens import token_create
from campaigns.models import Campaign, Recipient
from campaigns.tokens import survey_token, unsubscribe_token
from clients.models import ExchangeRate
from clients.tests.factories import ClientFactory, ContractFactory, FollowUpFactory, ProductFactory, PurchaseFactory
from core.tests.test_access import API_ENDPOINTS, all_urls
from exports.models import ExportJob
from imports.models import ImportJob
from segmentation.records import client_trash
from segmentation.segments import segment_create
from webhooks.models import Endpoint, Event

PERSONAS = ["anonymous", "owner", "teammate", "manager", "other_manager", "admin_user"]


@dataclass(frozen=True)
class Rule:
    """Who may use a view, for an object of `owner` ("own") and of `outsider` ("other")."""

    own: set[str]
    other: set[str]
    denied_status: tuple[int, ...] = (404, 405)
    objects: bool = True  # False: the view takes no object, "own" and "other" are the same request
    public: bool = False


PORTFOLIO = Rule(own={"owner", "manager", "admin_user"}, other={"other_manager", "admin_user"})
EVERYONE = Rule(own=set(PERSONAS[1:]), other=set(PERSONAS[1:]), objects=False)
ADMIN_ONLY_CLIENT = Rule(own={"admin_user"}, other={"admin_user"}, denied_status=(403, 404, 405))
MANAGERS = Rule(own={"manager", "other_manager", "admin_user"}, other={"manager", "other_manager", "admin_user"},
                denied_status=(403, 405), objects=False)
ADMIN_ONLY = Rule(own={"admin_user"}, other={"admin_user"}, denied_status=(403, 405), objects=False)
CREATOR = Rule(own={"owner"}, other={"outsider"})  # each user's own imports and private segments
CAMPAIGN_READERS = Rule(own={"owner", "manager", "admin_user"}, other={"other_manager", "admin_user"})
CAMPAIGN_MANAGERS = Rule(own={"owner", "admin_user"}, other={"admin_user"})
PUBLIC = Rule(own=set(PERSONAS), other=set(PERSONAS), public=True)
NOT_FOUND_FOR_ALL = Rule(own=set(), other=set(), public=True)  # a token of nobody: a 404 for anyone


@dataclass
class World:
    users: dict[str, User]
    objects: dict[str, dict[str, object]] = field(default_factory=dict)  # "own"/"other" → kind → object


def _objects_of(person: User, *, label: str) -> dict[str, object]:
    client = ClientFactory(owner=person, first_name=f"Cliente {label}")
    trashed = ClientFactory(owner=person, first_name=f"Papelera {label}")
    client_trash(by=person, client=trashed)
    segment = segment_create(owner=person, name=f"Segmento {label}", shared=False, query=QueryDict(""))
    campaign = Campaign.objects.create(
        name=f"Campaña {label}", goal=Campaign.Goal.SURVEY, segment=segment, created_by=person, subject="s", body="b",
        state=Campaign.State.SENDING, launched_at=timezone.now(),
    )
    draft = Campaign.objects.create(
        name=f"Borrador {label}", goal=Campaign.Goal.PROMOTION, segment=segment, created_by=person, subject="s", body="b",
    )
    recipient = Recipient.objects.create(campaign=campaign, client=client, status_at_launch=client.status)
    job = ImportJob.objects.create(
        created_by=person, kind="clients", filename="f.csv", data=b"Nombre\nAna\n", language="es", owner=person,
        summary={"headers": ["Nombre"], "sample": [], "rows": 1}, mapping={"first_name": 0},
    )
    export = ExportJob.objects.create(
        created_by=person, kind="clients", format="csv", params={"query": ""}, name="c", language="es", state="done",
    )
    export.file.save("c.csv", ContentFile(b"x"), save=True)
    return {
        "export": export,
        "client": client, "trashed": trashed, "purchase": PurchaseFactory(client=client),
        "followup": FollowUpFactory(client=client, assigned_to=person), "segment": segment, "campaign": campaign,
        "draft": draft, "import": job, "survey": survey_token(recipient.pk),
        "unsubscribe": unsubscribe_token(client.pk, "newsletter", campaign.pk),
        "product": ProductFactory(name=f"Producto {label}"),
        "contract": ContractFactory(client=client),
        "twin": ClientFactory(owner=person, first_name=f"Cliente {label}"),  # a second one, to merge
        "api_token": token_create(user=person, name=f"Token {label}")[0],
    }


# One entry per view: its rule and how to fill its URL from the objects. Missing one fails.
def _client(o):
    return [o["client"].pk]


def _endpoint() -> int:
    return Endpoint.objects.get_or_create(url="http://127.0.0.1:9/matrix", defaults={"events": [Event.PURCHASE_RECORDED]})[0].pk


def _exchange_rate() -> int:
    return ExchangeRate.objects.get_or_create(currency="BRL", valid_from=timezone.localdate(), defaults={"rate": 1})[0].pk


MATRIX: dict[str, tuple[Rule, object]] = {
    "home": (EVERYONE, lambda o: []),
    "health": (PUBLIC, lambda o: []),
    "set_language": (PUBLIC, lambda o: []),
    "login": (PUBLIC, lambda o: []),
    # Without a password just given, it only says to log in again (200); a logged-in user goes home.
    "login_code": (PUBLIC, lambda o: []),
    "logout": (EVERYONE, lambda o: []),
    "password_change": (EVERYONE, lambda o: []),
    "password_change_done": (EVERYONE, lambda o: []),
    "password_reset": (PUBLIC, lambda o: []),
    "password_reset_done": (PUBLIC, lambda o: []),
    "password_reset_confirm": (PUBLIC, lambda o: ["x", "not-a-token"]),  # an invalid link: the page says so
    "password_reset_complete": (PUBLIC, lambda o: []),
    "account": (EVERYONE, lambda o: []),
    # Each person's own two-factor login: nobody else's can be named.
    "two_factor_setup": (EVERYONE, lambda o: []),
    "two_factor_codes": (EVERYONE, lambda o: []),
    "two_factor_off": (EVERYONE, lambda o: []),
    "people": (ADMIN_ONLY, lambda o: []),
    "person_create": (ADMIN_ONLY, lambda o: []),
    "person_edit": (ADMIN_ONLY, lambda o: [o["client"].owner_id]),
    "person_deactivate": (ADMIN_ONLY, lambda o: [o["client"].owner_id]),
    "person_reactivate": (ADMIN_ONLY, lambda o: [o["client"].owner_id]),
    "team_create": (ADMIN_ONLY, lambda o: []),
    "team_edit": (ADMIN_ONLY, lambda o: [o["client"].owner.team_id]),
    "clients:agenda": (EVERYONE, lambda o: []),
    "clients:followup_complete": (PORTFOLIO, lambda o: [o["followup"].pk]),
    "clients:followup_entry": (PORTFOLIO, lambda o: [o["followup"].pk]),
    "clients:followup_reschedule": (PORTFOLIO, lambda o: [o["followup"].pk]),
    "clients:followup_postpone": (PORTFOLIO, lambda o: [o["followup"].pk, "tomorrow"]),
    "clients:followup_hand_over": (PORTFOLIO, lambda o: [o["followup"].pk]),
    "clients:followup_cancel": (PORTFOLIO, lambda o: [o["followup"].pk]),
    "clients:followup_note": (PORTFOLIO, lambda o: [o["followup"].pk]),
    "clients:calendar_feed_manage": (EVERYONE, lambda o: []),
    "clients:calendar_feed": (NOT_FOUND_FOR_ALL, lambda o: ["not-a-real-token"]),
    "clients:client_list": (EVERYONE, lambda o: []),
    "clients:client_list_export": (EVERYONE, lambda o: ["csv"]),
    "clients:client_create": (EVERYONE, lambda o: []),
    "clients:client_reassign": (MANAGERS, lambda o: []),
    "clients:client_trash": (EVERYONE, lambda o: []),
    "clients:client_duplicates": (MANAGERS, lambda o: []),
    "clients:client_not_duplicates": (MANAGERS, lambda o: []),
    # The owner of both may merge them; a teammate sees neither (404), as for any client page.
    "clients:client_merge": (PORTFOLIO, lambda o: [o["client"].pk, o["twin"].pk]),
    "clients:client_delete": (PORTFOLIO, _client),
    "clients:client_restore": (PORTFOLIO, lambda o: [o["trashed"].pk]),
    "privacy:client_privacy": (ADMIN_ONLY_CLIENT, _client),
    "privacy:client_privacy_export": (ADMIN_ONLY_CLIENT, lambda o: [o["client"].pk, "json"]),
    "clients:client_detail": (PORTFOLIO, _client),
    "clients:client_edit": (PORTFOLIO, _client),
    "clients:purchase_create": (PORTFOLIO, _client),
    "clients:purchase_edit": (PORTFOLIO, lambda o: [o["client"].pk, o["purchase"].pk]),
    "clients:purchase_delete": (PORTFOLIO, lambda o: [o["client"].pk, o["purchase"].pk]),
    "clients:interaction_create": (PORTFOLIO, _client),
    "clients:product_list": (MANAGERS, lambda o: []),
    "clients:product_create": (MANAGERS, lambda o: []),
    "clients:product_edit": (MANAGERS, lambda o: [o["product"].pk]),
    "clients:product_activate": (MANAGERS, lambda o: [o["product"].pk]),
    "clients:category_create": (MANAGERS, lambda o: []),
    "clients:product_options": (EVERYONE, lambda o: []),
    # Issue 18: clients offered as one types a referrer, and the best referrers, within each
    # user's own portfolio (the access rule filters the rows, not the page).
    "clients:client_options": (EVERYONE, lambda o: []),
    "clients:referrer_list": (EVERYONE, lambda o: []),
    "clients:exchange_rate_lookup": (EVERYONE, lambda o: []),
    # A comercial adds products from the purchase form only when the settings say so (off by default).
    "clients:product_quick_create": (MANAGERS, lambda o: []),
    "clients:followup_create": (PORTFOLIO, _client),
    "clients:quick_call": (PORTFOLIO, _client),
    "clients:client_share": (PORTFOLIO, _client),
    # Contracts change for the client's owner, their gerente and an administrador (a colleague the
    # client is shared with sees them and gets a 403: clients/tests/test_contract_pages.py).
    "clients:contract_create": (PORTFOLIO, _client),
    "clients:contract_edit": (PORTFOLIO, lambda o: [o["client"].pk, o["contract"].pk]),
    "clients:contract_renew": (PORTFOLIO, lambda o: [o["client"].pk, o["contract"].pk]),
    "clients:contract_end": (PORTFOLIO, lambda o: [o["client"].pk, o["contract"].pk]),
    "clients:contract_proposal_sent": (PORTFOLIO, lambda o: [o["client"].pk, o["contract"].pk]),
    "clients:renewals": (EVERYONE, lambda o: []),
    "clients:renewals_export": (EVERYONE, lambda o: ["csv"]),
    "clients:client_unshare": (PORTFOLIO, _client),
    "segmentation:segment_list": (EVERYONE, lambda o: []),
    "segmentation:segment_save": (EVERYONE, lambda o: []),
    "segmentation:segment_detail": (CREATOR, lambda o: [o["segment"].pk]),
    "segmentation:segment_delete": (CREATOR, lambda o: [o["segment"].pk]),
    "segmentation:segment_export": (CREATOR, lambda o: [o["segment"].pk, "csv"]),
    "segmentation:dashboard": (EVERYONE, lambda o: []),
    "segmentation:source_report": (EVERYONE, lambda o: []),  # issue 18: the viewer's clients' altas by source
    "segmentation:leaving_reasons": (MANAGERS, lambda o: []),  # issue 18: bajas per reason, gerentes and administradores
    "segmentation:lifecycle_settings": (ADMIN_ONLY, lambda o: []),
    "segmentation:nightly_runs": (ADMIN_ONLY, lambda o: []),
    "icp:profile_edit": (ADMIN_ONLY, lambda o: []),
    "icp:probable_accept": (PORTFOLIO, _client),
    "segmentation:exchange_rates": (ADMIN_ONLY, lambda o: []),
    "segmentation:exchange_rate_delete": (ADMIN_ONLY, lambda o: [_exchange_rate()]),
    # The administrador's webhooks (webhooks/tests/test_pages.py); anyone else gets a 403.
    "webhooks:endpoint_list": (ADMIN_ONLY, lambda o: []),
    "webhooks:endpoint_edit": (ADMIN_ONLY, lambda o: [_endpoint()]),
    "webhooks:endpoint_pause": (ADMIN_ONLY, lambda o: [_endpoint()]),
    "webhooks:endpoint_resume": (ADMIN_ONLY, lambda o: [_endpoint()]),
    "webhooks:endpoint_delete": (ADMIN_ONLY, lambda o: [_endpoint()]),
    "webhooks:endpoint_test": (ADMIN_ONLY, lambda o: [_endpoint()]),
    "imports:import_list": (EVERYONE, lambda o: []),
    "imports:import_detail": (CREATOR, lambda o: [o["import"].pk]),
    "imports:import_progress": (CREATOR, lambda o: [o["import"].pk]),
    "imports:import_reopen": (CREATOR, lambda o: [o["import"].pk]),
    "imports:import_delete": (CREATOR, lambda o: [o["import"].pk]),
    "imports:import_report": (CREATOR, lambda o: [o["import"].pk]),
    "exports:export_list": (EVERYONE, lambda o: []),
    "exports:export_create": (EVERYONE, lambda o: []),  # an empty POST: back to the list with a message
    "exports:export_detail": (CREATOR, lambda o: [o["export"].pk]),
    "exports:export_progress": (CREATOR, lambda o: [o["export"].pk]),
    "exports:export_download": (CREATOR, lambda o: [o["export"].pk]),
    "campaigns:campaign_list": (EVERYONE, lambda o: []),
    "campaigns:campaign_create": (EVERYONE, lambda o: []),
    # Everyone's page, of the answers of the clients they may see (campaigns/tests/test_answers.py).
    "campaigns:answer_list": (EVERYONE, lambda o: []),
    "campaigns:campaign_detail": (CAMPAIGN_READERS, lambda o: [o["campaign"].pk]),
    "campaigns:campaign_edit": (CAMPAIGN_MANAGERS, lambda o: [o["draft"].pk]),
    "campaigns:campaign_launch": (CAMPAIGN_MANAGERS, lambda o: [o["draft"].pk]),
    "campaigns:campaign_resume": (CAMPAIGN_MANAGERS, lambda o: [o["campaign"].pk]),
    "campaigns:campaign_progress": (CAMPAIGN_READERS, lambda o: [o["campaign"].pk]),
    "campaigns:consent_update": (PORTFOLIO, _client),
    "campaigns:unsubscribe": (PUBLIC, lambda o: [o["unsubscribe"]]),
    "campaigns:survey": (PUBLIC, lambda o: [o["survey"]]),
    # The REST API's schema and docs are pages for anyone logged in; its endpoints take a token
    # instead of a session and have their own matrix (api/tests/test_personas.py).
    "api:openapi-json": (EVERYONE, lambda o: []),
    "api:openapi-view": (EVERYONE, lambda o: []),
    # Each person's own API tokens: another's token is a 404.
    "api_tokens:token_list": (EVERYONE, lambda o: []),
    "api_tokens:token_revoke": (CREATOR, lambda o: [o["api_token"].pk]),
}


def _names() -> list[str]:
    return sorted({
        name for name, _path, _view in all_urls() if name and not name.startswith("admin:") and name not in API_ENDPOINTS
    })


def test_every_view_has_an_entry_in_the_matrix():
    assert set(_names()) == set(MATRIX), "a view was added or removed: give it its row in MATRIX"


@pytest.fixture
def world(owner, teammate, manager, other_manager, outsider, admin_user) -> World:
    users = {"owner": owner, "teammate": teammate, "manager": manager, "other_manager": other_manager,
             "outsider": outsider, "admin_user": admin_user}
    return World(users=users, objects={"own": _objects_of(owner, label="own"), "other": _objects_of(outsider, label="other")})


def _verdict(response) -> str:
    location = response.get("Location", "") if response.status_code in (301, 302) else ""
    if location.startswith(("/accounts/login/", "/admin/login/")):
        return "login"
    return "denied" if response.status_code in (403, 404, 405) else "allowed"


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(MATRIX))
def test_no_view_leaks(client, world, name):
    from django.urls import reverse

    rule, args = MATRIX[name]
    problems = []
    for side in ("own", "other") if rule.objects else ("own",):
        url = reverse(name, args=args(world.objects[side]))
        allowed = rule.own if side == "own" else rule.other
        for persona in PERSONAS:
            for method in ("get", "post"):
                with transaction.atomic():
                    client.logout()
                    if persona != "anonymous":
                        client.force_login(world.users[persona])
                    response = getattr(client, method)(url)
                    transaction.set_rollback(True)
                got = _verdict(response)
                if rule.public and not allowed:
                    expected_ok = response.status_code in (404, 405)
                elif persona == "anonymous" and not rule.public:
                    expected_ok = got == "login"
                elif persona in allowed or (persona == "owner" and "owner" in allowed and side == "own"):
                    expected_ok = got == "allowed" or (response.status_code == 405)
                else:
                    expected_ok = got == "denied" and response.status_code in rule.denied_status + (405,)
                if not expected_ok:
                    problems.append(f"{method.upper()} {url} as {persona} ({side}): {response.status_code} {got}")
    assert not problems, "\n".join(problems)
