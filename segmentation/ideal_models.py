"""The ideal client profile (ICP, seed 004): weighted criteria over a client's record, one profile
for the business.

One profile, not one per team: seed 004's "defina o seu cliente ideal para cada tipo de carteira"
speaks of the kinds of portfolio (renewal, active, inactive), not of salespeople's teams, and
DOMAIN.md has one weighted set defined by the administrador; the fit is one column on the client.

A criterion is an attribute and a value with a weight. The values of one attribute are
alternatives (a client has one sector): the client scores, for each attribute, the weight of
the best value it matches, and its fit is that score over the best score possible (segmentation/ideal_fit.py).
"""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

DEFAULT_THRESHOLD = 70
MAX_WEIGHT = 10


class Attribute(models.TextChoices):
    """What a criterion looks at on the client's record (the column, or how it is read)."""

    SECTOR = "sector", _("Sector")
    ECONOMIC_LEVEL = "economic_level", _("Economic level")
    REGION = "region", _("Region")
    CITY = "city", _("City")
    COUNTRY = "country", _("Country")
    INTEREST = "interest", _("Product of interest")
    CHANNEL = "preferred_channel", _("Preferred channel")
    KIND = "kind", _("Company or person")
    SOURCE = "source", _("Source")
    PAYMENT_METHOD = "payment_method", _("Payment method")


class Kind(models.TextChoices):
    """The values of Attribute.KIND: a company (company name set) or a person."""

    COMPANY = "company", _("Company")
    PERSON = "person", _("Person")


class IdealProfile(models.Model):
    """The business's profile (one row, pk 1): what fit makes a client "fit" it."""

    threshold = models.PositiveSmallIntegerField(
        _("fit threshold"), default=DEFAULT_THRESHOLD, validators=[MinValueValidator(1), MaxValueValidator(100)],
        help_text=_("A client with at least this fit fits the profile; a prospect with no interest shown is then suggested as probable."),
    )
    updated_at = models.DateTimeField(_("updated"), default=timezone.now)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
        verbose_name=_("updated by"),
    )

    class Meta:
        verbose_name = _("ideal client profile")
        verbose_name_plural = _("ideal client profiles")

    def __str__(self) -> str:
        return str(_("Ideal client profile"))

    @classmethod
    def current(cls) -> "IdealProfile":
        """The profile, or an unsaved one with the defaults before the first save (a read never writes)."""
        return cls.objects.filter(pk=1).first() or cls(pk=1)


class Criterion(models.Model):
    attribute = models.CharField(_("attribute"), max_length=32, choices=Attribute.choices)
    # A choice's code, a country code, a category's id (interest), "company"/"person" (kind), or
    # the text as written on client records (sector, region, city).
    value = models.CharField(_("value"), max_length=200)
    weight = models.PositiveSmallIntegerField(
        _("weight"), validators=[MinValueValidator(1), MaxValueValidator(MAX_WEIGHT)],
    )

    class Meta:
        ordering = ["attribute", "-weight", "value"]
        verbose_name = _("criterion")
        verbose_name_plural = _("criteria")
        constraints = [
            models.UniqueConstraint(fields=["attribute", "value"], name="segmentation_criterion_once"),
            models.CheckConstraint(condition=models.Q(weight__gte=1) & models.Q(weight__lte=MAX_WEIGHT), name="icp_weight_range"),
        ]

    def __str__(self) -> str:
        return f"{self.attribute}={self.value} ×{self.weight}"


class FitSummary(models.Model):
    """Per salesperson, the clients that fit and their 12-month revenue, and the probable
    prospects suggested; rewritten whole with every full recompute of the fit (segmentation/ideal.py),
    so that the dashboard reads a row per salesperson, never the clients."""

    owner = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", primary_key=True)
    clients = models.PositiveIntegerField(default=0)
    fitting = models.PositiveIntegerField(default=0)
    revenue = models.DecimalField(max_digits=16, decimal_places=2, default=0)
    fitting_revenue = models.DecimalField(max_digits=16, decimal_places=2, default=0)
    probable = models.PositiveIntegerField(default=0)
    threshold = models.PositiveSmallIntegerField()
    computed_at = models.DateTimeField()

    class Meta:
        verbose_name = _("ideal profile figures")
        verbose_name_plural = _("ideal profile figures")

    def __str__(self) -> str:
        return f"{self.owner_id}: {self.fitting}/{self.clients}"
