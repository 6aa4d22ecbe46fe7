"""The council's and the akimat's structure: who the requests travel between.

Names are data in three languages (``TranslatedName``); codes are stable
identifiers that integrations and the demo accounts (``<code>-head``) rely on.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from maslikhat.core.models import TranslatedName

ROMAN = {1: "I", 2: "II", 3: "III", 4: "IV", 5: "V", 6: "VI", 7: "VII", 8: "VIII", 9: "IX", 10: "X"}


class Convocation(models.Model):
    """A council term (созыв), five years; every request, protocol and KPI belongs to one."""

    number = models.PositiveSmallIntegerField(_("number"), unique=True)
    elected_on = models.DateField(_("elected on"))
    ends_on = models.DateField(_("term ends on"), null=True, blank=True)
    is_current = models.BooleanField(_("current"), default=False)

    class Meta:
        verbose_name = _("convocation")
        verbose_name_plural = _("convocations")
        ordering = ["-number"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_current"],
                condition=models.Q(is_current=True),
                name="convocation_one_current",
            ),
        ]

    def __str__(self) -> str:
        return str(self.name)

    @property
    def name(self) -> str:
        return _("%(roman)s convocation") % {"roman": ROMAN.get(self.number, str(self.number))}


class Party(TranslatedName):
    """A political party (or «independent», self-nominated) deputies belong to."""

    code = models.SlugField(_("code"), max_length=40, unique=True)

    class Meta:
        verbose_name = _("party")
        verbose_name_plural = _("parties")
        ordering = ["name_ru"]


class District(TranslatedName):
    """One of Almaty's districts (аудан); districts are data, not code."""

    code = models.SlugField(_("code"), max_length=40, unique=True)

    class Meta:
        verbose_name = _("district")
        verbose_name_plural = _("districts")
        ordering = ["name_ru"]


class Commission(TranslatedName):
    """A standing commission (постоянная комиссия) of a convocation."""

    convocation = models.ForeignKey(
        Convocation,
        on_delete=models.PROTECT,
        related_name="commissions",
        verbose_name=_("convocation"),
    )
    code = models.SlugField(_("code"), max_length=40)
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    chair = models.ForeignKey(
        "Deputy",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="chaired_commissions",
        verbose_name=pgettext_lazy("commission", "chair"),
    )

    class Meta:
        verbose_name = _("commission")
        verbose_name_plural = _("commissions")
        ordering = ["convocation", "order", "code"]
        constraints = [
            models.UniqueConstraint(fields=["convocation", "code"], name="commission_code_unique"),
        ]


class DepartmentKind(models.TextChoices):
    CITY_DEPARTMENT = "city_department", _("City department")
    DISTRICT_AKIMAT = "district_akimat", _("District akimat")


class Department(TranslatedName):
    """An executive body that answers requests.

    Either a city department (управление) or a district akimat (районный акимат).
    """

    code = models.SlugField(_("code"), max_length=40, unique=True)
    kind = models.CharField(_("kind"), max_length=20, choices=DepartmentKind.choices)
    district = models.ForeignKey(
        District,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="akimats",
        verbose_name=_("district"),
        help_text=_("For a district akimat: its district."),
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("department")
        verbose_name_plural = _("departments")
        ordering = ["kind", "name_ru"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind__in=[k.value for k in DepartmentKind]),
                name="department_kind_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(kind=DepartmentKind.CITY_DEPARTMENT, district__isnull=True)
                | models.Q(kind=DepartmentKind.DISTRICT_AKIMAT, district__isnull=False),
                name="department_district_iff_akimat",
            ),
        ]


class Position(models.TextChoices):
    HEAD = "head", _("Head")
    EXECUTOR = "executor", _("Executor")


class DepartmentMember(models.Model):
    """A department's officer: its head, who signs answers, or an executor who drafts them.

    Items belong to departments, not to people: when an officer leaves, the
    membership is deactivated and the department's items stay where they are.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="department_membership",
        verbose_name=_("user"),
    )
    department = models.ForeignKey(
        Department, on_delete=models.PROTECT, related_name="members", verbose_name=_("department")
    )
    position = models.CharField(_("position"), max_length=16, choices=Position.choices)
    title = models.CharField(_("job title"), max_length=200, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("department officer")
        verbose_name_plural = _("department officers")
        ordering = ["department", "position", "user__last_name"]

    def __str__(self) -> str:
        return f"{self.user} — {self.department}"


class Mandate(models.TextChoices):
    DISTRICT = "district", _("Single-mandate district")
    PARTY_LIST = "party_list", _("Party list")


class Deputy(models.Model):
    """An elected member of the maslikhat (депутат) in one convocation."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="deputy",
        verbose_name=_("user"),
    )
    convocation = models.ForeignKey(
        Convocation,
        on_delete=models.PROTECT,
        related_name="deputies",
        verbose_name=_("convocation"),
    )
    party = models.ForeignKey(
        Party, on_delete=models.PROTECT, related_name="deputies", verbose_name=_("party")
    )
    mandate = models.CharField(_("mandate"), max_length=16, choices=Mandate.choices)
    electoral_district = models.PositiveSmallIntegerField(
        _("electoral district number"), null=True, blank=True
    )
    district = models.ForeignKey(
        District,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="deputies",
        verbose_name=_("district"),
        help_text=_("The city district of a single-mandate electoral district."),
    )
    commissions = models.ManyToManyField(
        Commission, related_name="members", blank=True, verbose_name=_("commissions")
    )
    is_active = models.BooleanField(_("active"), default=True)
    bio = models.TextField(_("about"), blank=True)

    class Meta:
        verbose_name = _("deputy")
        verbose_name_plural = _("deputies")
        ordering = ["user__last_name", "user__first_name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(mandate=Mandate.PARTY_LIST, district__isnull=True)
                | models.Q(mandate=Mandate.DISTRICT, district__isnull=False),
                name="deputy_district_iff_single_mandate",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        return self.user.full_name


class Category(TranslatedName):
    """A request category; it maps onto a standing commission and a default addressee.

    ``default_department`` is the city department a request of this category
    usually goes to; ``route_to_district_akimat`` sends it to the akimat of the
    request's district instead. ``auto_route`` lets staff switch on automatic
    routing for the category.
    """

    code = models.SlugField(_("code"), max_length=40, unique=True)
    commission_code = models.SlugField(_("commission code"), max_length=40, blank=True)
    default_department = models.ForeignKey(
        Department,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="default_for_categories",
        verbose_name=_("default department"),
    )
    route_to_district_akimat = models.BooleanField(_("route to the district akimat"), default=False)
    auto_route = models.BooleanField(_("route automatically"), default=False)
    order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        verbose_name = _("category")
        verbose_name_plural = _("categories")
        ordering = ["order", "code"]
