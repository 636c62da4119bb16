"""Shift_JIS (cp932) exports of legacy systems, read byte for byte without losing anything.

Pure: no ORM, no clock, no I/O. Bytes in, decoded pieces out.

Python's own ``bytes.decode("cp932", errors=...)`` is not enough: a handler
would have to replace or drop what it cannot decode, and cp932 quietly maps the
stray single bytes 0x80, 0xA0 and 0xFD–0xFF to private-use characters
(U+0080, U+F8F0–U+F8F3) that no legacy system meant. So the bytes are first cut
into Shift_JIS units (one byte, or a lead byte 0x81–0x9F/0xE0–0xFC with a
trail byte 0x40–0x7E/0x80–0xFC); each unit is decoded by cp932 on its own, and
a unit cp932 has no character for is kept as raw bytes (:class:`Undecodable`).

The user-defined area F040–F9FC (where legacy systems put their 外字) decodes
to the private use area U+E000–U+E757: those characters are kept as they are
and looked up in the 外字 table by the caller.

CSV splitting works on the same units: a comma, a double quote and CR/LF are
single ASCII bytes that can never be the trail byte of a two-byte character,
so a record splits safely before anything is decoded.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

_STRAY = frozenset((0x80, 0xA0, 0xFD, 0xFE, 0xFF))  # not characters in Shift_JIS, whatever cp932 says


def _is_lead(b: int) -> bool:
    return 0x81 <= b <= 0x9F or 0xE0 <= b <= 0xFC


def _is_trail(b: int) -> bool:
    return 0x40 <= b <= 0x7E or 0x80 <= b <= 0xFC


@dataclass(frozen=True)
class Undecodable:
    """Bytes cp932 has no character for: one Shift_JIS unit (a two-byte code, or one stray byte)."""

    raw: bytes

    @property
    def code(self) -> str:
        """The code as a 外字 table writes it: upper-case hex, e.g. ``EB40``."""
        return self.raw.hex().upper()


Piece = str | Undecodable


def units(data: bytes) -> Iterator[tuple[int, int]]:
    """(start, end) of each Shift_JIS unit of ``data``."""
    i, n = 0, len(data)
    while i < n:
        b = data[i]
        if _is_lead(b) and i + 1 < n and _is_trail(data[i + 1]):
            yield i, i + 2
            i += 2
        else:
            yield i, i + 1
            i += 1


_SLOW = re.compile("[\x80\ue000-\uf8ff]")  # what needs a unit-by-unit look: a stray byte or a private-use character


def decode(data: bytes) -> list[Piece]:
    """The text of ``data``: runs of decoded characters, with undecodable units kept as raw bytes."""
    try:
        # cp932 decodes valid text unit by unit, so when the whole field decodes and holds nothing private
        # or stray, the result is the same as the loop below, only faster.
        text = data.decode("cp932")
    except UnicodeDecodeError:
        pass
    else:
        if not _SLOW.search(text):
            return [text] if text else []
    pieces: list[Piece] = []
    run: list[str] = []
    for start, end in units(data):
        unit = data[start:end]
        char: str | None
        if end - start == 1 and unit[0] in _STRAY:
            char = None
        else:
            try:
                char = unit.decode("cp932")
            except UnicodeDecodeError:
                char = None
        if char is None:
            if run:
                pieces.append("".join(run))
                run = []
            pieces.append(Undecodable(unit))
        else:
            run.append(char)
    if run:
        pieces.append("".join(run))
    return pieces


def code_char(code: str) -> str | Undecodable:
    """A Shift_JIS code written in hex (``F040``, ``EB40``, ``FD``): its character, or the undecodable unit."""
    raw = bytes.fromhex(code)
    pieces = decode(raw)
    if len(raw) not in (1, 2) or len(list(units(raw))) != 1 or len(pieces) != 1:
        raise ValueError(f"Shift_JIS の1文字のコードではありません: {code}")
    return pieces[0]


def unit_boundaries(data: bytes) -> frozenset[int]:
    """The offsets where a unit starts or ends (a fixed-width field must start and end on one)."""
    out = {0, len(data)}
    for start, end in units(data):
        out.add(start)
        out.add(end)
    return frozenset(out)


def split_lines(data: bytes) -> Iterator[tuple[int, bytes]]:
    """(line number from 1, line without CR/LF) for a file of fixed-width records, one a line."""
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    for number, line in enumerate(lines, start=1):
        yield number, line[:-1] if line.endswith(b"\r") else line


def split_records(data: bytes, length: int) -> Iterator[tuple[int, bytes]]:
    """(record number from 1, record) for a file of fixed-length records without line ends."""
    for number, start in enumerate(range(0, len(data), length), start=1):
        yield number, data[start : start + length]


class CsvSyntaxError(ValueError):
    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


def split_csv(data: bytes, delimiter: bytes = b",") -> Iterator[tuple[int, list[bytes], bytes]]:
    """(line where the record starts, raw fields, the record's bytes) of a CSV file in Shift_JIS (RFC 4180 quoting).

    Quoted fields may hold delimiters, doubled quotes and line breaks. Fields stay
    bytes: decoding (and the 外字 table) come after, field by field. Splitting on
    bytes is safe because the delimiter, the quote and CR/LF are never the trail
    byte of a two-byte character (trail bytes are 0x40 and above).
    """
    if len(delimiter) != 1 or delimiter in b'"\r\n' or delimiter[0] >= 0x40:
        raise ValueError("区切り文字は1バイトの記号（引用符・改行以外）です。")
    pos, line, n = 0, 1, len(data)
    while pos < n:
        newline = data.find(b"\n", pos)
        end = n if newline < 0 else newline
        chunk = data[pos:end]
        if b'"' not in chunk:
            record = chunk.removesuffix(b"\r")
            yield line, record.split(delimiter), record
            line, pos = line + 1, end + 1
            continue
        fields, end, lines = _quoted_record(data, pos, delimiter[0], line)
        yield line, fields, data[pos:end].removesuffix(b"\r")
        line, pos = line + lines, end + 1


def _quoted_record(data: bytes, pos: int, sep: int, line: int) -> tuple[list[bytes], int, int]:
    """The fields of one record with quotes, the offset of its line end (or the data's end), and its line count."""
    quote, cr, lf = 0x22, 0x0D, 0x0A
    start_line = line
    fields: list[bytes] = []
    field = bytearray()
    quoted = was_quoted = pending_quote = False
    at_field_start = True
    i, n = pos, len(data)
    while i < n:
        b = data[i]
        i += 1
        if quoted:
            if pending_quote:
                pending_quote = False
                if b == quote:
                    field.append(quote)
                    continue
                quoted = False  # the quote closed the field; this byte is handled below
            elif b == quote:
                pending_quote = True
                continue
            else:
                if b == lf:
                    line += 1
                field.append(b)
                continue
        if b == sep:
            fields.append(bytes(field))
            field.clear()
            at_field_start, was_quoted = True, False
        elif b == cr:
            continue
        elif b == lf:
            fields.append(bytes(field))
            return fields, i - 1, line - start_line + 1
        elif b == quote and at_field_start:
            quoted = was_quoted = True
            at_field_start = False
        elif b == quote or was_quoted:
            raise CsvSyntaxError(line, "引用符の使い方が CSV（RFC 4180）の形ではありません。")
        else:
            field.append(b)
            at_field_start = False
    if quoted and not pending_quote:
        raise CsvSyntaxError(start_line, "引用符が閉じられないままファイルが終わっています。")
    fields.append(bytes(field))
    return fields, n, line - start_line + 1
