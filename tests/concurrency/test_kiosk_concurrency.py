"""コンビニ交付 under concurrent load: several gunicorn workers on PostgreSQL, slow renders, timeouts.

The 2023–24 incidents (docs reference: scale-reliability-performance §4.2) were
correctness bugs at a few requests per second: a timeout handler that fetched the
next applicant's print image, two applications within one second overwriting each
other, a single-server build on several servers. This test recreates those
conditions and checks every answer:

- a throwaway PostgreSQL 15 cluster, migrated as the owner; the server connects as
  the app role (row-level security on), exactly as in production;
- ``gunicorn -w 4 --threads 2``: 4 processes with 2 threads each;
- several municipalities, each with its own kiosk account, served at once;
- every render slowed by a random delay (see ``server_settings``) and a render
  deadline inside the range of render times, so a share of the requests time out;
- >= 1,000 requests from >= 200 residents, 64 at a time, the first 64 released
  together; each resident asks several times, some for a household member or the
  whole household; some are refused (wrong PIN, unknown card, a card of another
  municipality, not in the household, 支援措置);
- every PDF's text names exactly the persons requested (each seeded given name is a
  unique token); its verification code maps, in the database, to a Certificate of
  exactly those persons, whose audit records carry this HTTP request's id and this
  requester; every other answer is problem+json with no document; and the
  Certificates recorded are exactly the PDFs sent (a timeout records nothing).

Run: ``pytest tests/concurrency -m postgres -s`` (``-s`` prints the summary).
"""

from __future__ import annotations

import http.client
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from random import Random
from typing import Any

import psycopg
import pytest

from tests.pg_cluster import LgcloudDatabase, create_lgcloud_database, throwaway_cluster

pytestmark = pytest.mark.postgres

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
HOST = "127.0.0.1"

# 千代田区 … 江東区: each has its own kiosk and residents.
MUNICIPALITIES = ["131016", "131024", "131032", "131041", "131059", "131067", "131075", "131083"]
HOUSEHOLDS = 9  # per municipality, of three: head, wife, child
SINGLES = 3  # per municipality, one-person households
PROTECTED = 1  # of the singles, under 支援措置
OWN_REQUESTS = 3  # each resident asks this many times for their own certificate
WORKERS = 4
THREADS = 2
CLIENTS = 64
# Every render first sleeps RENDER_DELAY + U(0, RENDER_JITTER) s (a slow printer), or,
# with probability STUCK_RATE, STUCK_SECONDS (a stuck one, past the deadline).
RENDER_DELAY = 0.0
RENDER_JITTER = 0.2
STUCK_RATE = 0.05
STUCK_SECONDS = 2.5
RENDER_DEADLINE = 2.0
TOTAL_CAP_SECONDS = 480.0  # a guard against a hang, not a performance target
REQUEST_TIMEOUT_SECONDS = 120.0

TOKEN = re.compile(r"検[〇一二三四五六七八九]{3}郎")


@dataclass(frozen=True)
class Planned:
    n: int
    requester: dict[str, Any]
    lg_code: str  # the kiosk's municipality
    body: dict[str, Any]
    subjects: tuple[str, ...]  # 宛名番号 the PDF must name, if one is issued
    errors: frozenset[str]  # the problem codes this request may answer with
    may_issue: bool

    @property
    def request_id(self) -> str:
        return f"kiosk-test-{self.n:06d}"


@dataclass
class Answer:
    planned: Planned
    status: int = 0
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    started: float = 0.0
    elapsed: float = 0.0
    transport_error: str = ""


# --- the server ---------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def _env(db: LgcloudDatabase, var_dir: Path, settings_module: str = "tests.settings", **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LGCLOUD_", "DJANGO_", "KIOSK_TEST_"))}
    env.update(
        {
            "LGCLOUD_ENV": "development",
            "LGCLOUD_VAR_DIR": str(var_dir),
            "LGCLOUD_DATABASE_URL": db.app_url,
            # The test suite's settings: lgcloud's own with a low-cost Argon2 for the PIN
            # hashes. At full cost a PIN check (~0.12 s of CPU) would dominate the run,
            # and the hasher's cost is not what this test is about.
            "DJANGO_SETTINGS_MODULE": settings_module,
            "PYTHONPATH": str(ROOT),
            "LGCLOUD_LOG_LEVEL": "WARNING",
        }
    )
    env.update(extra)
    return env


