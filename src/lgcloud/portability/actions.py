"""Export a municipality's register as a standard-layout bundle, and import one into an empty municipality.

Export streams every entity from one consistent snapshot (registry.dump) into
its CSV, writing to a temporary folder that is renamed into place only when
every file and the manifest are complete; memory stays flat.

Import first verifies the whole bundle (portability.validate); if anything is
wrong it writes nothing and returns the report. Otherwise it writes the
register in one transaction (registry.restore), so it becomes visible all at
once.
"""

from __future__ import annotations

import multiprocessing
import os
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from lgcloud.core.tenancy import TenantContext, bound
from lgcloud.registry import dump, restore

from . import codec
from .bundle import (
    BundleError,
    FileEntry,
    entity_files,
    header,
    open_writer,
    read_manifest,
    read_rows,
    sha256_of,
    write_manifest,
)
from .layout import (
    ADDRESS,
    CHANGE,
    CHANGE_RECORD,
    FOREIGN_RESIDENT,
    HOUSEHOLD,
    INDIVIDUAL_NUMBER,
    PERSON,
    PROTECTION,
    Entity,
)
from .validate import DEFAULT_CAP, Report, verify_bundle

Progress = Callable[[str, int], None]


@dataclass(frozen=True)
class ExportResult:
    directory: Path
    files: list[FileEntry]
    manifest: dict[str, Any]


class ExportError(Exception):
    """The export could not be written (a Japanese message); nothing is left at the destination."""


def _noop(_entity: str, _n: int) -> None:
    return None


def export_bundle(
    ctx: TenantContext,
    out_dir: Path,
    *,
    municipality_name: str,
    individual_numbers: bool = True,
    progress: Progress | None = None,
    generator: str = "lgcloud",
) -> ExportResult:
    """Write the bundle to ``out_dir`` (which must not exist yet, or be empty)."""
    tick = progress or _noop
    out_dir = Path(out_dir)
    if out_dir.exists() and any(out_dir.iterdir()):
        raise ExportError(f"出力先 {out_dir} は空ではありません。新しいフォルダを指定してください。")
    parent = out_dir.parent
    parent.mkdir(parents=True, exist_ok=True)
    work = parent / f".{out_dir.name}.partial-{os.getpid()}"
    if work.exists():
        shutil.rmtree(work)
    work.mkdir()
    try:
        with dump.snapshot(ctx):
            files = _write_all(ctx, work, individual_numbers, tick)
        # Audited in a transaction of its own, once the files are written, so the record says what
        # was exported. Before the rename, so a bundle never appears without its audit record.
        with bound(ctx):
            dump.record_export(
                ctx, bundle=out_dir.name, files={f.entity: f.rows for f in files}, individual_numbers=individual_numbers
            )
        manifest = write_manifest(
            work,
            lg_code=ctx.tenant_code,
            municipality_name=municipality_name,
            files=files,
            excluded=[] if individual_numbers else [INDIVIDUAL_NUMBER.name],
            generator=generator,
        )
        if out_dir.exists():
            out_dir.rmdir()
        os.replace(work, out_dir)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return ExportResult(out_dir, files, manifest)


