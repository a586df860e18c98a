"""What happened: clients and the records around them (DOMAIN.md "A client's record")."""

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Upper
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext, ngettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _
from django_countries.fields import CountryField

from clients.text import fold, phone_key, tax_key
from core.choices import ChoiceDisplay
from core.money import cents


class Channel(models.TextChoices):
    PHONE = "phone", _("Phone")
    EMAIL = "email", _("E-mail")
    VISIT = "visit", _("Visit")
    WHATSAPP = "whatsapp", _("WhatsApp")


class PaymentMethod(models.TextChoices):
    CARD = "card", _("Card")
    CASH = "cash", _("Cash")
    TRANSFER = "transfer", _("Bank transfer")
    DIRECT_DEBIT = "direct_debit", _("Direct debit")
    FINANCING = "financing", _("Financing")
    OTHER = "other", _("Other")


class Status(models.TextChoices):
    """Lifecycle status codes (DOMAIN.md "Lifecycle status"); computed, never typed."""

    PROSPECT = "prospect", _("Prospect")
    NEW = "new", _("New")
    ACTIVE = "active", _("Active")
    DORMANT = "dormant", _("Dormant")
    LOST = "lost", _("Lost")


class VolumeTier(models.TextChoices):
    VERY_HIGH = "very_high", _("Very high")
    HIGH = "high", _("High")
    MEDIUM = "medium", _("Medium")
    LOW = "low", _("Low")


class FrequencyClass(models.TextChoices):
    FREQUENT = "frequent", _("Frequent")
    HABITUAL = "habitual", _("Habitual")
    OCCASIONAL = "occasional", _("Occasional")


class RfmSegment(models.TextChoices):
    CHAMPIONS = "champions", _("Champions")
    LOYAL = "loyal", _("Loyal")
    PROMISING = "promising", _("Promising")
    NEW = "new", _("New customers")
    AT_RISK = "at_risk", _("At risk")
    CANT_LOSE = "cant_lose", _("Can't lose")
    HIBERNATING = "hibernating", _("Hibernating")
    # Not the status "Lost" (Baja): a client can be in the lost RFM segment without being in baja.
    LOST = "lost", pgettext_lazy("RFM segment", "Lost")


class Alert(models.TextChoices):
    RED = "red", _("Red")
    YELLOW = "yellow", _("Yellow")
    GREEN = "green", _("Green")


class AlertReason(models.TextChoices):
    """Why a client has its colour (segmentation/alerts.py); the value is in Client.alert_value."""

    FOLLOWUP_OVERDUE = "followup_overdue", _("Follow-up overdue")
    DETRACTOR = "detractor", _("Unhappy survey answer")
    VALUABLE_DORMANT = "valuable_dormant", _("Valuable client turned dormant")
    CONTRACT_RENEWAL = "contract_renewal", _("Contract ending without a renewal action")
    FOLLOWUP_DUE_SOON = "followup_due_soon", _("Follow-up due soon")
    AWAITING_TOO_LONG = "awaiting_too_long", _("Waiting too long for their answer")
    NO_CONTACT = "no_contact", _("No recent contact")
    AWAITING_REPLY = "awaiting_reply", _("Waiting for their answer")


