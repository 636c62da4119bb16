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


def bounds(cube: Cube, hidden: set[Key], *, passes: int = 200) -> dict[Key, tuple[int, int]]:
    """What an attacker can infer of each hidden cell from the published ones: (lowest, highest)."""
    grand = max(cube.cells.values(), default=0)
    low = dict.fromkeys(hidden, 0)
    high = dict.fromkeys(hidden, grand)
    relevant = [line for line in cube.lines if line.total in hidden or any(m in hidden for m in line.members)]
    for _ in range(passes):
        changed = False
        for line in relevant:
            # members − total = 0: each unknown's range from the others' ranges.
            known = sum(cube.cells[m] for m in line.members if m not in hidden)
            unknown_members = [m for m in line.members if m in hidden]
            if line.total in hidden:
                t_lo, t_hi = low[line.total], high[line.total]
            else:
                t_lo = t_hi = cube.cells[line.total]
            m_lo = sum(low[m] for m in unknown_members)
            m_hi = sum(high[m] for m in unknown_members)
            for m in unknown_members:
                new_lo = max(low[m], t_lo - known - (m_hi - high[m]))
                new_hi = min(high[m], t_hi - known - (m_lo - low[m]))
                if (new_lo, new_hi) != (low[m], high[m]):
                    m_lo += new_lo - low[m]
                    m_hi += new_hi - high[m]
                    low[m], high[m] = new_lo, new_hi
                    changed = True
            if line.total in hidden:
                new_lo = max(low[line.total], known + m_lo)
                new_hi = min(high[line.total], known + m_hi)
                if (new_lo, new_hi) != (low[line.total], high[line.total]):
                    low[line.total], high[line.total] = new_lo, new_hi
                    changed = True
        if not changed:
            break
    return {k: (low[k], high[k]) for k in hidden}


def _complement(cube: Cube, line: Line, hidden: set[Key]) -> Key | None:
    """The published number of ``line`` to hide with it: the smallest non-zero, members before the total."""
    candidates = [(cube.cells[c], c == line.total, c) for c in (*line.members, line.total) if c not in hidden]
    nonzero = [c for c in candidates if c[0] > 0]
    pool = nonzero or candidates
    return min(pool)[2] if pool else None


def suppress(cube: Cube, threshold: int, carried: Iterable[Key] = ()) -> tuple[set[Key], set[Key]]:
    """(primary, all hidden) cells of ``cube``; the hidden set protects every primary cell."""
    primary = {k for k, n in cube.cells.items() if 0 < n < threshold}
    hidden = primary | {tuple(k) for k in carried if tuple(k) in cube.cells}
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
        # Audit: every primary cell must keep a feasible range at least ``threshold`` wide.
        ranges = bounds(cube, hidden)
        exposed = sorted(k for k in primary if ranges[k][1] - ranges[k][0] < threshold)
        if not exposed:
            return primary, hidden
        added = False
        for k in exposed:
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
