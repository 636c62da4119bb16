"""The app contract: everything a 業務 app may use of the platform, and nothing else.

An app (lgcloud's own or a vendor's package) imports ``lgcloud.contract`` and its submodules,
and other apps' published ``interface`` modules; never the platform's internals (an
import-linter contract in ``pyproject.toml`` enforces it for the bundled apps). This module
can be imported before Django is set up (manifests are read by the settings); the services
that need the database are in :mod:`lgcloud.contract.platform`, the migration operation for
row-level security in :mod:`lgcloud.contract.migrations`.

The contract is versioned: ``CONTRACT_VERSION`` changes its major number only when an app
written for the previous one would break. docs/apps.md is its reference.
"""

from __future__ import annotations

from lgcloud.core import checkdigits, wareki
from lgcloud.core.outbox import emit
from lgcloud.core.pages import apply_errors, jdate, staff_page
from lgcloud.core.parameters import ParameterError, ParameterSet
from lgcloud.core.permissions import Permission, PlatformPermission, Role
from lgcloud.core.problems import Problem
from lgcloud.core.tenancy import TenantContext, bound

from .gyomu import GYOMU, Gyomu, gyomu
from .manifest import (
    ChoiceSource,
    Consumer,
    DataRead,
    Manifest,
    ManifestError,
    MenuItem,
    PrefillItem,
    ProcedureEffect,
)
from .procedures import ProcedureRefused, SubmissionView, on_approve_option
from .residents import Resident, ResidentDirectory
from .statistics import ChangeCount, HouseholdCount, OpenDataSource, PopulationCount

CONTRACT_VERSION = "1.0"

__all__ = [
    "CONTRACT_VERSION",
    "GYOMU",
    "ChangeCount",
    "ChoiceSource",
    "Consumer",
    "DataRead",
    "Gyomu",
    "HouseholdCount",
    "Manifest",
    "ManifestError",
    "MenuItem",
    "OpenDataSource",
    "ParameterError",
    "ParameterSet",
    "Permission",
    "PlatformPermission",
    "PopulationCount",
    "PrefillItem",
    "Problem",
    "ProcedureEffect",
    "ProcedureRefused",
    "Resident",
    "ResidentDirectory",
    "Role",
    "SubmissionView",
    "TenantContext",
    "apply_errors",
    "bound",
    "checkdigits",
    "emit",
    "gyomu",
    "jdate",
    "on_approve_option",
    "staff_page",
    "wareki",
]
