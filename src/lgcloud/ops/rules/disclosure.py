"""Small-cell suppression of count tables, with complementary suppression and an audit (pure).

A table is a cube over its dimensions with every margin published (each dimension has the
extra value :data:`TOTAL`). Along every line of the cube the members add up to the line's
total, so a suppressed cell could be recovered by differencing the published numbers. Hence:

1. **Primary**: every count from 1 to ``threshold − 1`` is suppressed (zeros are published:
   "nobody of this kind lives here" is not about anybody).
2. **Carried**: cells the previous release suppressed stay suppressed, so comparing two
   releases cannot take away a complement that protected a cell before.
3. **Complementary**: a line with exactly one suppressed number gets another (the smallest
   non-zero published number of the line), so no line gives a suppressed cell by subtraction.
4. **Audit**: an attacker's interval reasoning over all lines together (each suppressed
   number lies between the published totals minus what the other unknowns can hold); any
   primary cell whose feasible range is narrower than ``threshold`` gets another complement
   in one of its lines; repeated until every primary cell is protected.

No ORM, no clock, no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import product

TOTAL = "計"
Key = tuple[str, ...]


@dataclass(frozen=True)
class Line:
    members: tuple[Key, ...]
    total: Key


@dataclass(frozen=True)
class Cube:
    """The cells of a table, margins included, and the lines that tie them together."""

    dimensions: tuple[tuple[str, ...], ...]  # the values of each dimension, without TOTAL
    cells: dict[Key, int]
    lines: tuple[Line, ...]


def build_cube(dimensions: Sequence[Sequence[str]], counts: Mapping[Key, int]) -> Cube:
    """Every cell of the cube (margins as sums of ``counts``) and its lines."""
    dims = tuple(tuple(d) for d in dimensions)
    cells: dict[Key, int] = {}
    for key in product(*[(*d, TOTAL) for d in dims]):
        cells[key] = 0
    for key, n in counts.items():
        if n == 0:
            continue
        if key not in cells or TOTAL in key:
            raise ValueError(f"cell {key} is not an inner cell of the table")
        # Add to the cell and to each of its margins (every subset of dimensions replaced by TOTAL).
        for mask in product((False, True), repeat=len(dims)):
            cells[tuple(TOTAL if m else v for v, m in zip(key, mask, strict=True))] += n
    lines: list[Line] = []
    for axis, values in enumerate(dims):
        others = [(*d, TOTAL) if i != axis else (TOTAL,) for i, d in enumerate(dims)]
        for base in product(*others):
            members = tuple((*base[:axis], v, *base[axis + 1 :]) for v in values)
            lines.append(Line(members, base))
    return Cube(dims, cells, tuple(lines))


Var = tuple[int, Key]  # (which table: 0 the release being made, 1 the previous one; cell)


@dataclass(frozen=True)
class Previous:
    """The last published release of the same table, for differencing between the two.

    ``cube`` holds its true counts (the register as of its reference date, so its primary cells
    are known), ``hidden`` what it suppressed, ``max_change`` how far any cell moved between the
    two reference dates (the tightest bound an attacker could justify, so the audit assumes it).
    """

    cube: Cube
    hidden: frozenset[Key]
    max_change: int


def bounds(
    cube: Cube, hidden: set[Key], previous: Previous | None = None, *, passes: int = 200
) -> dict[Var, tuple[int, int]]:
    """What an attacker infers of each hidden cell from everything published: (lowest, highest).

    Interval propagation over every line of the release (and of the previous one, with each cell
    of the two within ``max_change`` of its twin) until nothing narrows any more.
    """
    tables: list[tuple[Cube, set[Key] | frozenset[Key]]] = [(cube, hidden)]
    if previous is not None:
        tables.append((previous.cube, previous.hidden))
    grand = max((max(c.cells.values(), default=0) for c, _h in tables), default=0)
    low: dict[Var, int] = {}
    high: dict[Var, int] = {}
    for t, (_c, h) in enumerate(tables):
        for k in h:
            low[(t, k)], high[(t, k)] = 0, grand
    relevant = [
        (t, line)
        for t, (c, h) in enumerate(tables)
        for line in c.lines
        if line.total in h or any(m in h for m in line.members)
    ]
    links: list[Key] = []
    if previous is not None:
        links = [k for k in set(hidden) | set(previous.hidden) if k in cube.cells and k in previous.cube.cells]
    for _ in range(passes):
        changed = False
        for t, line in relevant:
            c, h = tables[t]
            known = sum(c.cells[m] for m in line.members if m not in h)
            unknown = [(t, m) for m in line.members if m in h]
            if line.total in h:
                t_lo, t_hi = low[(t, line.total)], high[(t, line.total)]
            else:
                t_lo = t_hi = c.cells[line.total]
            m_lo = sum(low[v] for v in unknown)
            m_hi = sum(high[v] for v in unknown)
            for v in unknown:
                new_lo = max(low[v], t_lo - known - (m_hi - high[v]))
                new_hi = min(high[v], t_hi - known - (m_lo - low[v]))
                if (new_lo, new_hi) != (low[v], high[v]):
                    m_lo += new_lo - low[v]
                    m_hi += new_hi - high[v]
                    low[v], high[v] = new_lo, new_hi
                    changed = True
            if line.total in h:
                v = (t, line.total)
                new_lo, new_hi = max(low[v], known + m_lo), min(high[v], known + m_hi)
                if (new_lo, new_hi) != (low[v], high[v]):
                    low[v], high[v] = new_lo, new_hi
                    changed = True
        if previous is not None:
            d = previous.max_change
            for k in links:
                a, b = (0, k), (1, k)
                a_lo, a_hi = (low[a], high[a]) if a in low else (cube.cells[k], cube.cells[k])
                b_lo, b_hi = (low[b], high[b]) if b in low else (previous.cube.cells[k], previous.cube.cells[k])
                if a in low and (max(a_lo, b_lo - d), min(a_hi, b_hi + d)) != (a_lo, a_hi):
                    low[a], high[a] = max(a_lo, b_lo - d), min(a_hi, b_hi + d)
                    changed = True
                if b in low and (max(b_lo, a_lo - d), min(b_hi, a_hi + d)) != (b_lo, b_hi):
                    low[b], high[b] = max(b_lo, a_lo - d), min(b_hi, a_hi + d)
                    changed = True
        if not changed:
            break
    return {v: (low[v], high[v]) for v in low}


def _complement(cube: Cube, line: Line, hidden: set[Key]) -> Key | None:
    """The published number of ``line`` to hide with it: the smallest non-zero, members before the total."""
    candidates = [(cube.cells[c], c == line.total, c) for c in (*line.members, line.total) if c not in hidden]
    nonzero = [c for c in candidates if c[0] > 0]
    pool = nonzero or candidates
    return min(pool)[2] if pool else None


def suppress(
    cube: Cube, threshold: int, carried: Iterable[Key] = (), previous: Previous | None = None
) -> tuple[set[Key], set[Key]]:
    """(primary, all hidden) cells of ``cube``: every primary cell protected, the previous release's too."""
    primary = {k for k, n in cube.cells.items() if 0 < n < threshold}
    hidden = primary | {tuple(k) for k in carried if tuple(k) in cube.cells}
    if previous is not None:
        hidden |= {k for k in previous.hidden if k in cube.cells}
    earlier = {k for k in previous.hidden if 0 < previous.cube.cells.get(k, 0) < threshold} if previous else set()
    # What an attacker knew before this release: the previous one, and that each cell can have
    # moved by ``max_change`` since (``before``: this release's cells with none of them published).
    # Differencing may not narrow a count below the threshold, nor below what that prior
    # knowledge already allowed (a count published as 0 last month and moved by at most 2 is
    # known to lie in 0–2 whatever this release hides).
    before: dict[Var, tuple[int, int]] = {}
    if previous is not None:
        before = bounds(cube, set(cube.cells), previous)
        alone = bounds(previous.cube, set(previous.hidden))
        before |= {(1, k): r for (_t, k), r in alone.items()}

    def required(k: Key) -> int:
        lo, hi = before.get((0, k), (0, threshold))
        return min(threshold, hi - lo)

    def required_earlier(k: Key) -> int:
        lo, hi = before.get((1, k), (0, threshold))
        return min(threshold, hi - lo)

    by_cell: dict[Key, list[Line]] = {}
    for line in cube.lines:
        for c in (*line.members, line.total):
            by_cell.setdefault(c, []).append(line)
    while True:
        # Complementary: no line with a single hidden number.
        changed = True
        while changed:
            changed = False
            for line in cube.lines:
                members = (*line.members, line.total)
                if sum(1 for c in members if c in hidden) == 1:
                    extra = _complement(cube, line, hidden)
                    if extra is not None:
                        hidden.add(extra)
                        changed = True
        # Audit: every primary cell (of this release and of the previous one) keeps a range
        # at least ``threshold`` wide.
        ranges = bounds(cube, hidden, previous)
        exposed = sorted({k for k in primary if ranges[(0, k)][1] - ranges[(0, k)][0] < required(k)})
        exposed += sorted(
            k for k in earlier if k in cube.cells and ranges[(1, k)][1] - ranges[(1, k)][0] < required_earlier(k)
        )
        if not exposed:
            return primary, hidden
        added = False
        for k in exposed:
            if k not in hidden:
                hidden.add(k)
                added = True
                continue
            for line in by_cell.get(k, []):
                extra = _complement(cube, line, hidden)
                if extra is not None:
                    hidden.add(extra)
                    added = True
                    break
        if not added:  # everything is hidden already: nothing more can be done
            return primary, hidden


def key_text(key: Key) -> str:
    """A cell's key as stored (JSON has no tuples)."""
    return "\t".join(key)


def key_of(text: str) -> Key:
    return tuple(text.split("\t"))