class Category(models.Model):
    name = models.CharField(_("name"), max_length=100, unique=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("product category")
        verbose_name_plural = _("product categories")

    def __str__(self) -> str:
        return self.name


class Product(models.Model):
    name = models.CharField(_("name"), max_length=200, unique=True)
    category = models.ForeignKey(
        Category, on_delete=models.PROTECT, related_name="products", verbose_name=_("category")
    )
    price = models.DecimalField(_("price"), max_digits=12, decimal_places=2, default=Decimal("0"))
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("product")
        verbose_name_plural = _("products")
        constraints = [models.CheckConstraint(condition=Q(price__gte=0), name="product_price_not_negative")]

    def __str__(self) -> str:
        return self.name


TRASH_DAYS = 30  # a client in the trash can be restored this long, then the nightly purge erases it


def not_in_trash(prefix: str = "") -> Q:
    """The one definition of a client that is not in the trash (`prefix` "client__" from its records)."""
    return Q(**{f"{prefix}deleted_at__isnull": True})


def client_counts_by_owner() -> dict[int, int]:
    """{owner id: clients not in the trash} for every owner with any (the people page). Grouped
    from client_owner_cover_idx alone (id, owner, trash mark): joined to the users, the count read
    the whole clients' table (0.7-1.3 s at a million clients; 0.15-0.3 s this way)."""
    return dict(
        Client.objects.filter(not_in_trash()).order_by().values_list("owner_id").annotate(n=models.Count("pk"))
    )


def trashed_ids() -> "models.QuerySet":
    """The ids of the clients in the trash, a sub-select for excluding them where every client not
    in the trash is visible (an administrador): a few rows from client_trashed_idx, instead of
    matching or joining the million that are not (best referrers, survey answers)."""
    return Client.objects.exclude(not_in_trash()).values("pk")


# The same rule in the set-based SQL that reads the clients table.
NOT_IN_TRASH_SQL = "deleted_at IS NULL"


# A search is a few words: each one is a condition, and thousands of them made SQLite refuse the
# query (its expression depth) and PostgreSQL plan for seconds. The list's form says so above this.
MAX_SEARCH_WORDS = 12


def search_words(text: str) -> list[str]:
    """The distinct folded words of a search, in the order typed."""
    return list(dict.fromkeys(fold(text).split()))


@dataclass(frozen=True)
class PortfolioScope:
    """Whose clients a user may see: those of `owners` (None: everyone's) and the `shared` ones."""

    owners: list[int] | None
    shared: list[int]


def portfolio_scope(user) -> PortfolioScope | None:
    """The access rule's terms for `user` (None: nobody's clients); ClientQuerySet.visible_to
    applies them, and the pages that read the nightly figures per salesperson use them too.

    Small id lists rather than joins or sub-selects, so that PostgreSQL reads the owner indexes
    (an OR with a sub-select forces a scan of every client).
    """
    if not user.is_authenticated or not user.is_active:
        return None
    if user.is_administrador:
        return PortfolioScope(owners=None, shared=[])
    owners = {user.pk}
    if user.is_gerente:
        owners |= set(user.managed_teams.values_list("members", flat=True)) - {None}
    shared = list(ClientShare.objects.filter(user=user).values_list("client_id", flat=True))
    return PortfolioScope(owners=sorted(owners), shared=shared)


class ClientQuerySet(models.QuerySet):
    def not_in_trash(self) -> "ClientQuerySet":
        return self.filter(not_in_trash())

    def visible_to(self, user) -> "ClientQuerySet":
        """The one access rule: which clients `user` may see (and so everything hanging from them).

        comercial: their own and those shared with them; gerente: also their teams' clients;
        administrador: all. A client in the trash is nobody's until restored.
        """
        return self.not_in_trash()._portfolio_of(user)

    def in_trash_visible_to(self, user) -> "ClientQuerySet":
        """The trash under the same rule: what `user` may restore (erased and merged clients never come back)."""
        return self.exclude(not_in_trash()).filter(erased_at__isnull=True, merged_into__isnull=True)._portfolio_of(user)

    def visible_in(self, scope: "PortfolioScope | None") -> "ClientQuerySet":
        """visible_to(user) from the user's portfolio_scope(user), when the caller has it already."""
        return self.not_in_trash().in_portfolio(scope)

    def _portfolio_of(self, user) -> "ClientQuerySet":
        return self.in_portfolio(portfolio_scope(user))

    def in_portfolio(self, scope: "PortfolioScope | None") -> "ClientQuerySet":
        if scope is None:
            return self.none()
        if scope.owners is None:
            return self.all()
        rule = Q(owner_id__in=scope.owners)
        if scope.shared:
            rule |= Q(pk__in=scope.shared)
        return self.filter(rule)

    def search(self, text: str) -> "ClientQuerySet":
        """Accent- and case-insensitive words over names, e-mail, tax id and reference; or a phone."""
        text = text.replace("\x00", "")  # never in stored text, and PostgreSQL refuses it in a query
        words = search_words(text)[:MAX_SEARCH_WORDS]  # the forms refuse more with a message (filters.py)
        if not words:
            return self
        # One flat AND built at once: `&=` word by word copied the growing list each time (quadratic).
        by_text = Q(*(Q(search_text__contains=word) for word in words))
        # A tax id written with other separators ('12.345.678-z') is the one stored in normal form.
        tax = tax_key(text)
        if len(tax) >= 8 and any(ch.isdigit() for ch in tax):
            by_text |= Q(tax_key=tax)
        key = phone_key(text)
        if len(key) >= 6 and len(key) * 2 >= len(text.replace(" ", "")):
            return self.filter(by_text | Q(phone_key__startswith=key))
        return self.filter(by_text)


class Client(ChoiceDisplay, models.Model):
    class MaritalStatus(models.TextChoices):
        SINGLE = "single", _("Single")
        MARRIED = "married", _("Married")
        PARTNER = "partner", _("Domestic partnership")
        DIVORCED = "divorced", _("Divorced")
        WIDOWED = "widowed", _("Widowed")

    class EconomicLevel(models.TextChoices):
        LOW = "low", _("Low")
        MEDIUM = "medium", _("Medium")
        HIGH = "high", _("High")
        VERY_HIGH = "very_high", _("Very high")

    class Source(models.TextChoices):
        CAMPAIGN = "campaign", _("Campaign")
        REFERRAL = "referral", _("Referral by a client")
        NETWORKING = "networking", _("Networking")
        WEB = "web", _("Website")
        WALK_IN = "walk_in", _("Walk-in")
        EVENT = "event", _("Trade fair or event")
        OTHER = "other", _("Other")

    class Qualification(models.TextChoices):
        POTENTIAL = "potential", _("Potential (showed interest)")
        PROBABLE = "probable", _("Probable (fits the ideal profile)")

    class Temperature(models.TextChoices):
        HOT = "hot", _("Hot")
        WARM = "warm", _("Warm")
        COLD = "cold", _("Cold")

    class CloseReason(models.TextChoices):
        PRICE = "price", _("Price")
        SERVICE = "service", _("Service")
        MOVED = "moved", _("Moved away")
        COMPETITOR = "competitor", _("Went to a competitor")
        NO_NEED = "no_need", _("No longer needs us")
        OTHER = "other", _("Other")

    # Identity and contact
    first_name = models.CharField(_("first name"), max_length=100, blank=True)
    last_name = models.CharField(_("last name"), max_length=150, blank=True)
    company_name = models.CharField(_("company name"), max_length=200, blank=True)
    client_ref = models.CharField(_("external reference"), max_length=64, blank=True)
    tax_id = models.CharField(_("tax id"), max_length=32, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    address = models.CharField(_("address"), max_length=255, blank=True)
    city = models.CharField(_("city"), max_length=100, blank=True)
    region = models.CharField(_("region"), max_length=100, blank=True)
    postal_code = models.CharField(_("postal code"), max_length=16, blank=True)
    country = CountryField(_("country"), default="ES")
    preferred_channel = models.CharField(_("preferred channel"), max_length=16, choices=Channel.choices, blank=True)
    contact_hours = models.CharField(_("contact hours"), max_length=100, blank=True)
    # Segmentation data
    sector = models.CharField(_("sector"), max_length=100, blank=True)
    marital_status = models.CharField(_("marital status"), max_length=16, choices=MaritalStatus.choices, blank=True)
    birth_date = models.DateField(_("birth date"), null=True, blank=True)
    economic_level = models.CharField(_("economic level"), max_length=16, choices=EconomicLevel.choices, blank=True)
    interests = models.ManyToManyField(Category, blank=True, related_name="interested_clients", verbose_name=_("interests"))
    hobbies = models.CharField(_("hobbies"), max_length=255, blank=True)
    notes = models.TextField(_("summary notes"), blank=True)
    # How they buy, origin and exit
    source = models.CharField(_("source"), max_length=16, choices=Source.choices, blank=True)
    buys_on_own_initiative = models.BooleanField(_("buys on own initiative"), null=True, blank=True)
    payment_method = models.CharField(_("payment method"), max_length=16, choices=PaymentMethod.choices, blank=True)
    prospect_qualification = models.CharField(_("qualification"), max_length=16, choices=Qualification.choices, blank=True)
    temperature = models.CharField(_("temperature"), max_length=8, choices=Temperature.choices, blank=True)
    closed_at = models.DateField(_("closed on"), null=True, blank=True)
    close_reason = models.CharField(_("close reason"), max_length=16, choices=CloseReason.choices, blank=True)
    # The client of the same business who brought this one (source "referral"): chosen by typing.
    referred_by = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="referrals",
        verbose_name=_("referred by"), db_index=False,
    )  # indexed by client_referred_by_idx (only the referred)
    # What the source was, in words: the campaign answered, the fair, the web form.
    source_detail = models.CharField(_("source detail"), max_length=200, blank=True)
    # Why a baja left (computed from the close reason, the "why did you leave" answer and the
    # competitor or objection in its last interactions); empty for every other status.
    leave_reason = models.CharField(
        _("reason for leaving"), max_length=16, choices=CloseReason.choices, blank=True, editable=False
    )
    # A baja's revenue lost: its purchases in the 365 days up to its last purchase, its last year
    # as a client; 0 for every other status. Kept with leave_reason (segmentation/leaving.py), so
    # that the reasons page and the dashboard add it up instead of reading each baja's purchases.
    lost_revenue = models.DecimalField(
        _("revenue lost"), max_digits=14, decimal_places=2, default=Decimal("0"), editable=False,
    )
    # Fit with the ideal client profile, 0 to 100; null while no profile is defined.
    icp_fit = models.PositiveSmallIntegerField(_("ideal profile fit"), null=True, blank=True, editable=False)
    # Portfolio
    # Indexed by client_owner_sort_name_idx (owner first): no separate FK index to keep up.
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="clients", verbose_name=_("salesperson"),
        db_index=False,
    )
    shared_with = models.ManyToManyField(
        settings.AUTH_USER_MODEL, through="ClientShare", related_name="shared_clients", blank=True,
        verbose_name=_("shared with"),
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    # Bumped by every edit of the client's own data: a form saved over an older version is refused.
    version = models.PositiveIntegerField(default=0, editable=False)
    # In the trash since then (hidden everywhere, restorable for TRASH_DAYS); erased: anonymised.
    deleted_at = models.DateTimeField(_("deleted"), null=True, blank=True, editable=False)
    deleted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", editable=False,
        db_index=False,  # client_deleted_by_idx, on the few that have one
    )
    erased_at = models.DateTimeField(_("erased"), null=True, blank=True, editable=False)
    # Merged into another client (the survivor): hidden like the trash, its address leads there.
    merged_into = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="absorbed", editable=False,
        verbose_name=_("merged into"), db_index=False,  # client_merged_into_idx, on the few that have one
    )
    # Search keys, kept by save() (and by bulk loaders through refresh_search_fields()).
    search_text = models.TextField(editable=False, default="")
    # The name as shown (display_name), folded to lower case without accents: the list sorts by it.
    sort_name = models.CharField(max_length=255, editable=False, default="")
    phone_key = models.CharField(max_length=16, editable=False, default="")
    tax_key = models.CharField(max_length=32, editable=False, default="")  # text.tax_key(tax_id), for matching
    # Computed by the lifecycle engine (segmentation); never edited by hand.
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.PROSPECT, editable=False)
    status_since = models.DateField(_("status since"), null=True, blank=True, editable=False)
    first_purchase_date = models.DateField(_("first purchase"), null=True, blank=True, editable=False)
    last_purchase_date = models.DateField(_("last purchase"), null=True, blank=True, editable=False)
    purchase_count = models.PositiveIntegerField(_("purchases"), default=0, editable=False)
    total_spent = models.DecimalField(_("total spent"), max_digits=14, decimal_places=2, default=Decimal("0"), editable=False)
    spend_12m = models.DecimalField(_("12-month spend"), max_digits=14, decimal_places=2, default=Decimal("0"), editable=False)
    average_basket = models.DecimalField(_("average basket"), max_digits=14, decimal_places=2, default=Decimal("0"), editable=False)
    volume_tier = models.CharField(_("volume"), max_length=16, choices=VolumeTier.choices, blank=True, editable=False)
    frequency_class = models.CharField(_("frequency"), max_length=16, choices=FrequencyClass.choices, blank=True, editable=False)
    r_score = models.PositiveSmallIntegerField("R", null=True, blank=True, editable=False)
    f_score = models.PositiveSmallIntegerField("F", null=True, blank=True, editable=False)
    m_score = models.PositiveSmallIntegerField("M", null=True, blank=True, editable=False)
    rfm_segment = models.CharField(_("RFM segment"), max_length=16, choices=RfmSegment.choices, blank=True, editable=False)
    alert = models.CharField(_("alert"), max_length=8, choices=Alert.choices, blank=True, editable=False)
    alert_reason = models.CharField(_("alert reason"), max_length=255, blank=True, editable=False)
    alert_value = models.CharField(max_length=32, blank=True, editable=False)

    objects = ClientQuerySet.as_manager()

    class Meta:
        ordering = ["sort_name", "id"]
        verbose_name = _("client")
        verbose_name_plural = _("clients")
        constraints = [
            models.UniqueConstraint(fields=["client_ref"], condition=~Q(client_ref=""), name="client_ref_unique_when_set"),
            models.CheckConstraint(condition=Q(total_spent__gte=0) & Q(spend_12m__gte=0), name="client_spend_not_negative"),
            models.CheckConstraint(
                condition=~Q(first_name="", last_name="", company_name=""), name="client_has_a_name"
            ),
        ]
        indexes = [
            # List sorted by name, for everyone and within one portfolio.
            models.Index(fields=["sort_name", "id"], name="client_sort_name_idx"),
            models.Index(fields=["owner", "sort_name", "id"], name="client_owner_sort_name_idx"),
            # Columns the nightly job rewrites only for the few clients whose values change (dates
            # move with purchases, spend_12m when a purchase enters or leaves the window): cheap.
            models.Index(fields=["last_purchase_date", "id"], name="client_last_purchase_idx"),
            models.Index(fields=["status", "last_purchase_date", "id"], name="client_status_last_idx"),
            models.Index(fields=["owner", "status", "last_purchase_date", "id"], name="client_owner_status_idx"),
            models.Index(fields=["spend_12m", "id"], name="client_spend_12m_idx"),
            # The list's city filter is case-insensitive (UPPER(city) = UPPER(%s)): on the expression.
            models.Index(Upper("city"), "id", name="client_city_upper_idx"),
            models.Index(fields=["phone_key"], name="client_phone_key_idx", opclasses=["varchar_pattern_ops"]),
            models.Index(fields=["tax_key"], name="client_tax_key_idx", condition=~Q(tax_key="")),
            models.Index(fields=["email"], name="client_email_idx"),
            # The referred clients with what the best referrers page adds up of them, read from the
            # index alone (196,000 referred at a million clients: 1.7 s from the table, 80 ms here).
            models.Index(
                fields=["referred_by"], include=["deleted_at", "status", "spend_12m", "total_spent", "owner", "id"],
                name="client_referred_cover_idx", condition=Q(referred_by__isnull=False),
            ),
            # The trash, newest first, and the few trashed ids that "not in the trash" can exclude
            # instead of reading every client that is not (clients.referrals).
            models.Index(fields=["deleted_at", "id"], name="client_trashed_idx", condition=Q(deleted_at__isnull=False)),
            # The month's bajas by the day they left (the dashboard's reasons card, the reasons page):
            # only lost clients. With what those read (owner, trash, reason, revenue lost), they
            # are read from the index alone: a year's 170,000 bajas from the table's pages took
            # 0.9 s at a million. Its row changes when a client becomes or stops being lost (its
            # status, indexed anyway), is reassigned or trashed, or a baja's reason or revenue moves.
            models.Index(
                fields=["status_since"], include=["owner", "deleted_at", "leave_reason", "lost_revenue", "id"],
                name="client_lost_since_cover_idx", condition=Q(status="lost"),
            ),
            # The night's colour candidates (segmentation.alerts.night_candidates): the dormant ones
            # by the day they fell dormant, and the clients created on the days that cross the
            # contact cadence, each an index range instead of a pass over every client.
            models.Index(fields=["status_since", "id"], name="client_dormant_since_idx", condition=Q(status="dormant")),
            models.Index(fields=["created_at"], name="client_created_idx"),
            # Records joined to their client for its owner and the trash alone (the dashboard's
            # contract renewals: 29,000 contracts at a million clients): an index-only lookup in
            # this narrow index rather than a read of the client's wide row (218 → 58 ms).
            # PostgreSQL only keeps the included columns; elsewhere it is an index on id.
            models.Index(fields=["id"], include=["owner", "deleted_at"], name="client_owner_cover_idx"),
            # Partial: a figure that changes moves the row to a new version and adds it to every
            # index on the table (30,000 clients' figures took 11.6 s at a million clients, against
            # 0.8 s for a column no index holds). These two hold the few deleted and merged ones.
            models.Index(fields=["deleted_by"], condition=Q(deleted_by__isnull=False), name="client_deleted_by_idx"),
            models.Index(fields=["merged_into"], condition=Q(merged_into__isnull=False), name="client_merged_into_idx"),
        ]

    # The client's own data: what a person types in the form or a file brings, and what the
    # audit history records of a creation or an edit (the rest is computed or kept by the system).
    DATA_FIELDS = (
        "first_name", "last_name", "company_name", "client_ref", "tax_id", "email", "phone",
        "address", "city", "region", "postal_code", "country", "preferred_channel", "contact_hours",
        "sector", "marital_status", "birth_date", "economic_level", "interests", "hobbies", "source",
        "source_detail", "referred_by",
        "buys_on_own_initiative", "payment_method", "prospect_qualification", "temperature", "notes",
        "closed_at", "close_reason",
    )

    def __str__(self) -> str:
        return self.display_name

    def save(self, *args, **kwargs) -> None:
        self.refresh_search_fields()
        update_fields = kwargs.get("update_fields")
        if update_fields is not None:
            kwargs["update_fields"] = set(update_fields) | {"search_text", "sort_name", "phone_key", "tax_key", "email"}
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse("clients:client_detail", args=[self.pk])

    @property
    def trash_expires(self):
        """When the nightly purge erases a client in the trash."""
        return self.deleted_at + timedelta(days=TRASH_DAYS) if self.deleted_at else None

    @property
    def display_name(self) -> str:
        return Client.name_shown(self.first_name, self.last_name, self.company_name)

    @staticmethod
    def name_shown(first_name: str, last_name: str, company_name: str) -> str:
        """'Acme (Ana Pérez)', 'Acme' or 'Ana Pérez': how a client is named everywhere."""
        person = f"{first_name} {last_name}".strip()
        if company_name and person:
            return f"{company_name} ({person})"
        return company_name or person

    @property
    def days_since_last_purchase(self) -> int | None:
        """Derived when read, so that the nightly job does not rewrite every buyer every day."""
        if self.last_purchase_date is None:
            return None
        return (timezone.localdate() - self.last_purchase_date).days

    @property
    def age(self) -> int | None:
        if self.birth_date is None:
            return None
        today = timezone.localdate()
        return today.year - self.birth_date.year - ((today.month, today.day) < (self.birth_date.month, self.birth_date.day))

    def alert_text(self) -> str:
        """The alert's reason in words, in the active language (the code and value are stored)."""
        reason, value = self.alert_reason, self.alert_value
        if not reason:
            return ""
        if reason == AlertReason.FOLLOWUP_OVERDUE:
            # The oldest overdue due date (a bare count of days before the colours' version 2).
            days = int(value or 0) if value.isdigit() or not value else (timezone.localdate() - date.fromisoformat(value)).days
            if days == 0:
                return gettext("Follow-up overdue since earlier today")
            return ngettext("Follow-up overdue for %(days)d day", "Follow-up overdue for %(days)d days", days) % {"days": days}
        if reason == AlertReason.NO_CONTACT and not value:
            return gettext("Never contacted")
        messages = {
            AlertReason.DETRACTOR: gettext("Unhappy survey answer on %(date)s: call them"),
            AlertReason.VALUABLE_DORMANT: gettext("Valuable client dormant since %(date)s"),
            AlertReason.CONTRACT_RENEWAL: gettext("Contract ends on %(date)s with no renewal action"),
            AlertReason.FOLLOWUP_DUE_SOON: gettext("Follow-up due on %(date)s"),
            AlertReason.AWAITING_TOO_LONG: gettext("Waiting too long for their answer, since %(date)s"),
            AlertReason.NO_CONTACT: gettext("No contact since %(date)s"),
            AlertReason.AWAITING_REPLY: gettext("Waiting for their answer since %(date)s"),
        }
        if reason not in messages or not value:
            return ""
        return messages[reason] % {"date": formats.date_format(date.fromisoformat(value), "SHORT_DATE_FORMAT")}

    def refresh_search_fields(self) -> None:
        self.search_text = fold(
            " ".join([self.first_name, self.last_name, self.company_name, self.email, self.tax_id, self.client_ref, self.city])
        )
        self.sort_name = fold(Client.name_shown(self.first_name, self.last_name, self.company_name))[:255]
        self.phone_key = phone_key(self.phone)
        self.tax_key = tax_key(self.tax_id)
        self.email = self.email.strip().lower()


