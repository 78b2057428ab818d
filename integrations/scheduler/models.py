from django.db import models
from django.utils.translation import gettext_lazy as _


class SchedulerLease(models.Model):
    """Who may send scheduled tasks now, until when (``integrations.scheduler.lease``).

    One row per lease name; `expires_at` is in the database's clock, the one clock every node
    shares."""

    name = models.CharField(_("name"), max_length=100, primary_key=True)
    holder = models.CharField(_("holder"), max_length=200, blank=True)
    expires_at = models.DateTimeField(_("expires at"))

    class Meta:
        verbose_name = _("scheduler lease")
        verbose_name_plural = _("scheduler leases")

    def __str__(self) -> str:
        return f"{self.name}: {self.holder or '-'} until {self.expires_at:%Y-%m-%d %H:%M:%S}"