def _run(args: list[str], env: dict[str, str]) -> str:
    done = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, check=False, timeout=600)
    assert done.returncode == 0, f"{' '.join(args[:3])} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done.stdout


def _get(port: int, path: str) -> int:
    conn = http.client.HTTPConnection(HOST, port, timeout=5)
    try:
        conn.request("GET", path)
        return conn.getresponse().status
    finally:
        conn.close()


def _children(pid: int) -> list[int]:
    """The processes whose parent is ``pid`` (from /proc)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


@contextmanager
def _gunicorn(db: LgcloudDatabase, var_dir: Path, log: Path) -> Iterator[tuple[int, int]]:
    """gunicorn on a free loopback port; yields (port, master pid) once /healthz answers. Always stopped."""
    port = _free_port()
    env = _env(
        db,
        var_dir,
        "tests.concurrency.server_settings",
        KIOSK_TEST_DELAY=str(RENDER_DELAY),
        KIOSK_TEST_JITTER=str(RENDER_JITTER),
        KIOSK_TEST_STUCK_RATE=str(STUCK_RATE),
        KIOSK_TEST_STUCK_SECONDS=str(STUCK_SECONDS),
        LGCLOUD_KIOSK_RENDER_DEADLINE=str(RENDER_DEADLINE),
        # Pooled connections, as production runs: one request's tenant setting must
        # never reach the next request on the same connection (SET LOCAL ends with
        # the transaction).
        LGCLOUD_DB_CONN_MAX_AGE="60",
    )
    args = [str(BIN / "gunicorn"), "lgcloud.wsgi:application", "-w", str(WORKERS), "--threads", str(THREADS)]
    args += ["-b", f"{HOST}:{port}", "--timeout", "120", "--graceful-timeout", "5"]
    with log.open("wb") as out:
        server = subprocess.Popen(args, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 60
            while True:
                assert server.poll() is None, f"gunicorn exited:\n{log.read_text(errors='replace')[-3000:]}"
                try:
                    if _get(port, "/healthz") == 200:
                        break
                except OSError:
                    pass
                assert time.monotonic() < deadline, f"no /healthz:\n{log.read_text(errors='replace')[-3000:]}"
                time.sleep(0.2)
            yield port, server.pid
        finally:
            server.terminate()
            try:
                server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait(timeout=15)


# --- the load -----------------------------------------------------------------------------------


def _plan(seed: dict[str, Any]) -> list[Planned]:
    rng = Random(20240404)  # noqa: S311  (a shuffle, not a secret; the day of the Takamatsu incident)
    residents: list[dict[str, Any]] = seed["residents"]
    households: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for r in residents:
        households.setdefault((r["lg_code"], r["household"]), []).append(r)
    may_time_out = frozenset({"render_timeout"})
    plan: list[tuple[dict[str, Any], str, dict[str, Any], tuple[str, ...], frozenset[str], bool]] = []

    def card(r: dict[str, Any], pin: str | None = None) -> dict[str, Any]:
        return {"resident_code": r["resident_code"], "pin": pin or r["pin"]}

    def issue(r: dict[str, Any], body: dict[str, Any], subjects: tuple[str, ...]) -> None:
        plan.append((r, r["lg_code"], {**card(r), **body}, subjects, may_time_out, True))

    def refuse(r: dict[str, Any], lg_code: str, body: dict[str, Any], code: str) -> None:
        plan.append((r, lg_code, body, (), frozenset({code}), False))

    for r in residents:
        if r["protected"]:
            for kind in ("individual", "record_items", "household"):
                refuse(r, r["lg_code"], {**card(r), "kind": kind}, "protected_channel")
            continue
        for i in range(OWN_REQUESTS):
            issue(r, {"kind": "record_items" if i == OWN_REQUESTS - 1 else "individual"}, (r["atena"],))
    for members in households.values():
        if len(members) != 3:
            continue
        head, wife, child = members
        issue(head, {"subject_atena_number": wife["atena"]}, (wife["atena"],))
        issue(child, {"kind": "record_items", "subject_atena_number": head["atena"]}, (head["atena"],))
        issue(wife, {"kind": "household"}, (head["atena"], wife["atena"], child["atena"]))
        issue(
            head,
            {"kind": "household", "subject_atena_numbers": [child["atena"], wife["atena"]]},
            (wife["atena"], child["atena"]),
        )
    ordinary = [r for r in residents if not r["protected"]]
    for r in rng.sample(ordinary, 20):
        # One wrong PIN each: never three in a row, so nobody is locked out.
        refuse(r, r["lg_code"], card(r, f"{(int(r['pin']) + 1) % 10000:04d}"), "card_or_pin_invalid")
    for r in rng.sample(ordinary, 20):
        stranger = rng.choice(
            [o for o in ordinary if o["lg_code"] == r["lg_code"] and o["household"] != r["household"]]
        )
        refuse(r, r["lg_code"], {**card(r), "subject_atena_number": stranger["atena"]}, "not_in_household")
    for r in rng.sample(ordinary, 10):
        # A card presented at another municipality's kiosk is an unknown card there.
        elsewhere = rng.choice([c for c in MUNICIPALITIES if c != r["lg_code"]])
        refuse(r, elsewhere, card(r), "card_or_pin_invalid")
    for i in range(10):
        nobody = {"lg_code": MUNICIPALITIES[i % len(MUNICIPALITIES)], "atena": "", "token": ""}
        refuse(
            nobody,
            nobody["lg_code"],
            {"resident_code": f"{99900000000 + i:011d}", "pin": "1234"},
            "card_or_pin_invalid",
        )
    rng.shuffle(plan)
    return [Planned(n, *entry) for n, entry in enumerate(plan)]


def _send(port: int, token: str, planned: Planned, start_line: threading.Barrier | None) -> Answer:
    answer = Answer(planned)
    headers = {
        "Authorization": f"Bearer {token}",
        "Content-Type": "application/json",
        "X-Request-ID": planned.request_id,
    }
    if start_line is not None:
        start_line.wait()
    answer.started = time.monotonic()
    conn = http.client.HTTPConnection(HOST, port, timeout=REQUEST_TIMEOUT_SECONDS)
    try:
        path = f"/api/v1/municipalities/{planned.lg_code}/kiosk/certificates"
        conn.request("POST", path, body=json.dumps(planned.body).encode(), headers=headers)
        response = conn.getresponse()
        answer.status = response.status
        answer.headers = {k.lower(): v for k, v in response.getheaders()}
        answer.body = response.read()
    except OSError as exc:
        answer.transport_error = f"{type(exc).__name__}: {exc}"
    finally:
        conn.close()
        answer.elapsed = time.monotonic() - answer.started
    return answer


def _pdf_text(pdf: bytes) -> str:
    done = subprocess.run(["pdftotext", "-enc", "UTF-8", "-", "-"], input=pdf, capture_output=True, check=True)
    return done.stdout.decode("utf-8")


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


@dataclass(frozen=True)
class Recorded:
    """What the database says was issued (read as superuser, outside row-level security)."""

    certificates: dict[str, tuple[str, int, list[str], dict[str, Any], str, str]]  # by verification code
    kiosk_issued: dict[tuple[str, int], list[tuple[str, str]]]  # (lg_code, issue) -> [(request id, requester)]
    certificate_issued: dict[tuple[str, int], list[tuple[str, str]]]  # (lg_code, issue) -> [(request id, subject)]


def _recorded(db: LgcloudDatabase) -> Recorded:
    with psycopg.connect(db.superuser_url) as conn:
        certificates = {
            code: (lg, issue, persons, requester, channel, kind)
            for code, lg, issue, persons, requester, channel, kind in conn.execute(
                "SELECT verification_code, municipality_id, issue_number, persons, requester, channel, kind"
                " FROM registry_certificate"
            )
        }
        audits: dict[str, dict[tuple[str, int], list[tuple[str, str]]]] = {
            "registry.kiosk.issued": {},
            "registry.certificate.issued": {},
        }
        for action, lg, request_id, subject, fields in conn.execute(
            "SELECT action, municipality_id, request_id, subject_id, fields FROM audit_auditrecord"
            " WHERE action IN ('registry.kiosk.issued', 'registry.certificate.issued')"
        ):
            issue = next(int(f.split(":", 1)[1]) for f in fields if f.startswith("certificate:"))
            audits[action].setdefault((lg, issue), []).append((request_id, subject))
    return Recorded(certificates, audits["registry.kiosk.issued"], audits["registry.certificate.issued"])


def _check(
    answers: list[Answer], texts: dict[int, str], db: Recorded, token_of: dict[tuple[str, str], str]
) -> tuple[list[str], list[str]]:
    """(mix-ups, other problems): a mix-up is any answer that could hand someone a document not theirs."""
    mixups: list[str] = []
    problems: list[str] = []
    for a in answers:
        p = a.planned
        who = f"#{p.n} {p.requester.get('token') or 'unknown card'} at {p.lg_code} {p.body.get('kind', 'individual')}"
        if a.transport_error:
            problems.append(f"{who}: {a.transport_error}")
            continue
        if a.headers.get("x-request-id") != p.request_id:
            mixups.append(f"{who}: the answer carries request id {a.headers.get('x-request-id')}")
        content_type = a.headers.get("content-type", "")
        if a.status != 200:
            if b"%PDF" in a.body or "x-verification-code" in a.headers:
                mixups.append(f"{who}: an error answer ({a.status}) carried a document")
            if content_type != "application/problem+json":
                problems.append(f"{who}: {a.status} {content_type}: {a.body[:200]!r}")
                continue
            code = json.loads(a.body).get("code")
            if code not in p.errors or (code == "render_timeout" and a.status != 503):
                problems.append(f"{who}: {a.status} {code}, expected one of {sorted(p.errors)}")
            continue
        if not p.may_issue:
            mixups.append(f"{who}: a document was issued where {sorted(p.errors)} was due")
            continue
        if content_type != "application/pdf" or not a.body.startswith(b"%PDF"):
            problems.append(f"{who}: 200 without a PDF ({content_type})")
            continue
        found = set(TOKEN.findall(texts[p.n]))
        expected = {token_of[p.lg_code, s] for s in p.subjects}
        if found != expected:
            mixups.append(f"{who}: the PDF names {sorted(found)}, the request was for {sorted(expected)}")
        cert = db.certificates.get(a.headers.get("x-verification-code", ""))
        if cert is None:
            mixups.append(f"{who}: verification code {a.headers.get('x-verification-code')} is not in the database")
            continue
        lg, issue, persons, requester, channel, kind = cert
        relation = "self" if p.subjects == (p.requester["atena"],) else "household"
        if (lg, tuple(persons), requester.get("relation"), channel) != (p.lg_code, p.subjects, relation, "kiosk"):
            mixups.append(f"{who}: the database says {lg} {persons} {requester} {channel}, asked: {p.subjects}")
        if (str(issue), kind) != (a.headers.get("x-issue-number"), p.body.get("kind", "individual")):
            mixups.append(f"{who}: issue {issue} {kind} does not match the answer's headers")
        if db.kiosk_issued.get((lg, issue)) != [(p.request_id, p.requester["atena"])]:
            mixups.append(f"{who}: kiosk audit of {lg}/{issue} is {db.kiosk_issued.get((lg, issue))}")
        if sorted(db.certificate_issued.get((lg, issue), [])) != sorted((p.request_id, s) for s in p.subjects):
            mixups.append(f"{who}: issue audit of {lg}/{issue} is {db.certificate_issued.get((lg, issue))}")
    return mixups, problems


# --- the test -----------------------------------------------------------------------------------


def test_no_certificate_ever_reaches_the_wrong_resident(tmp_path: Path) -> None:
    setup_began = time.monotonic()
    with throwaway_cluster() as cluster:
        db = create_lgcloud_database(cluster, "lgcloud_kiosk")
        var_dir = tmp_path / "var"
        env = _env(db, var_dir, LGCLOUD_MIGRATE_DATABASE_URL=db.owner_url)
        _run([str(BIN / "lgcloud"), "migrate", "--no-input", "-v", "0"], env)
        seed_args = [str(HOUSEHOLDS), str(SINGLES), str(PROTECTED), *MUNICIPALITIES]
        seed = json.loads(_run([sys.executable, "-m", "tests.concurrency.seed_kiosk", *seed_args], env))
        residents = seed["residents"]
        # 宛名番号 repeat across municipalities: a resident is (municipality, 宛名番号).
        token_of = {(r["lg_code"], r["atena"]): r["token"] for r in residents}
        assert len({r["token"] for r in residents}) == len(residents)  # every name is unique
        plan = _plan(seed)

        with _gunicorn(db, var_dir, tmp_path / "gunicorn.log") as (port, master):
            start_line = threading.Barrier(CLIENTS, timeout=60)
            began = time.monotonic()
            setup = began - setup_began
            answers: list[Answer] = []
            with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
                futures = [
                    pool.submit(
                        _send,
                        port,
                        seed["municipalities"][p.lg_code]["token"],
                        p,
                        start_line if p.n < CLIENTS else None,
                    )
                    for p in plan
                ]
                for future in as_completed(futures, timeout=TOTAL_CAP_SECONDS):
                    answers.append(future.result())
            duration = time.monotonic() - began
            workers = _children(master)
        server_log = (tmp_path / "gunicorn.log").read_text(errors="replace")

        pdfs = [a for a in answers if a.status == 200]
        with ThreadPoolExecutor(max_workers=4) as pool:
            texts = dict(zip((a.planned.n for a in pdfs), pool.map(lambda a: _pdf_text(a.body), pdfs), strict=True))
        recorded = _recorded(db)
        # The audit chains stayed intact under concurrent appends.
        verified = subprocess.run(
            [str(BIN / "lgcloud"), "audit_verify"], cwd=ROOT, env=env, capture_output=True, text=True, check=False
        )

    mixups, problems = _check(answers, texts, recorded, token_of)
    checks = time.monotonic() - began - duration
    statuses = Counter(a.status for a in answers)
    codes = Counter(json.loads(a.body).get("code") for a in answers if a.status != 200 and a.body[:1] == b"{")
    timeouts = codes["render_timeout"]
    pids = {a.headers["x-worker"] for a in pdfs if "x-worker" in a.headers}
    latencies = [a.elapsed for a in answers]
    per_second = Counter(int(a.started - began) for a in answers)
    requesters = {(p.requester["lg_code"], p.requester["atena"]) for p in plan if p.requester["atena"]}
    summary = {
        "requests": len(answers),
        "residents": len(requesters),
        "municipalities": len(MUNICIPALITIES),
        "gunicorn workers": len(workers),
        "workers that sent a PDF": len(pids),
        "statuses": dict(sorted(statuses.items())),
        "problem codes": dict(sorted(codes.items())),
        "timeouts": timeouts,
        "certificates recorded": len(recorded.certificates),
        "mix-ups": len(mixups),
        "setup s (cluster, migrate, seed, server)": round(setup, 1),
        "load s": round(duration, 1),
        "checks s (pdftotext, database, audit_verify)": round(checks, 1),
        "throughput req/s": round(len(answers) / duration, 1),
        "load average at the end (other processes share the CPUs)": Path("/proc/loadavg").read_text().split()[0],
        "PDFs/s": round(statuses[200] / duration, 1),
        "latency s p50/p95/p99/max": [
            round(statistics.median(latencies), 3),
            round(_percentile(latencies, 0.95), 3),
            round(_percentile(latencies, 0.99), 3),
            round(max(latencies), 3),
        ],
        "requests started in the busiest second": max(per_second.values()),
    }
    print("\nkiosk concurrency:", json.dumps(summary, ensure_ascii=False, indent=1))

    assert not mixups, "\n".join(mixups[:20])
    assert not problems, "\n".join(problems[:20]) + "\n--- server log ---\n" + server_log[-3000:]
    assert len(answers) == len(plan) >= 1000
    assert len(requesters) >= 200
    assert len(workers) >= WORKERS and len(pids) >= WORKERS
    assert timeouts >= 1, "no request timed out: the timeout path was not exercised"
    assert statuses[200] >= len(answers) // 4, "too few certificates were issued to prove anything"
    # Exactly the PDFs sent were recorded as issued: a timed-out request left no Certificate.
    assert len(recorded.certificates) == statuses[200]
    assert verified.returncode == 0, verified.stdout + verified.stderr
