"""What the ERP integration remembers: where the inventory pull left off, and which orders the ERP
has acknowledged (with the id it gave them)."""

from __future__ import annotations

from django.db import models


class ErpSyncState(models.Model):
    """One row per sync stream (today only "inventory")."""

    INVENTORY = "inventory"

    name = models.CharField(max_length=50, unique=True)
    cursor = models.DateTimeField(
        null=True,
        blank=True,
        help_text="ERP updated_at of the newest item of the last complete pull; the next pull asks "
        "for items updated since then.",
    )
    last_success_at = models.DateTimeField(null=True, blank=True, help_text="When the last complete pull ended.")
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    last_report = models.JSONField(default=dict, blank=True)
    # A pull claims the stream until then, so two pulls (beat and a manual one) never overlap.
    locked_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "ERP sync state"

    def __str__(self) -> str:
        return self.name


class ErpOrderExport(models.Model):
    """The ERP's acknowledgement of a pushed order. Its existence means the order reached the ERP,
    so a repeated push sends nothing."""

    order = models.OneToOneField("orders.Order", on_delete=models.PROTECT, related_name="+")
    erp_id = models.CharField(max_length=100)
    pushed_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-pushed_at"]
        verbose_name = "ERP order export"

    def __str__(self) -> str:
        return f"{self.order_id} -> {self.erp_id}"
