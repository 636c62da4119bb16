"""Open data: suppression that survives differencing, the 団体管理者's approval, public CSV/JSON/API.

The attacker here is written independently of ops.rules.disclosure: it takes only what was
published (both releases), rebuilds every additivity constraint from the published rows
(each row with 「計」 is the sum of the rows it totals), links the two releases (a cell
changes by at most the number of 異動 between their reference dates) and narrows every
unknown by interval propagation until nothing moves. A suppressed count below the threshold
must keep a feasible range at least ``threshold`` wide in both releases.
Method: 秘匿インターバル, as the Statistics Center asks of tables taken out of its on-site
facilities (https://www.e-stat.go.jp/microdata/data-use/on-site/procedure5).
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from itertools import count

import pytest
from django.core.exceptions import PermissionDenied
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from lgcloud.core.permissions import Role
from lgcloud.core.tenancy import TenantContext
from lgcloud.ops import actions, opendata
from lgcloud.ops.rules.disclosure import TOTAL, Previous, build_cube, suppress
from lgcloud.registry.actions import NewPerson, register_address_change, register_move_in
from tests.conftest import CHIYODA

pytestmark = pytest.mark.django_db
K = 3

# --- the attacker -------------------------------------------------------------------------------

Constraint = tuple[dict[str, int], int, int]  # Σ coef·x ∈ [low, high]


def published_constraints(tag: str, rows: list[list[object]]) -> tuple[dict[str, int], list[Constraint], set[str]]:
    """Known values, constraints and unknowns of one published table (row: dims…, value or None)."""
    values = {tuple(r[:-1]): r[-1] for r in rows}
    known: dict[str, int] = {}
    unknown: set[str] = set()
    for key, v in values.items():
        name = f"{tag}|{'/'.join(str(k) for k in key)}"
        if v is None:
            unknown.add(name)
        else:
            known[name] = int(v)  # type: ignore[call-overload]
    constraints: list[Constraint] = []
    width = len(next(iter(values)))
    for key in values:
        for d in range(width):
            if key[d] == TOTAL:
                continue
            total = (*key[:d], TOTAL, *key[d + 1 :])
            if key != min(k for k in values if k[:d] == key[:d] and k[d + 1 :] == key[d + 1 :] and k[d] != TOTAL):
                continue  # one constraint per line
            members = [k for k in values if k[:d] == key[:d] and k[d + 1 :] == key[d + 1 :] and k[d] != TOTAL]
            coef = {f"{tag}|{'/'.join(str(x) for x in m)}": 1 for m in members}
            coef[f"{tag}|{'/'.join(str(x) for x in total)}"] = -1
            constraints.append((coef, 0, 0))
    return known, constraints, unknown


def attack(
    constraints: list[Constraint], known: dict[str, int], unknown: set[str], ceiling: int
) -> dict[str, tuple[int, int]]:
    lo = dict.fromkeys(unknown, 0)
    hi = dict.fromkeys(unknown, ceiling)
    changed = True
    while changed:
        changed = False
        for coef, low, high in constraints:
            const = sum(a * known[v] for v, a in coef.items() if v in known)
            free = {v: a for v, a in coef.items() if v not in known}
            for v, a in free.items():
                rest_min = sum(min(b * lo[w], b * hi[w]) for w, b in free.items() if w != v)
                rest_max = sum(max(b * lo[w], b * hi[w]) for w, b in free.items() if w != v)
                # a·v ∈ [low − const − rest_max, high − const − rest_min]
                a_lo, a_hi = low - const - rest_max, high - const - rest_min
                new_lo, new_hi = (a_lo, a_hi) if a == 1 else (-a_hi, -a_lo)
                new_lo, new_hi = max(lo[v], new_lo), min(hi[v], new_hi)
                if (new_lo, new_hi) != (lo[v], hi[v]):
                    lo[v], hi[v] = new_lo, new_hi
                    changed = True
    return {v: (lo[v], hi[v]) for v in unknown}


def attack_two_releases(first: dict[str, object], second: dict[str, object], moves: int) -> dict[str, tuple[int, int]]:
    known: dict[str, int] = {}
    constraints: list[Constraint] = []
    unknown: set[str] = set()
    ceiling = 0
    for tag, tables in (("r1", first), ("r2", second)):
        for name, table in tables.items():  # type: ignore[attr-defined]
            k, c, u = published_constraints(f"{tag}:{name}", table["rows"])
            known |= k
            constraints += c
            unknown |= u
            ceiling = max([ceiling, *k.values()])
    # Linking: between the two reference dates each cell changed by at most ``moves``.
    for name in unknown | set(known):
        if name.startswith("r1:"):
            twin = "r2:" + name[3:]
            if twin in known or twin in unknown:
                constraints.append(({name: 1, twin: -1}, -moves, moves))
    return attack(constraints, known, unknown, ceiling)


# --- the register -------------------------------------------------------------------------------

TOWNS = ("九段南一丁目", "九段南二丁目", "神田神保町一丁目", "番町")


@pytest.fixture
def register(tokyo: list[str]) -> dict[str, object]:
    """千代田区: 60 residents in four 町丁目, a few towns small enough to need suppression."""
    ctx = TenantContext.system(CHIYODA, "test")
    births = count()
    numbers: list[str] = []
    layout = ((0, 24), (1, 20), (2, 12), (3, 4))
    for town, people in layout:
        for household in range(people // 2):
            persons = []
            for member in range(2):
                n = next(births)
                persons.append(
                    NewPerson(
                        family_name="試験",
                        given_name=f"太郎{n}",
                        family_name_kana="シケン",
                        given_name_kana="タロウ",
                        birth_date=date(1940 + (n * 7) % 80, 1 + n % 12, 1 + n % 27),
                        sex="1" if n % 3 else "2",
                        relationship="head" if member == 0 else "wife",
                    )
                )
            address = f"東京都千代田区{TOWNS[town]}{1 + household}番{1 + member}号"
            result = register_move_in(
                ctx,
                persons=persons,
                address=address,
                effective_date=date(2026, 4, 1),
                filed_on=date(2026, 4, 2),
                previous_address="大阪府大阪市北区梅田一丁目1番1号",
            )
            numbers += list(result.atena_numbers)
    return {"ctx": ctx, "atena": numbers}


def test_population_is_counted_by_town_age_and_sex(register) -> None:  # type: ignore[no-untyped-def]
    dims, inner = opendata.counts(register["ctx"], date(2026, 5, 31), date(2026, 4, 1))["population"]
    assert dims[0] == sorted(TOWNS)
    assert sum(inner.values()) == 60
    assert sum(n for key, n in inner.items() if key[0] == "番町") == 4
    changes = opendata.counts(register["ctx"], date(2026, 5, 31), date(2026, 4, 1))["changes"][1]
    assert changes[("2026-04", "転入")] == 30  # one 異動 per household moving in


def test_no_suppressed_count_can_be_recovered_from_one_release(register) -> None:  # type: ignore[no-untyped-def]
    prepared = opendata.prepare(register["ctx"], date(2026, 5, 31), date(2026, 4, 1))
    assert prepared.primary["population"] > 0  # the table really has small cells
    for name, table in prepared.tables.items():
        true = {tuple(r[:-1]) for r in table["rows"]}
        assert all(r[-1] is None or r[-1] == 0 or r[-1] >= K for r in table["rows"]), name
        known, constraints, unknown = published_constraints(name, table["rows"])
        ranges = attack(constraints, known, unknown, max(known.values(), default=0))
        for key in true:
            n = f"{name}|{'/'.join(key)}"
            if n in ranges:
                lo, hi = ranges[n]
                assert hi - lo >= K, (name, key, ranges[n])


def test_differencing_two_releases_recovers_no_suppressed_count(register) -> None:  # type: ignore[no-untyped-def]
    ctx = register["ctx"]
    first = opendata.prepare(ctx, date(2026, 5, 31), date(2026, 4, 1))
    # One household of two moves from 九段南一丁目 to 番町 (two persons, one 異動 each counted in cells).
    register_address_change(
        ctx,
        atena_numbers=register["atena"][:2],
        address="東京都千代田区番町30番1号",
        effective_date=date(2026, 6, 10),
        filed_on=date(2026, 6, 11),
    )
    basis = opendata.Basis(date(2026, 5, 31), date(2026, 4, 1), first.suppressed)
    second = opendata.prepare(ctx, date(2026, 6, 30), date(2026, 4, 1), previous=basis)
    true_first = opendata.counts(ctx, date(2026, 5, 31), date(2026, 4, 1))
    true_second = opendata.counts(ctx, date(2026, 6, 30), date(2026, 4, 1))
    ranges = attack_two_releases(first.tables, second.tables, moves=2)
    # What the attacker knew before the second release: the first, each cell then free to move by 2.
    nothing_yet = {name: {"rows": [[*r[:-1], None] for r in table["rows"]]} for name, table in second.tables.items()}
    prior = attack_two_releases(first.tables, nothing_yet, moves=2)
    for name, table in first.tables.items():
        known, constraints, unknown = published_constraints(f"r1:{name}", table["rows"])
        prior |= attack(constraints, known, unknown, max(known.values(), default=0))
    checked = 0
    for tag, truth in (("r1", true_first), ("r2", true_second)):
        for name, (dims, inner) in truth.items():
            cube = build_cube(dims, inner)
            for key, value in cube.cells.items():
                if 0 < value < K:
                    cell = f"{name}|{'/'.join(key)}"
                    lo, hi = ranges[f"{tag}:{cell}"]
                    assert lo <= value <= hi
                    before = prior[f"{tag}:{cell}"]
                    wanted = min(K, before[1] - before[0])
                    assert hi - lo >= wanted, (tag, name, key, value, (lo, hi), before)
                    assert lo < hi  # never pinned to one value
                    checked += 1
    assert checked > 20


def test_without_the_previous_release_in_the_audit_the_attack_succeeds() -> None:
    """The control: the same attacker does narrow a count when a release ignores the last one."""
    rows, cols = ("A", "B", "C"), ("x", "y", "z")
    before = {
        ("A", "x"): 5, ("A", "y"): 1, ("A", "z"): 4,
        ("B", "x"): 3, ("B", "y"): 12, ("B", "z"): 8,
        ("C", "x"): 2, ("C", "y"): 12, ("C", "z"): 10,
    }  # fmt: skip
    after = {**before, ("A", "y"): 3}  # two people moved into A-y

    def published(cube, hidden):  # type: ignore[no-untyped-def]
        return {"t": {"rows": [[*k, None if k in hidden else v] for k, v in cube.cells.items()]}}

    first_cube, second_cube = build_cube([rows, cols], before), build_cube([rows, cols], after)
    _primary, first = suppress(first_cube, K)
    _primary, careless = suppress(second_cube, K)  # as if the first release had never been published
    exposed = attack_two_releases(published(first_cube, first), published(second_cube, careless), moves=2)
    assert exposed["r1:t|A/y"][1] - exposed["r1:t|A/y"][0] < K  # narrowed below the threshold: disclosed
    _primary, careful = suppress(second_cube, K, previous=Previous(first_cube, frozenset(first), 2))
    safe = attack_two_releases(published(first_cube, first), published(second_cube, careful), moves=2)
    for cell in ("r1:t|A/y", "r1:t|C/x"):
        assert safe[cell][1] - safe[cell][0] >= K


def test_a_release_is_published_only_when_a_municipal_admin_approves_it(register, make_staff, login_as) -> None:  # type: ignore[no-untyped-def]
    reference = timezone.localdate() - timedelta(days=1)
    call_command(
        "opendata_prepare",
        "--municipality",
        CHIYODA,
        "--reference-date",
        reference.isoformat(),
        "--since",
        "2026-04-01",
    )
    public = Client()
    assert public.get(f"/api/v1/municipalities/{CHIYODA}/opendata/population").status_code == 404
    assert public.get(f"/opendata/{CHIYODA}/1/population.csv").status_code == 404  # a draft is not public
    with pytest.raises(PermissionDenied):
        actions.approve_release(register["ctx"], 1)  # a command cannot approve: a person must
    clerk = login_as(make_staff(CHIYODA, "clerk", Role.REGISTRY_CLERK))
    assert clerk.post("/opendata/manage/1/").status_code == 403
    admin = login_as(make_staff(CHIYODA, "admin", Role.MUNICIPAL_ADMIN))
    review = admin.get("/opendata/manage/1/")
    assert review.status_code == 200 and "承認して公表する" in review.content.decode()
    assert admin.post("/opendata/manage/1/").status_code == 302
    again = admin.post("/opendata/manage/1/")
    assert again.status_code == 400 and "承認待ちの公表データではありません" in again.content.decode()
    from lgcloud.audit.queries import AuditFilter, search_audit_log

    found = search_audit_log(TenantContext.system(CHIYODA, "test"), AuditFilter(action="ops.opendata"))
    assert {r.action for r in found.records} >= {"ops.opendata.prepared", "ops.opendata.published"}


def test_the_api_serves_the_published_tables_to_anyone(register, make_staff, login_as) -> None:  # type: ignore[no-untyped-def]
    ctx = register["ctx"]
    admin_staff = make_staff(CHIYODA, "admin", Role.MUNICIPAL_ADMIN)
    admin = TenantContext(CHIYODA, admin_staff.pk, "管理 五郎", frozenset({Role.MUNICIPAL_ADMIN}), "test")
    release = actions.prepare_release(admin, reference_date=date(2026, 5, 31), since=date(2026, 4, 1))
    actions.approve_release(admin, release.number)
    public = Client()
    body = public.get(f"/api/v1/municipalities/{CHIYODA}/opendata/population").json()
    assert body["licence"] == "CC BY 4.0" and body["suppression_threshold"] == K
    assert {"town", "age_band", "sex", "population", "suppressed"} <= set(body["rows"][0])
    grand = next(r for r in body["rows"] if r["town"] == r["age_band"] == r["sex"] == TOTAL)
    assert grand["population"] == 60
    assert all(r["population"] is None or r["population"] == 0 or r["population"] >= K for r in body["rows"])
    for table in ("households", "changes"):
        assert public.get(f"/api/v1/municipalities/{CHIYODA}/opendata/{table}", {"release": 1}).status_code == 200
    assert public.get(f"/api/v1/municipalities/{CHIYODA}/opendata").json()[0]["release"] == 1
    assert public.get("/api/v1/opendata/dictionary").json()[0]["table"] == "population"
    csv = public.get(f"/opendata/{CHIYODA}/1/population.csv").content.decode("utf-8-sig")
    assert csv.splitlines()[0] == "町丁目,年齢階級,性別,人口" and ",X" in csv
    data = json.loads(public.get(f"/opendata/{CHIYODA}/1/households.json").content)
    assert data["table"] == "households" and data["attribution"].startswith("東京都千代田区")
    page = public.get(f"/opendata/{CHIYODA}/").content.decode()
    assert "CC BY 4.0" in page or "クリエイティブ・コモンズ" in page
    assert public.get("/opendata/131017/").status_code == 404  # a bad check digit
    assert ctx.lg_code == CHIYODA