class ClientShare(models.Model):
    """A client shared with another salesperson, who then sees it in their portfolio."""

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="shares")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="client_shares")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "client"], name="client_share_unique")]

    def __str__(self) -> str:
        return f"{self.client_id} → {self.user_id}"


class NotDuplicate(models.Model):
    """Two clients someone checked and found to be different: never offered as duplicates again.
    The pair is stored once, the lower id first."""

    first = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="+")
    second = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="+")
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["first", "second"], name="not_duplicate_pair_once"),
            models.CheckConstraint(condition=Q(first__lt=F("second")), name="not_duplicate_pair_ordered"),
        ]

    def __str__(self) -> str:
        return f"{self.first_id} ≠ {self.second_id}"


class ClientChildQuerySet(models.QuerySet):
    def visible_to(self, user) -> models.QuerySet:
        return self.filter(client__in=Client.objects.visible_to(user))


class Purchase(ChoiceDisplay, models.Model):
    class SalesChannel(models.TextChoices):
        STORE = "store", _("Store")
        VISIT = "visit", _("Sales visit")
        PHONE = "phone", _("Phone")
        WEB = "web", _("Web")
        EMAIL = "email", _("E-mail")
        OTHER = "other", _("Other")

    # PROTECT: purchases are the history the figures are computed from; never lost by a cascade.
    client = models.ForeignKey(
        Client, on_delete=models.PROTECT, related_name="purchases", verbose_name=_("client"), db_index=False
    )  # indexed by purchase_client_date_amount
    date = models.DateField(_("date"))
    # In the business currency (settings.CURRENCY): what every figure adds up.
    amount = models.DecimalField(_("amount"), max_digits=12, decimal_places=2)
    # As it was paid: its currency and amount, and the rate that converted it into `amount`
    # (business currency per unit of `currency`; NULL while no rate is known for it).
    currency = models.CharField(_("currency"), max_length=3, default="EUR")
    original_amount = models.DecimalField(_("amount paid"), max_digits=16, decimal_places=2, null=True, blank=True)
    exchange_rate = models.DecimalField(_("exchange rate"), max_digits=18, decimal_places=8, null=True, blank=True)
    payment_method = models.CharField(_("payment method"), max_length=16, choices=PaymentMethod.choices, blank=True)
    channel = models.CharField(_("channel"), max_length=16, choices=SalesChannel.choices, blank=True)
    notes = models.CharField(_("notes"), max_length=255, blank=True)
    # Never searched by: an index here would cost every insert of ten million purchases.
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", db_index=False
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    # Set by whoever submits it (a form's one-time token, an API client's Idempotency-Key): a second
    # submission with the same key finds this purchase instead of recording another one.
    idempotency_key = models.CharField(max_length=80, null=True, blank=True, editable=False)  # noqa: DJ001 (NULL: no key, outside the unique constraint)

    objects = ClientChildQuerySet.as_manager()

    # What a person records or corrects of a purchase (its form, the admin, the audit history).
    DATA_FIELDS = ("date", "amount", "currency", "payment_method", "channel", "notes")

    class Meta:
        ordering = ["-date", "-id"]
        verbose_name = _("purchase")
        verbose_name_plural = _("purchases")
        constraints = [
            models.CheckConstraint(condition=Q(amount__gte=0), name="purchase_amount_not_negative"),
            models.UniqueConstraint(
                fields=["idempotency_key"], condition=Q(idempotency_key__isnull=False), name="purchase_idempotency_key_once",
            ),
        ]
        # Covering (amount included): the nightly engine reads every purchase in (client, date)
        # order from the index alone, without visiting the table (13 s instead of 19 s at 10.7M).
        indexes = [
            models.Index(fields=["client", "date"], include=["amount"], name="purchase_client_date_amount"),
            # Partial, so tiny: the purchases waiting for an exchange rate (the rates page counts
            # them, and a new rate converts them) without reading ten million purchases.
            models.Index(fields=["currency", "date"], condition=Q(exchange_rate__isnull=True), name="purchase_waiting_for_rate"),
            # The nightly run finds the clients whose 12-month window lost a purchase since the
            # last run by date range (a day's purchases out of ten million), with their client.
            models.Index(fields=["date"], include=["client"], name="purchase_date_client"),
        ]

    def __str__(self) -> str:
        return f"{self.date:%Y-%m-%d} {self.amount} {self.currency}"


