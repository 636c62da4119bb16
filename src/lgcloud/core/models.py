"""Base model for tenant-owned tables."""

from __future__ import annotations

from django.db import models


class TenantModel(models.Model):
    """A row owned by one municipality.

    ``municipality`` leads every unique constraint and index of a tenant table,
    and row-level security on PostgreSQL keys on it (see core.postgres).
    """

    municipality = models.ForeignKey(
        "municipalities.Municipality",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="団体",
    )

    class Meta:
        abstract = True
