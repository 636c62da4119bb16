"""The manifest a 業務 app declares: what it implements, owns, emits, reads, offers and needs.

A manifest is data. Code it names is given as a dotted path (``"package.module:attribute"``)
that the platform imports when it needs it, so a manifest can be read before Django is set up
(the settings read every installed manifest to know which Django apps to load).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from lgcloud.core.permissions import Permission, PlatformPermission, Role

from .gyomu import GYOMU

_ID = re.compile(r"^[a-z][a-z0-9-]{2,62}$")
_DOTTED = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_][\w.]*$")
_MODULE = re.compile(r"^[A-Za-z_][\w]*(\.[A-Za-z_][\w]*)*$")
_EVENT = re.compile(r"^[a-z_]+\.[a-z_]+\.[a-z_]+$")


class ManifestError(ValueError):
    """A manifest that does not satisfy the contract; the message names the app and the field."""


@dataclass(frozen=True)
class MenuItem:
    """A link in the staff navigation and on the dashboard, shown to holders of ``permission``."""

    label: str
    url_name: str  # a URL name of the app's pages, namespaced (``registry:search``)
    permission: Permission
    description: str = ""  # one line on the dashboard


@dataclass(frozen=True)
class ProcedureEffect:
    """What approving an online procedure does in this app (e.g. a 転居 in 住民記録).

    Procedure definitions name it in ``on_approve.action``. Dotted paths to the app's code:

    - ``handler(ctx, submission, today) -> dict``: runs inside the approval's transaction and
      returns what was done; its ``message`` (Japanese) is shown to the resident. It raises
      ``lgcloud.contract.ProcedureRefused`` to refuse. ``submission`` is a ``SubmissionView``.
    - ``check_definition(content, fields) -> [problem]``: more checks of a definition at publication
      (the parts of the definition the effect reads: ``definition_keys``, ``on_approve`` options).
    - ``check_filing(ctx, content, values, atena_number, errors) -> {field: message}``: checks of
      what is filed, beyond each field's own (e.g. a bank account against the 全銀協 codes).
    - ``fees(ctx, content, today) -> [(label, yen)]``: the fees to show before filing.
    """

    name: str  # ``<app>.<effect>``, referenced by procedure definitions
    label: str
    handler: str
    requires: tuple[str, ...] = ()  # fields a definition using it must have
    definition_keys: tuple[str, ...] = ()  # top-level keys of a definition this effect owns
    check_definition: str = ""
    check_filing: str = ""
    fees: str = ""


@dataclass(frozen=True)
class PrefillItem:
    """An item this app prefills in a procedure (ワンスオンリー): ``reader(ctx, atena_number, today) -> str``.

    ``compare(ctx, atena_number) -> str``, if given, is the item's value as stored, which the review
    page sets beside an entered field that names it (``compare_with``), e.g. the current address.
    """

    name: str  # referenced by definitions (``prefill: [{item: …}]``)
    label: str
    reader: str  # dotted path
    source: str = ""  # shown beside the value; default: 「<団体名>の<業務名>（<日付>時点）」
    compare: str = ""  # dotted path


@dataclass(frozen=True)
class ChoiceSource:
    """Choices that depend on the municipality (``choices_from: <name>``): ``source(ctx) -> [(value, label)]``."""

    name: str
    source: str  # dotted path


@dataclass(frozen=True)
class Consumer:
    """A handler of the event feed (``handler(ctx, event)``), run for municipalities that chose this app."""

    name: str  # stable: the cursor is kept under it
    event_types: tuple[str, ...]  # patterns (``registry.person.*``)
    handler: str  # dotted path


@dataclass(frozen=True)
class DataRead:
    """Purpose-bound items this app reads of another 業務 (its part of the data map), with the legal basis."""

    gyomu: str  # the 業務 read (``001``)
    purpose: str  # ``tax.resident_tax``
    items: tuple[str, ...]
    legal_basis: str


@dataclass(frozen=True)
class Manifest:
    """One implementation of one 業務 (or of none: ``gyomu=""`` for a platform extension)."""

    id: str  # implementation id, unique on the platform: ``lgcloud-registry``, ``acme-inkan``
    gyomu: str  # ``001`` … ``020``
    name: str  # the implementation's Japanese name, as municipalities choose it
    vendor: str
    version: str
    django_app: str  # the Django app package (its models, migrations, templates)
    contract: str = "1"  # the major version of the app contract it was built for
    layout_version: str = ""  # the version of the 業務's standard layout it implements
    description: str = ""
    permissions: type[Permission] | None = None
    grants: Mapping[Role, frozenset[Permission]] = field(default_factory=dict)
    resident_grants: frozenset[Permission] = frozenset()
    urls: str = ""  # the pages' URLconf module, served under ``/<業務 slug>/``
    public_urls: str = ""  # pages anyone may open, with no personal data (a certificate's verification)
    api: str = ""  # a ninja Router (dotted path), served under ``/api/v1/``
    menu: tuple[MenuItem, ...] = ()
    residents: str = ""  # 業務 001 only: its ``ResidentDirectory`` (dotted path), for sign-in and procedures
    layout: str = ""  # its part of the standard layout: a ``lgcloud.contract.LayoutPart`` (dotted path)
    events: tuple[str, ...] = ()  # event types it emits
    consumers: tuple[Consumer, ...] = ()
    reads: tuple[DataRead, ...] = ()
    effects: tuple[ProcedureEffect, ...] = ()
    prefill: tuple[PrefillItem, ...] = ()
    choice_sources: tuple[ChoiceSource, ...] = ()
    procedures: str = ""  # a folder of procedure definitions it ships (package-relative dotted path)
    parameters: tuple[str, ...] = ()  # dotted paths of its ``ParameterSet`` objects
    job_kinds: Mapping[str, str] = field(default_factory=dict)  # job kind → 日本語
    ready: str = ""  # a function run once when the platform has loaded every app (dotted path)
    # Metering and open data (lgcloud.contract.statistics): the app's daily countables, and the
    # 住民基本台帳 aggregates ops publishes as open data (dotted paths).
    usage: str = ""
    opendata: str = ""

    @property
    def slug(self) -> str:
        return GYOMU[self.gyomu].slug if self.gyomu else self.id

    @property
    def gyomu_name(self) -> str:
        return GYOMU[self.gyomu].name if self.gyomu else self.name

    def validate(self) -> None:
        """Refuse a manifest that breaks the contract, naming what is wrong."""

        def fail(what: str) -> None:
            raise ManifestError(f"app {self.id!r}: {what}")

        if not _ID.match(self.id):
            fail("id must be 3–63 lower-case letters, digits or '-', starting with a letter")
        if self.gyomu and self.gyomu not in GYOMU:
            fail(f"gyomu {self.gyomu!r} is not one of the 20 standardized 業務 (001–020)")
        if self.contract != "1":
            fail(f"built for contract {self.contract}, this platform offers contract 1")
        if not (self.name and self.vendor and self.version and self.django_app):
            fail("name, vendor, version and django_app are required")
        dotted = [self.api, self.layout, self.ready, self.usage, self.opendata, *self.parameters]
        dotted += [e.handler for e in self.effects] + [p.reader for p in self.prefill]
        dotted += [e.check_definition for e in self.effects] + [e.check_filing for e in self.effects]
        dotted += [e.fees for e in self.effects] + [p.compare for p in self.prefill]
        dotted += [c.handler for c in self.consumers] + [c.source for c in self.choice_sources]
        for path in dotted:
            if path and not _DOTTED.match(path):
                fail(f"{path!r} is not a dotted path 'package.module:attribute'")
        for module in (self.urls, self.public_urls, self.procedures):
            if module and not _MODULE.match(module):
                fail(f"{module!r} is not a module path 'package.module'")
        if (self.urls or self.api or self.menu) and not self.gyomu:
            fail("pages, API routes and menu items are served per 業務: declare the gyomu")
        for event in self.events:
            if not _EVENT.match(event):
                fail(f"event type {event!r} must be '<app>.<resource>.<what happened>'")
        for item in self.menu:
            if not (self._own(item.permission) or isinstance(item.permission, PlatformPermission)):
                fail(f"menu {item.label}: {item.permission!r} is neither this app's permission nor the platform's")
        for role, permissions in self.grants.items():
            if role is Role.OPERATOR:
                fail("an app may not grant the operator anything: the operator never reads residents' data")
            for permission in permissions:
                if not self._own(permission):
                    fail(f"grants: {permission!r} is not in this app's permission list")
        for permission in self.resident_grants:
            if not self._own(permission):
                fail(f"resident_grants: {permission!r} is not in this app's permission list")
        names = [e.name for e in self.effects] + [p.name for p in self.prefill] + [c.name for c in self.choice_sources]
        if len(names) != len(set(names)):
            fail("effects, prefill items and choice sources must have distinct names")

    def _own(self, permission: Permission) -> bool:
        return self.permissions is not None and isinstance(permission, self.permissions)