class ExchangeRate(models.Model):
    """What one unit of `currency` is worth in the business currency from `valid_from` on (until
    the next rate of that currency). Kept by administradores; a purchase records the rate it used."""

    currency = models.CharField(_("currency"), max_length=3)
    valid_from = models.DateField(_("valid from"))
    rate = models.DecimalField(_("rate"), max_digits=18, decimal_places=8)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["currency", "-valid_from"]
        verbose_name = _("exchange rate")
        verbose_name_plural = _("exchange rates")
        constraints = [
            models.UniqueConstraint(fields=["currency", "valid_from"], name="exchange_rate_once_a_day"),
            models.CheckConstraint(condition=Q(rate__gt=0), name="exchange_rate_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.currency} {self.valid_from:%Y-%m-%d} {self.rate}"


class PurchaseLine(models.Model):
    purchase = models.ForeignKey(Purchase, on_delete=models.CASCADE, related_name="lines")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="purchase_lines", verbose_name=_("product"))
    quantity = models.DecimalField(_("quantity"), max_digits=10, decimal_places=3, default=Decimal("1"))
    unit_price = models.DecimalField(_("unit price"), max_digits=12, decimal_places=2)
    discount = models.DecimalField(_("discount (%)"), max_digits=5, decimal_places=2, default=Decimal("0"))

    class Meta:
        verbose_name = _("purchase line")
        verbose_name_plural = _("purchase lines")
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="purchase_line_quantity_positive"),
            models.CheckConstraint(condition=Q(unit_price__gte=0), name="purchase_line_price_not_negative"),
            models.CheckConstraint(condition=Q(discount__gte=0) & Q(discount__lte=100), name="purchase_line_discount_percent"),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.product_id}"

    @property
    def total(self) -> Decimal:
        return self.total_for(self.quantity, self.unit_price, self.discount)

    @staticmethod
    def total_for(quantity: Decimal, unit_price: Decimal, discount: Decimal = Decimal("0")) -> Decimal:
        """What a line comes to: each line rounded to the cent on its own, then the lines added up
        (the purchase's amount), so the page, the form and the stored amount agree."""
        return cents(quantity * unit_price * (1 - discount / 100))

    @staticmethod
    def unit_price_for(amount: Decimal, quantity: Decimal, discount: Decimal = Decimal("0")) -> Decimal:
        """The unit price of a line known by what was paid for it in all (the form, an import)."""
        paid_share = 1 - discount / 100
        return cents(amount / quantity / paid_share) if paid_share else Decimal("0")