def _write_all(ctx: TenantContext, work: Path, individual_numbers: bool, tick: Progress) -> list[FileEntry]:
    handles = {}
    writers = {}
    counts = dict.fromkeys((e.name for e, _ in entity_files()), 0)
    try:
        for entity, name in entity_files():
            handle, writer = open_writer(work / name)
            handles[entity.name] = handle
            writers[entity.name] = writer
            writer.writerow(header(entity))

        w = writers[HOUSEHOLD.name]
        for household_number, created_on in dump.households(ctx):
            w.writerow((household_number, created_on.isoformat()))
            counts[HOUSEHOLD.name] += 1
        tick(HOUSEHOLD.name, counts[HOUSEHOLD.name])

        wp, wa, wf, wn = (writers[e.name] for e in (PERSON, ADDRESS, FOREIGN_RESIDENT, INDIVIDUAL_NUMBER))
        for record, number in dump.persons(ctx, individual_numbers=individual_numbers):
            atena = record["atena_number"]
            person, address, foreign = codec.person_rows(atena, record)
            wp.writerow(person)
            wa.writerow(address)
            counts[PERSON.name] += 1
            counts[ADDRESS.name] += 1
            if foreign is not None:
                wf.writerow(foreign)
                counts[FOREIGN_RESIDENT.name] += 1
            if number is not None:
                wn.writerow((atena, number))
                counts[INDIVIDUAL_NUMBER.name] += 1
            if counts[PERSON.name] % 10000 == 0:
                tick(PERSON.name, 10000)
        tick(PERSON.name, counts[PERSON.name] % 10000)

        w = writers[CHANGE.name]
        for change in dump.changes(ctx):
            w.writerow(codec.change_row(change))
            counts[CHANGE.name] += 1
        tick(CHANGE.name, counts[CHANGE.name])

        w = writers[CHANGE_RECORD.name]
        for v in dump.versions(ctx):
            w.writerow(codec.version_row(v.atena_number, v.seq, v.change_number, v.effective_date, v.record))
            counts[CHANGE_RECORD.name] += 1
            if counts[CHANGE_RECORD.name] % 10000 == 0:
                tick(CHANGE_RECORD.name, 10000)
        tick(CHANGE_RECORD.name, counts[CHANGE_RECORD.name] % 10000)

        w = writers[PROTECTION.name]
        for serial, p in enumerate(dump.protections(ctx), start=1):
            w.writerow(
                (
                    str(serial),
                    p.atena_number,
                    p.applicant,
                    p.starts_on.isoformat(),
                    p.expires_on.isoformat(),
                    p.ended_on.isoformat() if p.ended_on else "",
                    p.adversary_display,
                    p.adversary_birth_date.isoformat() if p.adversary_birth_date else "",
                    p.reason,
                    codec.datetime_text(p.created_at),
                )
            )
            counts[PROTECTION.name] += 1
        tick(PROTECTION.name, counts[PROTECTION.name])
    finally:
        for handle in handles.values():
            handle.close()
    return [FileEntry(e.name, name, counts[e.name], sha256_of(work / name)) for e, name in entity_files()]


# --- import ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ImportResult:
    report: Report
    stats: restore.RestoreStats | None  # None: nothing was imported


def _data_rows(directory: Path, entity: Entity) -> Iterator[list[str]]:
    rows = read_rows(directory / entity.file_name)
    next(rows)  # the header, checked by the validator
    for _line, row in rows:
        yield row


def _persons(directory: Path) -> Iterator[restore.RestoredPerson]:
    foreigners = _data_rows(directory, FOREIGN_RESIDENT)
    numbers = _data_rows(directory, INDIVIDUAL_NUMBER)
    next_foreign = next(foreigners, None)
    next_number = next(numbers, None)
    for person, address in zip(_data_rows(directory, PERSON), _data_rows(directory, ADDRESS), strict=True):
        atena = person[0]
        foreign = None
        if next_foreign is not None and next_foreign[0] == atena:
            foreign, next_foreign = next_foreign, next(foreigners, None)
        number = None
        if next_number is not None and next_number[0] == atena:
            number, next_number = next_number[1], next(numbers, None)
        yield restore.RestoredPerson(atena, codec.record_from_rows(person, address, foreign), number)


def _changes(directory: Path) -> Iterator[dump.ChangeRow]:
    for row in _data_rows(directory, CHANGE):
        yield dump.ChangeRow(**codec.change_from_row(row))


def _versions(directory: Path) -> Iterator[restore.RestoredVersion]:
    for row in _data_rows(directory, CHANGE_RECORD):
        yield restore.RestoredVersion(
            row[1], int(row[0]), date.fromisoformat(row[3]), codec.record_from_version_row(row)
        )


def _protections(directory: Path) -> Iterator[dump.ProtectionRow]:
    for row in _data_rows(directory, PROTECTION):
        yield dump.ProtectionRow(
            atena_number=row[1],
            applicant=row[2],
            starts_on=date.fromisoformat(row[3]),
            expires_on=date.fromisoformat(row[4]),
            ended_on=date.fromisoformat(row[5]) if row[5] else None,
            adversary_display=row[6],
            adversary_birth_date=date.fromisoformat(row[7]) if row[7] else None,
            reason=row[8],
            created_at=codec.parse_datetime(row[9]),
        )


