"""Public pages (no sign-in): the price list and the 公共SaaS requirements."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from lgcloud import __version__
from lgcloud.contract.discovery import installed

from .charges import PARAMETERS, USAGE_COMPONENTS
from .saas import GUIDE, REQUIREMENTS
from .service import slo


def pricing(request: HttpRequest) -> HttpResponse:
    """料金表: the formula and the parameters in force today, each with its reference."""
    today = timezone.localdate()

    def p(name: str) -> object:
        return PARAMETERS.lookup(name, today)

    weights = p("usage_weights")
    return render(
        request,
        "ops/pricing.html",
        {
            "today": today,
            "cost": p("platform_cost.monthly_yen"),
            "equal": p("shares.equal_permille"),
            "population": p("shares.population_permille"),
            "usage": p("shares.usage_permille"),
            "weights": [(USAGE_COMPONENTS[k], v) for k, v in weights.value.items()],  # type: ignore[attr-defined]
            "weights_reference": weights.reference,  # type: ignore[attr-defined]
            "target": p("reduction_target_permille"),
            "slo": slo(today),
        },
    )


def saas(request: HttpRequest) -> HttpResponse:
    """公共SaaS の要件への対応（要件ごとに、確かめるテストとともに）."""
    return render(
        request,
        "ops/saas.html",
        {
            "guide": GUIDE,
            "requirements": REQUIREMENTS,
            "version": __version__,
            "apps": sorted(installed().values(), key=lambda m: m.gyomu),
        },
    )