def column_max(model: type[models.Model], name: str) -> Decimal:
    """The largest value a decimal column holds (12 digits with 2 decimals: 9,999,999,999.99).
    SQLite stores more without a word, and then the page that reads it back fails."""
    field = model._meta.get_field(name)
    return Decimal(10) ** (field.max_digits - field.decimal_places) - Decimal(10) ** -field.decimal_places


# What a purchase may hold; also the limit of a client's figures, which add up all its purchases.
AMOUNT_MAX = column_max(Purchase, "amount")
QUANTITY_MAX = column_max(PurchaseLine, "quantity")
UNIT_PRICE_MAX = column_max(PurchaseLine, "unit_price")
CLIENT_TOTAL_MAX = column_max(Client, "total_spent")


def _money(value: Decimal) -> str:
    return formats.number_format(value, 2, use_l10n=True, force_grouping=True)


def purchase_amount_error(amount: Decimal) -> str | None:
    """Why a purchase of `amount` cannot be recorded (its column's limit), or None."""
    if amount > AMOUNT_MAX:
        return gettext("The purchase comes to %(amount)s; a purchase holds at most %(max)s.") % {
            "amount": _money(amount), "max": _money(AMOUNT_MAX),
        }
    return None


def client_total_error(recorded: Decimal, amount: Decimal) -> str | None:
    """Why one more purchase of `amount` would not fit the client's figures (total spent), or None."""
    if recorded + amount > CLIENT_TOTAL_MAX:
        return gettext(
            "With this purchase the client's purchases would add up to %(total)s, more than the %(max)s "
            "a client's figures hold."
        ) % {"total": _money(recorded + amount), "max": _money(CLIENT_TOTAL_MAX)}
    return None