class _BackgroundCheck:
    """verify_bundle in a second process, beside the write (the machine has more than one core).

    The child only reads the bundle's files; it never touches the parent's database connection
    (fork copies it; the child exits with os._exit, so it is not even closed there).
    """

    def __init__(self, directory: Path, cap: int) -> None:
        context = multiprocessing.get_context("fork")
        self._receive, send = context.Pipe(duplex=False)
        self._process = context.Process(target=_check_child, args=(directory, cap, send), daemon=True)
        self._process.start()
        send.close()
        self._report: Report | None = None

    def report(self) -> Report:
        if self._report is None:
            try:
                self._report = self._receive.recv()
            except EOFError:  # the child died without a report
                self._report = Report()
                self._report.add("manifest.json", 0, "", "検査の処理が異常終了しました。取込みは行いません。")
            self._process.join()
        return self._report

    def close(self) -> None:
        if self._process.is_alive():
            self._process.kill()
        self._process.join()
        self._receive.close()


def _check_child(directory: Path, cap: int, send: Any) -> None:
    send.send(verify_bundle(directory, cap=cap))
    send.close()


def _municipality_problem(ctx: TenantContext, directory: Path, allow_other_municipality: bool) -> str:
    try:
        source = str((read_manifest(directory).get("municipality") or {}).get("code", ""))
    except BundleError:
        return ""  # the verifier reports it
    if source == ctx.tenant_code or allow_other_municipality:
        return ""
    return (
        f"団体コード {source} の出力です。取込み先は {ctx.tenant_code} です"
        "（別の団体へ取り込むときは --as-other-municipality を指定してください）。"
    )


def import_bundle(
    ctx: TenantContext,
    directory: Path,
    *,
    allow_other_municipality: bool = False,
    cap: int = DEFAULT_CAP,
    progress: Progress | None = None,
    on_verified: Callable[[Report], None] | None = None,
    parallel: bool = True,
) -> ImportResult:
    """Verify the bundle and write it into the (empty) municipality of ``ctx`` in one transaction.

    Nothing is committed unless the whole bundle verified. With ``parallel`` (the default) the
    verification runs in a second process while this one writes inside the still uncommitted
    transaction; the transaction commits only if the verification then reports no problem, and
    is rolled back otherwise (or if the write itself fails), so the outcome is the same as
    verifying first — nothing is visible to anyone until the commit, and a bad bundle leaves
    nothing — in about the time of the slower of the two.
    """
    ctx.require(restore.RESTORE)
    directory = Path(directory)
    mismatch = _municipality_problem(ctx, directory, allow_other_municipality)
    if mismatch or not parallel:
        report = verify_bundle(directory, cap=cap)
        if mismatch:
            report.add("manifest.json", 0, "municipality.code", mismatch)
        if on_verified is not None:
            on_verified(report)
        if not report.ok:
            return ImportResult(report, None)
        return ImportResult(report, _write(ctx, directory, progress))

    checker = _BackgroundCheck(directory, cap)
    try:
        try:
            with bound(ctx):
                stats = _write(ctx, directory, progress)
                report = checker.report()
                if on_verified is not None:
                    on_verified(report)
                if not report.ok:
                    transaction.set_rollback(True)
                    return ImportResult(report, None)
        except Exception:
            # A bad bundle can make the write fail before the verifier has finished: its report
            # says why. A good bundle that fails to write is a real error.
            report = checker.report()
            if report.ok:
                raise
            if on_verified is not None:
                on_verified(report)
            return ImportResult(report, None)
    finally:
        checker.close()
    return ImportResult(report, stats)


def _write(ctx: TenantContext, directory: Path, progress: Progress | None) -> restore.RestoreStats:
    with bound(ctx):
        if not restore.is_empty(ctx):
            raise ValidationError("この団体には住民記録がすでにあります。全件の取込みは空の団体にだけ行えます。")
        return restore.restore(
            ctx,
            households=((row[0], date.fromisoformat(row[1])) for row in _data_rows(directory, HOUSEHOLD)),
            persons=_persons(directory),
            changes=_changes(directory),
            versions=_versions(directory),
            protections=_protections(directory),
            progress=progress,
            source=directory.name,
        )
