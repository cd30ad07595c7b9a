"""The residents' side: the courtyards' service-card links and the communities' service numbers."""

from __future__ import annotations

import secrets
from typing import Self

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from grids.models import Community, Courtyard


def new_token() -> str:
    """22 URL-safe random characters (128 bits): a card's link cannot be guessed or counted."""
    return secrets.token_urlsafe(16)


class CourtyardLinkQuerySet(models.QuerySet["CourtyardLink"]):
    def current(self) -> Self:
        return self.filter(replaced_at__isnull=True)


class CourtyardLink(models.Model):
    """The random token behind a courtyard's QR code. A replaced one stays, so that its old
    link can tell the resident to scan the new card instead of answering "not found"."""

    courtyard = models.ForeignKey(
        Courtyard, models.CASCADE, related_name="links", verbose_name=_("courtyard")
    )
    token = models.CharField(_("token"), max_length=32, unique=True, default=new_token)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    replaced_at = models.DateTimeField(_("replaced at"), null=True, blank=True)
    replaced_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("replaced by"),
    )

    objects = CourtyardLinkQuerySet.as_manager()

    class Meta:
        verbose_name = _("service card link")
        verbose_name_plural = _("service card links")
        ordering = ["-created_at", "-pk"]
        constraints = [
            # Two staff replacing a card at once leave one current link, not two.
            models.UniqueConstraint(
                fields=["courtyard"],
                condition=Q(replaced_at__isnull=True),
                name="courtyard_link_one_current",
            )
        ]

    def __str__(self) -> str:
        return f"{self.courtyard_id} {self.token[:6]}…"

    def get_absolute_url(self) -> str:
        return reverse("residents:report", args=[self.token])

    @property
    def public_url(self) -> str:
        """What the QR code encodes: the site's address and the token, never a database id."""
        return settings.SITE_URL + self.get_absolute_url()

    @property
    def is_current(self) -> bool:
        return self.replaced_at is None


class ServiceNumber(models.Model):
    """One line of a community's service directory (便民服务电话), kept in the admin."""

    community = models.ForeignKey(
        Community, models.CASCADE, related_name="service_numbers", verbose_name=_("community")
    )
    name = models.CharField(_("service (Chinese)"), max_length=50)
    name_bo = models.CharField(_("service (Tibetan)"), max_length=80, blank=True)
    phone = models.CharField(_("phone"), max_length=30)
    hours = models.CharField(
        _("hours"), max_length=40, blank=True, help_text=_("For example 9:00–18:00 or 24h.")
    )
    order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        verbose_name = _("service number")
        verbose_name_plural = _("service numbers")
        ordering = ["community", "order", "pk"]

    def __str__(self) -> str:
        return f"{self.name} {self.phone}"


class SentText(models.Model):
    """A text message sent to a resident about one timeline entry: the row makes sending once
    the rule, however often the task runs."""

    event = models.OneToOneField(
        "issues.IssueEvent", models.CASCADE, related_name="+", verbose_name=_("timeline entry")
    )
    phone = models.CharField(_("phone"), max_length=20)
    body = models.TextField(_("text"))
    sent_at = models.DateTimeField(_("sent at"), default=timezone.now)

    class Meta:
        verbose_name = _("text message to a resident")
        verbose_name_plural = _("text messages to residents")
        ordering = ["-sent_at"]

    def __str__(self) -> str:
        return f"{self.event_id} {self.sent_at:%Y-%m-%d %H:%M}"