class Interaction(ChoiceDisplay, models.Model):
    class Kind(models.TextChoices):
        CALL = "call", _("Call")
        EMAIL = "email", _("E-mail")
        VISIT = "visit", _("Visit")
        MEETING = "meeting", _("Meeting")
        WHATSAPP = "whatsapp", _("WhatsApp / chat")
        NOTE = "note", _("Note")
        SURVEY = "survey", _("Survey answer")

    class Direction(models.TextChoices):
        OUTBOUND = "outbound", _("Outbound")
        INBOUND = "inbound", _("Inbound")

    class Outcome(models.TextChoices):
        INTERESTED = "interested", _("Interested")
        OFFER_SENT = "offer_sent", _("Offer sent")
        SALE = "sale", _("Sale closed")
        NOT_INTERESTED = "not_interested", _("Not interested")
        NO_ANSWER = "no_answer", _("No answer")
        CALL_BACK = "call_back", _("Asked us to call back")
        AWAITING_ANSWER = "awaiting_answer", _("Waiting for the client's answer")
        INFO = "info", _("Information only")

    client = models.ForeignKey(
        Client, on_delete=models.CASCADE, related_name="interactions", verbose_name=_("client"), db_index=False
    )  # indexed by interaction_client_when_idx
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, default=Kind.CALL)
    direction = models.CharField(_("direction"), max_length=8, choices=Direction.choices, default=Direction.OUTBOUND)
    happened_at = models.DateTimeField(_("when"), default=timezone.now)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="interactions",
        verbose_name=_("by"),
    )
    summary = models.TextField(_("summary"))
    outcome = models.CharField(_("outcome"), max_length=16, choices=Outcome.choices, blank=True)
    needs = models.TextField(_("needs and doubts"), blank=True)
    objections = models.TextField(_("objections and opinions"), blank=True)
    competitor_notes = models.TextField(_("competitors mentioned"), blank=True)
    awaiting_reply = models.BooleanField(_("awaiting the client's answer"), default=False)

    objects = ClientChildQuerySet.as_manager()

    class Meta:
        ordering = ["-happened_at", "-id"]
        verbose_name = _("interaction")
        verbose_name_plural = _("interactions")
        indexes = [
            models.Index(fields=["client", "happened_at"], name="interaction_client_when_idx"),
            # The nightly colours find the clients whose last contact crosses a day limit since
            # the last run by date range, not by reading every interaction.
            models.Index(fields=["happened_at"], include=["client"], name="interaction_when_client_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.happened_at:%Y-%m-%d}"


class FollowUp(ChoiceDisplay, models.Model):
    class Kind(models.TextChoices):
        CALL = "call", _("Call")
        VISIT = "visit", _("Visit")
        EMAIL = "email", _("E-mail")
        SAMPLES = "samples", _("Bring samples")
        SURVEY = "survey", _("Leave a survey")
        MEETING = "meeting", _("Meeting")

    class Origin(models.TextChoices):
        MANUAL = "manual", _("Scheduled by hand")
        REACTIVATION = "reactivation", _("Reactivation of a dormant client")
        RENEWAL = "renewal", _("Contract renewal")
        WELCOME = "welcome", _("Welcome call")
        CAMPAIGN = "campaign", _("Campaign")
        DETRACTOR = "detractor", _("Unhappy survey answer")

    class State(models.TextChoices):
        PENDING = "pending", _("Pending")
        DONE = "done", _("Done")
        CANCELLED = "cancelled", _("Cancelled")
        ON_HOLD = "on_hold", _("On hold: the client is in the trash")

    client = models.ForeignKey(
        Client, on_delete=models.CASCADE, related_name="followups", verbose_name=_("client"), db_index=False
    )  # indexed by followup_client_idx
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, default=Kind.CALL)
    due_at = models.DateTimeField(_("due"))
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="followups", verbose_name=_("assigned to"),
        db_index=False,
    )  # indexed by followup_agenda_id_idx
    status = models.CharField(_("status"), max_length=16, choices=State.choices, default=State.PENDING)
    notes = models.TextField(_("notes"), blank=True)
    closed_by = models.OneToOneField(
        Interaction, on_delete=models.SET_NULL, null=True, blank=True, related_name="closed_followup",
        verbose_name=_("closing interaction"),
    )
    completed_at = models.DateTimeField(_("completed"), null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    # Who asked for it: a person, or an automatic rule with the key of what triggered it (the
    # date the client turned dormant, the contract's id), so that a rule never creates it twice.
    origin = models.CharField(_("origin"), max_length=16, choices=Origin.choices, default=Origin.MANUAL, editable=False)
    origin_key = models.CharField(max_length=32, blank=True, editable=False)
    # The calendar feed's SEQUENCE (RFC 5545 §3.8.7.4): raised on every move, hand-over or
    # cancellation so that a subscribed calendar updates the event instead of adding another.
    sequence = models.PositiveIntegerField(default=0, editable=False)
    cancel_reason = models.CharField(_("reason for cancelling"), max_length=255, blank=True)

    objects = ClientChildQuerySet.as_manager()

    class Meta:
        ordering = ["due_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["client", "origin", "origin_key"], condition=~models.Q(origin="manual"),
                name="followup_automatic_once",
            ),
        ]
        verbose_name = _("follow-up")
        verbose_name_plural = _("follow-ups")
        indexes = [
            # The agenda's sections in (due_at, id) order: with id in the index the planner takes it
            # rather than followup_calendar_idx, which walks the done follow-ups too.
            models.Index(fields=["assigned_to", "status", "due_at", "id"], name="followup_agenda_id_idx"),
            # The month calendar reads each day's first follow-ups (any status but cancelled) in due order.
            models.Index(fields=["assigned_to", "due_at", "id"], name="followup_calendar_idx"),
            models.Index(fields=["client", "status", "due_at"], name="followup_client_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.due_at:%Y-%m-%d %H:%M}"

    @property
    def is_overdue(self) -> bool:
        return self.status == self.State.PENDING and self.due_at < timezone.now()


class ContractQuerySet(ClientChildQuerySet):
    def renewal_due(self, day: date, days: int) -> "ContractQuerySet":
        """The one renewal window: renewal pending and ending between `day` and `day` + `days`
        (both included). The automatic calls, the colour alerts and the morning summary read it."""
        return self.filter(
            renewal_status=Contract.Renewal.PENDING, end_date__gte=day, end_date__lte=day + timedelta(days=days),
        )


class Contract(ChoiceDisplay, models.Model):
    class Renewal(models.TextChoices):
        PENDING = "pending", _("Nothing done yet")
        IN_NEGOTIATION = "negotiating", _("Proposal sent")
        RENEWED = "renewed", _("Renewed")
        NOT_RENEWING = "not_renewing", pgettext_lazy("renewal", "Lost")

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="contracts", verbose_name=_("client"))
    title = models.CharField(_("title"), max_length=200)
    start_date = models.DateField(_("start"))
    end_date = models.DateField(_("end"))
    value = models.DecimalField(_("value"), max_digits=14, decimal_places=2, default=Decimal("0"))
    renewal_status = models.CharField(_("renewal"), max_length=16, choices=Renewal.choices, default=Renewal.PENDING)
    notes = models.TextField(_("notes"), blank=True)
    # The term this one renews (a renewal is a new contract prefilled from the old one).
    renewed_from = models.OneToOneField(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="renewal", verbose_name=_("renews"),
    )
    # Ended on purpose before or at its end date, and why (the renewal is then lost).
    ended_on = models.DateField(_("ended on"), null=True, blank=True)
    end_reason = models.CharField(_("reason for ending"), max_length=16, choices=Client.CloseReason.choices, blank=True)
    # Every save sets it: the dashboard counts again the contracts changed since the night's
    # renewal snapshot (segmentation.snapshots.renewal_snapshot_take).
    updated_at = models.DateTimeField(auto_now=True)

    objects = ContractQuerySet.as_manager()

    class Meta:
        ordering = ["end_date", "id"]
        verbose_name = _("contract")
        verbose_name_plural = _("contracts")
        indexes = [
            # The contracts that came to term in a period (the dashboard's renewal rate) or end soon.
            models.Index(fields=["end_date"], include=["client", "renewal_status", "value"], name="contract_end_idx"),
            models.Index(fields=["updated_at"], name="contract_updated_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(value__gte=0), name="contract_value_not_negative"),
            models.CheckConstraint(condition=Q(end_date__gte=F("start_date")), name="contract_ends_after_start"),
        ]

    def __str__(self) -> str:
        return self.title

    def days_to_end(self, today: date | None = None) -> int:
        return (self.end_date - (today or timezone.localdate())).days


class Recommendation(models.Model):
    """What to offer a client, computed nightly by clients/recommendations.py (never edited by hand)."""

    class Kind(models.TextChoices):
        CROSS_SELL = "cross_sell", _("Bought together")
        ROOM_TO_GROW = "room_to_grow", _("Room to grow")

    client = models.ForeignKey(
        Client, on_delete=models.CASCADE, related_name="recommendations", verbose_name=_("client"), db_index=False
    )  # indexed by recommendation_client_idx
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    # Cross-sell: the product to offer; room to grow has none.
    product = models.ForeignKey(
        Product, on_delete=models.CASCADE, null=True, blank=True, related_name="+", verbose_name=_("product")
    )
    # Cross-sell: the confidence (0–1); room to grow: 1 - spend / typical spend of their peers.
    score = models.DecimalField(_("score"), max_digits=7, decimal_places=4)
    # Room to grow: the typical (median) 12-month spend of their peers.
    value = models.DecimalField(_("value"), max_digits=12, decimal_places=2, null=True, blank=True)
    rank = models.PositiveSmallIntegerField(_("rank"))
    computed_on = models.DateField(_("computed on"))

    class Meta:
        ordering = ["kind", "rank"]
        verbose_name = _("recommendation")
        verbose_name_plural = _("recommendations")
        indexes = [models.Index(fields=["client", "kind", "rank"], name="recommendation_client_idx")]

    def __str__(self) -> str:
        return f"{self.client_id} {self.kind} #{self.rank}"

    @property
    def percent(self) -> Decimal:
        """The score as a percentage (confidence for cross-sell, the gap for room to grow)."""
        return self.score * 100


# The evidence behind the recommendations, rebuilt once a week (clients/recommendations.py):
# between two rebuilds each night recomputes only the clients whose purchases or status moved.


class RecommendationRule(models.Model):
    """A cross-sell rule A → B of the last rebuild: support, holders of A, its rank within A and overall."""

    a = models.BigIntegerField()
    b = models.BigIntegerField()
    support = models.IntegerField()
    holders = models.IntegerField()
    confidence = models.FloatField()
    rn = models.IntegerField()
    rule_key = models.IntegerField()

    class Meta:
        indexes = [models.Index(fields=["a", "rn"], name="recommendation_rule_a_idx")]

    def __str__(self) -> str:
        return f"{self.a} → {self.b}"


class RecommendationPeers(models.Model):
    """A peer group (sector, frequency class) of the last rebuild: its size and twice its median
    12-month spend in cents."""

    sector = models.CharField(max_length=100)
    frequency_class = models.CharField(max_length=16)
    peers = models.IntegerField()
    median2 = models.BigIntegerField()

    def __str__(self) -> str:
        return f"{self.sector} / {self.frequency_class}"


class RecommendationStale(models.Model):
    """A client whose purchases were written since the last night (every write's refresh marks
    it): the night recomputes its recommendations. No foreign key: a mark costs one row insert."""

    client_id = models.BigIntegerField(primary_key=True)

    def __str__(self) -> str:
        return str(self.client_id)


class RecommendationState(models.Model):
    """One row (pk=1): the day of the last run and of the last rebuild of the rules."""

    as_of = models.DateField(null=True)
    rules_as_of = models.DateField(null=True)
    # The inactive products when the rules were built (a product switched on or off rebuilds them).
    products_key = models.CharField(max_length=64, blank=True)
    version = models.CharField(max_length=8, blank=True)

    def __str__(self) -> str:
        return f"{self.as_of} (rules {self.rules_as_of})"
