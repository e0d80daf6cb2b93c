"""Bulk-import CSV parsing: bytes + schema in, typed numpy columns out.

Spec: ``shared/spec/10-data-and-schemas.md`` §6 (CSV rules, guide L5882-L6016)
and §2/§4 (limits). The caller reads the S3 object and hands over its bytes.

Two splitters feed one set of per-type converters:

* a vectorised numpy splitter for the common case (no quotes, no backslashes,
  every line with the header's number of fields) — this is what makes a
  1M-row interactions file parse in well under a second;
* the :mod:`csv` module for everything else (quoted fields with commas or
  newlines, ``\\``-escapes in textual fields, blank lines).

Both produce, per column, an array of raw ``bytes`` values with surrounding
blanks stripped; the converters (one per Avro type) apply every rule and report
the first offending row by its 1-based line number in the file.
"""
from __future__ import annotations

import csv
import io
import math
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field as dc_field
from typing import Callable, Iterable, Mapping

import numpy as np

from .schemas import ID_FIELDS, TIMESTAMP_FIELDS, Field, Schema, canonical_dataset_type

__all__ = [
    "ImportFailure",
    "StringColumn",
    "Table",
    "parse_csv",
    "table_from_records",
    "check_min_interactions",
    "MIN_INTERACTIONS",
    "MAX_ID_LENGTH",
    "MAX_CATEGORICAL_LENGTH",
    "MAX_IMPRESSION_LENGTH",
    "MAX_TEXTUAL_LENGTH",
    "MAX_EPOCH_SECONDS",
]

#: Minimum item interactions for training (spec §2, L4589).
MIN_INTERACTIONS = 1000
#: User / item / action IDs: at most 256 characters (L5570, L5628, L5715).
MAX_ID_LENGTH = 256
#: One categorical value (between ``|``): at most 1000 characters, else the import fails (L5512, L5594).
MAX_CATEGORICAL_LENGTH = 1000
#: An explicit impression, ``|`` separators included: at most 1000 characters (L4708, L6001).
MAX_IMPRESSION_LENGTH = 1000
#: Textual fields are truncated (not rejected) to 20,000 characters (L4819).
MAX_TEXTUAL_LENGTH = 20_000
#: Timestamps are epoch *seconds* (L5997); a value after 2100-01-01 is taken for milliseconds.
MAX_EPOCH_SECONDS = 4_102_444_800

_INT32 = (-(2**31), 2**31 - 1)
_TRUE = frozenset({b"true", b"1"})
_FALSE = frozenset({b"false", b"0"})

csv.field_size_limit(max(csv.field_size_limit(), 64 * 2**20))


class ImportFailure(Exception):
    """A bulk import (or streamed record) breaks a data rule.

    ``reason`` names the rule, the column and the first offending row (1-based
    line number in the file, or record number for streamed records); it
    becomes the import job's ``failureReason``.
    """

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass
class StringColumn:
    """A string column stored as codes into a dictionary of distinct values.

    ``codes``: int32[n], index into ``dictionary``, ``-1`` for null;
    ``dictionary``: list of distinct ``str`` values (order unspecified).
    """

    codes: np.ndarray
    dictionary: list

    def __len__(self) -> int:
        return len(self.codes)

    def to_objects(self) -> np.ndarray:
        """Return object[n] of ``str``, ``None`` for null."""
        lut = np.empty(len(self.dictionary) + 1, dtype=object)
        lut[:-1] = self.dictionary
        lut[-1] = None
        return lut[self.codes]

    def take(self, rows: np.ndarray) -> "StringColumn":
        """Return the rows ``rows`` (int index or bool mask) sharing the dictionary."""
        return StringColumn(self.codes[rows], self.dictionary)


@dataclass
class Table:
    """Typed rows of one import, columnar.

    ``columns``: one entry per schema field (fields absent from the CSV are
    all-null): ``int64[n]`` for int/long (epoch seconds for timestamp fields),
    ``float64[n]`` for float/double (NaN for null), ``bool[n]`` for boolean,
    :class:`StringColumn` for string; ``nulls``: ``bool[n]`` (True = null) for
    every nullable field; ``n_rows``; ``lines``: int64[n] 1-based source line of
    each row (``None`` when row ``i`` is on line ``i + 2``); ``dataset_type``:
    canonical dataset type.
    """

    columns: dict
    nulls: dict
    n_rows: int
    schema: Schema
    dataset_type: str | None = None
    lines: np.ndarray | None = None
    warnings: list = dc_field(default_factory=list)

    def line_of(self, row: int) -> int:
        """1-based line in the source file of row ``row`` (0-based)."""
        return int(self.lines[row]) if self.lines is not None else row + 2

    def strings(self, name: str) -> np.ndarray:
        """Column ``name`` as object[n] of ``str``/``None`` (string fields only)."""
        return self.columns[name].to_objects()


# --------------------------------------------------------------------------
# Splitting: both splitters produce _RawColumn (offsets into one byte buffer)
# --------------------------------------------------------------------------

_PAD = 8  # zero bytes after every buffer, so gathers a few bytes past the end stay in bounds


@dataclass
class _RawColumn:
    """Values of one column as ``src[s[r]:e[r]]`` (blanks already trimmed; empty = null)."""

    src: bytes
    buf: np.ndarray  # uint8 view of src + _PAD zero bytes
    s: np.ndarray  # int64[n]
    e: np.ndarray  # int64[n]

    @classmethod
    def from_values(cls, values: list) -> "_RawColumn":
        src = b"".join(values)
        lens = np.fromiter(map(len, values), dtype=np.int64, count=len(values))
        e = np.cumsum(lens)
        return cls(src, np.frombuffer(src + bytes(_PAD), np.uint8), e - lens, e)

    def __len__(self) -> int:
        return len(self.s)

    def value(self, r: int) -> bytes:
        return self.src[self.s[r]:self.e[r]]

    def fixed(self) -> np.ndarray:
        """Values as a fixed-width ``S`` array (left-aligned, NUL-padded)."""
        n = len(self.s)
        lens = self.e - self.s
        w = int(lens.max()) if n else 0
        if w == 0:
            return np.zeros(n, "S1")
        out = np.empty((n, w), dtype=np.uint8)
        last = len(self.buf) - 1
        for k in range(w):
            out[:, k] = np.where(lens > k, self.buf[np.minimum(self.s + k, last)], 0)
        return out.view(f"S{w}").reshape(n)


@dataclass
class _Raw:
    """Split input: one :class:`_RawColumn` per header column, and row → line mapping."""

    columns: list
    n_rows: int
    lines: np.ndarray | None  # 1-based line per row; None => row i is on line first_line + i
    where: Callable[[int], str]


def _line_label(lines, first_line):
    if lines is None:
        return lambda r: f"line {first_line + r}"
    return lambda r: f"line {int(lines[r])}"


def _split_fast(body: bytes, ncol: int, first_line: int) -> _Raw | None:
    """Vectorised split of an unquoted body; ``None`` when the structure is irregular."""
    if not body:
        return _Raw([_RawColumn.from_values([]) for _ in range(ncol)], 0, None, _line_label(None, first_line))
    if b"\n\n" in body or b"\r" in body or b"\x00" in body:
        return None
    buf = np.frombuffer(body + bytes(_PAD), dtype=np.uint8)
    core = buf[:len(body)]
    seps = np.flatnonzero((core == 44) | (core == 10))
    if len(seps) % ncol:
        return None
    seps = seps.reshape(-1, ncol)
    if not (buf[seps[:, -1]] == 10).all() or not (buf[seps[:, :-1]] == 44).all():
        return None
    n = len(seps)
    starts = np.empty_like(seps)
    flat_s = starts.reshape(-1)
    flat_s[0] = 0
    flat_s[1:] = seps.reshape(-1)[:-1] + 1
    ends = seps
    if b" " in body or b"\t" in body:  # trim blanks around values (spec §6 rule 12)
        ends = ends.copy()
        while True:
            m = (starts < ends) & ((buf[starts] == 32) | (buf[starts] == 9))
            if not m.any():
                break
            starts[m] += 1
        while True:
            m = (starts < ends) & ((buf[ends - 1] == 32) | (buf[ends - 1] == 9))
            if not m.any():
                break
            ends[m] -= 1
    cols = [_RawColumn(body, buf, np.ascontiguousarray(starts[:, j]), np.ascontiguousarray(ends[:, j]))
            for j in range(ncol)]
    return _Raw(cols, n, None, _line_label(None, first_line))


def _split_csv(body: bytes, ncol: int, first_line: int) -> _Raw:
    """Split with the csv module (quotes, embedded commas/newlines, ``\\`` escapes)."""
    text = _decode(body, first_line)
    reader = csv.reader(io.StringIO(text, newline=""), escapechar="\\", skipinitialspace=True)
    cols: list[list] = [[] for _ in range(ncol)]
    lines: list[int] = []
    prev = 0
    try:
        for row in reader:
            line = first_line + prev
            prev = reader.line_num
            if not row or (len(row) == 1 and not row[0].strip() and ncol > 1):
                continue  # blank line
            if len(row) != ncol:
                raise ImportFailure(
                    f"Malformed CSV: line {line} has {len(row)} fields but the header has {ncol}"
                )
            for c, v in zip(cols, row):
                c.append(v.strip().encode("utf-8"))
            lines.append(line)
    except csv.Error as e:
        raise ImportFailure(f"Malformed CSV at line {first_line + prev}: {e}") from None
    la = np.asarray(lines, dtype=np.int64)
    return _Raw([_RawColumn.from_values(c) for c in cols], len(lines), la, _line_label(la, first_line))


def _decode(data: bytes, first_line: int) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = first_line + data.count(b"\n", 0, e.start)
        raise ImportFailure(f"File is not UTF-8 encoded: invalid byte at line {line}") from None


# --------------------------------------------------------------------------
# Converters: raw column -> typed column (one place per rule)
# --------------------------------------------------------------------------


def _fail_first(mask: np.ndarray, raw: _RawColumn, where, message: str) -> None:
    """Raise ImportFailure(message) for the first row where ``mask`` is set."""
    if mask.any():
        r = int(np.argmax(mask))
        v = raw.value(r).decode("utf-8", "replace")
        raise ImportFailure(message.format(value=v[:80], where=where(r)))


def _parse_digits(raw: _RawColumn, allow_sign: bool) -> tuple[np.ndarray, np.ndarray] | None:
    """Vectorised decimal parse: (int64 values, bad-row mask), or None beyond 18 digits.

    Right-aligns each value and applies Horner's rule one digit position at a
    time, straight from the byte buffer. Null rows parse as 0.
    """
    buf, s, e = raw.buf, raw.s, raw.e
    n = len(s)
    first = buf[s] if n else np.zeros(0, np.uint8)
    nonempty = e > s
    signed = (((first == 45) | (first == 43)) & nonempty) if allow_sign else np.zeros(n, bool)
    ds = s + signed
    dl = e - ds
    w = int(dl.max()) if n else 0
    if w > 18:
        return None
    bad = signed & (dl == 0)
    out = np.zeros(n, dtype=np.int64 if w > 9 else np.int32)
    uniform = n and int(dl.min()) == w
    for k in range(w):
        pos = e - (w - k)
        if uniform:
            d = buf[pos] - np.uint8(48)
        else:
            d = np.where(pos >= ds, buf[np.maximum(pos, 0)], np.uint8(48)) - np.uint8(48)
        bad |= d > 9  # uint8 wrap-around catches bytes below '0' too
        out = out * 10 + d
    if signed.any():
        out = np.where(first == 45, -out, out)
    return out.astype(np.int64, copy=False), bad


def _convert_int(raw: _RawColumn, f: Field, null, where) -> np.ndarray:
    """int/long → int64 (spec §6 rule 4); timestamp fields must be epoch seconds (rule 5)."""
    kind = "an integer (long)" if f.type == "long" else "an integer (int)"
    bad_msg = f"Column {f.name}: value '{{value}}' at {{where}} is not {kind}"
    parsed = _parse_digits(raw, allow_sign=True)
    if parsed is None:  # beyond 18 digits: rare, per element
        out = np.zeros(len(raw), dtype=np.int64)
        for r in np.flatnonzero(~null):
            try:
                out[r] = int(raw.value(r))
            except (ValueError, OverflowError):
                _fail_first(np.arange(len(raw)) == r, raw, where, bad_msg)
    else:
        out, bad = parsed
        _fail_first(bad & ~null, raw, where, bad_msg)
    out[null] = 0
    if f.type == "int":
        _fail_first(((out < _INT32[0]) | (out > _INT32[1])) & ~null, raw, where,
                    f"Column {f.name}: value '{{value}}' at {{where}} is out of range for int (32-bit)")
    if f.name in TIMESTAMP_FIELDS:
        _fail_first((out > MAX_EPOCH_SECONDS) & ~null, raw, where,
                    f"Column {f.name}: timestamp '{{value}}' at {{where}} is after the year 2100; "
                    f"timestamps must be Unix epoch seconds, not milliseconds")
    return out


def _convert_float(raw: _RawColumn, f: Field, null, where) -> np.ndarray:
    """float/double → float64, NaN for null (spec §6 rule 4)."""
    n = len(raw)
    out = np.full(n, np.nan)
    ok = ~null
    msg = f"Column {f.name}: value '{{value}}' at {{where}} is not a number ({f.type})"
    fixed = raw.fixed()
    try:
        out[ok] = fixed[ok].astype(np.float64)
    except (ValueError, TypeError):
        bad = np.zeros(n, dtype=bool)
        for r in np.flatnonzero(ok):
            try:
                float(raw.value(r))
            except ValueError:
                bad[r] = True
                break
        _fail_first(bad, raw, where, msg)
    _fail_first(~np.isfinite(out) & ok, raw, where, msg)
    return out


def _convert_bool(raw: _RawColumn, f: Field, null, where) -> np.ndarray:
    """boolean → bool; accepts true/false/1/0 in any case (spec §3: not used for training)."""
    vals = np.char.lower(raw.fixed()) if len(raw) else np.zeros(0, "S1")
    t = np.isin(vals, list(_TRUE))
    fl = np.isin(vals, list(_FALSE))
    _fail_first(~(t | fl) & ~null, raw, where,
                f"Column {f.name}: value '{{value}}' at {{where}} is not a boolean (true/false)")
    return t


def _factorize_ints(v: np.ndarray, null: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(int32 codes with -1 for null, sorted distinct values) of non-negative int64 ``v``."""
    any_null = bool(null.any())
    live = v[~null] if any_null else v
    if not len(live):
        return np.full(len(v), -1, np.int32), live
    vmax = int(live.max())
    if vmax < max(4 * len(v), 1 << 20) and vmax < (1 << 27):  # dense: O(n + vmax), no sort
        present = np.zeros(vmax + 1, bool)
        present[live] = True
        lut = (np.cumsum(present, dtype=np.int64) - 1).astype(np.int32)
        codes = lut[v]
        uniq = np.flatnonzero(present)
    else:
        uniq, inv = np.unique(live, return_inverse=True)
        codes = np.empty(len(v), np.int32)
        codes[~null] = inv.reshape(-1)
    if any_null:
        codes[null] = -1
    return codes, uniq


def _first_rows(codes: np.ndarray, k: int) -> np.ndarray:
    """int64[k]: the first row holding each code 0..k-1."""
    first = np.empty(k, np.int64)
    first[codes[::-1]] = np.arange(len(codes) - 1, -1, -1)
    return first


def _pack_words(raw: _RawColumn, w: int) -> list:
    """Values as uint64 words (8 bytes each, zero-padded past the value's end)."""
    n = len(raw)
    lens = raw.e - raw.s
    win = np.lib.stride_tricks.sliding_window_view(raw.buf, 8)
    words = []
    for j in range(0, w, 8):
        blk = win[np.minimum(raw.s + j, len(win) - 1)]  # (n, 8), one gather per word
        blk = np.where((np.arange(j, j + 8)[None, :] < lens[:, None]), blk, np.uint8(0))
        words.append(np.ascontiguousarray(blk).view(np.uint64).reshape(n))
    return words


def _factorize_bytes(raw: _RawColumn, null: np.ndarray) -> tuple[np.ndarray, list]:
    """(int32 codes with -1 for null, list of distinct ``bytes``) of any byte-string column.

    Values of ≤32 bytes are packed into uint64 words; one word is its own key,
    several are hashed into one key and the grouping is then verified word by
    word (a hash collision falls back to a dict). Longer values go through a
    dict of byte slices.
    """
    n = len(raw)
    lens = raw.e - raw.s
    w = int(lens.max()) if n else 0
    codes = None
    if 0 < w <= 32:
        words = _pack_words(raw, w)
        key = words[0]
        for wd in words[1:]:
            key = (key * np.uint64(0x9E3779B97F4A7C15)) ^ (wd + np.uint64(0x632BE59BD9B4E019) + (key >> np.uint64(29)))
        _, inv = np.unique(key, return_inverse=True)
        inv = inv.reshape(-1)
        first = _first_rows(inv, int(inv.max()) + 1)
        if len(words) == 1 or all((wd == wd[first[inv]]).all() for wd in words):
            codes = inv.astype(np.int32)
    if codes is None:
        d: dict = {}
        src = raw.src
        codes = np.fromiter((d.setdefault(src[a:b], len(d)) for a, b in zip(raw.s.tolist(), raw.e.tolist())),
                            dtype=np.int32, count=n)
        first = _first_rows(codes, len(d))
    src = raw.src
    values = [src[a:b] for a, b in zip(raw.s[first].tolist(), raw.e[first].tolist())]
    if null.any():  # drop the "" entry, nulls become -1
        empty = values.index(b"")
        values.pop(empty)
        codes = np.where(null, -1, np.where(codes > empty, codes - 1, codes)).astype(np.int32)
    return codes, values


def _string_rule(f: Field) -> tuple[int, str, bool] | None:
    """(limit, rule text, per-|-value?) of a string field, or None. Spec §4.1 / §5.3 / §2."""
    if f.name in ID_FIELDS:
        return MAX_ID_LENGTH, "IDs can have at most 256 characters", False
    if f.name == "IMPRESSION":
        return MAX_IMPRESSION_LENGTH, "an impression can have at most 1000 characters including the | separators", False
    if f.categorical:
        return MAX_CATEGORICAL_LENGTH, "categorical values can have at most 1000 characters each", True
    return None


def _convert_string(raw: _RawColumn, f: Field, null, where) -> StringColumn:
    """string → :class:`StringColumn`; ID, impression and categorical length limits; textual truncation.

    Columns of canonical decimal integers (the usual numeric IDs) take a
    sort-free path; their dictionary is ``str(int)`` of each distinct value.
    """
    n = len(raw)
    if n == 0:
        return StringColumn(np.zeros(0, np.int32), [])
    first_byte = raw.buf[raw.s]
    parsed = None
    if not ((first_byte - np.uint8(48) > 9) & ~null).any():  # cheap pre-check before a full parse
        parsed = _parse_digits(raw, allow_sign=False)
    canonical = parsed is not None and not (parsed[1] & ~null).any()
    if canonical:
        leading_zero = (first_byte == 48) & (raw.e - raw.s > 1)
        canonical = not leading_zero.any()
    if canonical:
        codes, uniq = _factorize_ints(parsed[0], null)
        values = [str(v) for v in uniq.tolist()]
    else:
        codes, raw_values = _factorize_bytes(raw, null)
        values = []
        for k, b in enumerate(raw_values):
            try:
                values.append(b.decode("utf-8"))
            except UnicodeDecodeError:
                r = int(np.argmax(codes == k))
                raise ImportFailure(f"Column {f.name}: value at {where(r)} is not valid UTF-8; "
                                    f"files with non-ASCII characters must be UTF-8 encoded") from None
    rule = _string_rule(f)
    if rule is not None and int((raw.e - raw.s).max()) > rule[0]:  # UTF-8 bytes ≥ characters
        limit, text, per_value = rule
        bad = [k for k, v in enumerate(values)
               if len(v) > limit and (not per_value or any(len(p) > limit for p in v.split("|")))]
        if bad:
            _fail_first(np.isin(codes, bad), raw, where,
                        f"Column {f.name}: value '{{value}}...' at {{where}} is too long; {text}")
    if f.textual:  # truncated, not rejected (L4819)
        values = [v[:MAX_TEXTUAL_LENGTH] for v in values]
    return StringColumn(codes, values)


_CONVERTERS = {
    "long": _convert_int,
    "int": _convert_int,
    "float": _convert_float,
    "double": _convert_float,
    "boolean": _convert_bool,
    "string": _convert_string,
}


def _empty_column(f: Field, n: int):
    if f.type == "string":
        return StringColumn(np.full(n, -1, np.int32), [])
    if f.type in ("float", "double"):
        return np.full(n, np.nan)
    if f.type == "boolean":
        return np.zeros(n, bool)
    return np.zeros(n, np.int64)


def _build_table(raw: _Raw, names: list[str], schema: Schema, dataset_type: str | None,
                 may_be_null: frozenset = frozenset()) -> Table:
    columns, nulls = {}, {}
    by_name = dict(zip(names, raw.columns))
    for f in schema.fields:
        col = by_name.get(f.name)
        if col is None:  # nullable field absent from the file: all null
            columns[f.name] = _empty_column(f, raw.n_rows)
            nulls[f.name] = np.ones(raw.n_rows, bool)
            continue
        null = col.e == col.s
        if not f.nullable and f.name not in may_be_null:
            _fail_first(null, col, raw.where,
                        f"Column {f.name}: empty value at {{where}}; the field is not nullable")
        columns[f.name] = _CONVERTERS[f.type](col, f, null, raw.where)
        if f.nullable:
            nulls[f.name] = null
    return Table(columns, nulls, raw.n_rows, schema, dataset_type, raw.lines)


# --------------------------------------------------------------------------
# Public entry points
# --------------------------------------------------------------------------


def _parse_header(line: bytes, schema: Schema) -> list[str]:
    """Header names (spec §6 rules 2-3): schema field names, blanks around them ignored."""
    text = _decode(line, 1).strip()
    if not text:
        raise ImportFailure("The CSV file is empty: the first line must be a header naming the schema fields")
    names = [h.strip() for h in next(csv.reader([text]))]
    seen = set()
    for h in names:
        if h in seen:
            raise ImportFailure(f"Header: column {h} appears more than once")
        seen.add(h)
        if schema.field(h) is None:
            hint = ""
            for fn in schema.field_names:
                if fn.lower() == h.lower():
                    hint = f" (did you mean {fn}? names are case-sensitive)"
            raise ImportFailure(
                f"Header: column {h!r} is not a field of the schema{hint}; "
                f"schema fields: {', '.join(schema.field_names)}"
            )
    for f in schema.fields:
        if not f.nullable and f.name not in seen:
            raise ImportFailure(f"Header: required column {f.name} is missing")
    return names


#: Size of the line-aligned blocks a CSV is parsed in (bytes): bounds the parser's temporaries.
BLOCK_BYTES = 8 << 20
#: Blocks parsed ahead of the one being collected (two worker threads).
_IN_FLIGHT = 2
_POOL = ThreadPoolExecutor(max_workers=2, thread_name_prefix="localpersonalize-csv")


def _blocks(chunks: Iterable[bytes], size: int):
    """Re-cut a stream of byte chunks into blocks that end just after a newline (the last may not)."""
    rest = b""
    for chunk in chunks:
        if not chunk:
            continue
        buf = rest + chunk if rest else bytes(chunk)
        start = 0
        while len(buf) - start >= size:
            cut = buf.rfind(b"\n", start, start + size)
            if cut < 0:
                cut = buf.find(b"\n", start + size)
                if cut < 0:
                    break
            yield buf[start:cut + 1]
            start = cut + 1
        rest = buf[start:] if start else buf
    if rest:
        yield rest


def _with_last(first: bytes, rest):
    """Yield ``(block, is_last)`` for ``first`` followed by the blocks of ``rest``."""
    prev = first
    for block in rest:
        yield prev, False
        prev = block
    yield prev, True


def _strip_end(body: bytes) -> bytes:
    """Drop blank lines and blanks at the end of the file; the body then ends with one newline."""
    end = len(body)
    while end and body[end - 1] in b"\r\n\t ":
        end -= 1
    return body[:end] + b"\n" if end else b""


def _fast_block(block: bytes, ncol: int, first_line: int) -> _Raw | None:
    """Split one block with the vectorised splitter, or ``None`` when it needs the csv module."""
    if b'"' in block or b"\\" in block:
        return None
    if b"\r" in block:
        block = block.replace(b"\r\n", b"\n")
    return _split_fast(block, ncol, first_line)


def _concat_tables(tables: list, schema: Schema, dataset_type: str | None) -> Table:
    """One :class:`Table` from the tables of consecutive blocks (string dictionaries merged).

    Every table but the last comes from the vectorised splitter, so their rows sit on consecutive
    lines from line 2; only the last may carry explicit ``lines``.
    """
    if len(tables) == 1:
        return tables[0]
    columns = {}
    for f in schema.fields:
        parts = [t.columns[f.name] for t in tables]
        if f.type != "string":
            columns[f.name] = np.concatenate(parts)
            continue
        merged: dict = {}
        codes = []
        for part in parts:
            lut = np.fromiter((merged.setdefault(v, len(merged)) for v in part.dictionary),
                              dtype=np.int32, count=len(part.dictionary))
            codes.append(np.append(lut, np.int32(-1))[part.codes])
        columns[f.name] = StringColumn(np.concatenate(codes), list(merged))
    nulls = {k: np.concatenate([t.nulls[k] for t in tables]) for k in tables[0].nulls}
    n = sum(t.n_rows for t in tables)
    lines = None
    if tables[-1].lines is not None:
        lines = np.concatenate([np.arange(n - tables[-1].n_rows, dtype=np.int64) + 2, tables[-1].lines])
    return Table(columns, nulls, n, schema, dataset_type, lines, [w for t in tables for w in t.warnings])


def parse_csv(data, schema: Schema, dataset_type: str | None = None, block_bytes: int = BLOCK_BYTES) -> Table:
    """Parse a bulk-import CSV file (spec §6, L5882-L6016) into a :class:`Table`.

    ``data``: the whole file as ``bytes``, or an iterable of ``bytes`` chunks
    (an object streamed from S3); UTF-8, optional BOM. The file is parsed in
    line-aligned blocks of about ``block_bytes`` bytes, so the parser's
    temporaries stay small whatever the size of the file. The first line is a
    header of schema field names (blanks around names and values are
    ignored); every non-nullable field must be present, unknown columns fail;
    nullable fields absent from the header are all null. Values are coerced to
    the schema types: int/long → int64, float/double → float64, boolean →
    bool, string → :class:`StringColumn`. An empty cell is null (refused in
    non-nullable fields). Timestamps are Unix epoch seconds (> year 2100 is
    refused as milliseconds). IDs ≤256 chars, each categorical value ≤1000
    chars, impressions ≤1000 chars, textual values truncated to 20,000 chars.

    Raises :class:`ImportFailure` whose reason names the rule, the column and
    the first offending row (1-based line number); ``TypeError`` for input
    that is neither bytes nor an iterable of bytes.
    """
    if isinstance(data, (bytes, bytearray, memoryview)):
        chunks = iter([bytes(data)])
    elif isinstance(data, str) or not hasattr(data, "__iter__"):
        raise TypeError("parse_csv expects bytes or an iterable of bytes chunks")
    else:
        chunks = iter(data)
    blocks = _blocks(chunks, block_bytes)
    first = next(blocks, b"")
    if first.startswith(b"\xef\xbb\xbf"):
        first = first[3:]
    nl = first.find(b"\n")
    names = _parse_header((first if nl < 0 else first[:nl]).rstrip(b"\r"), schema)
    dtype = canonical_dataset_type(dataset_type)
    ncol = len(names)
    tables: list[Table] = []
    line = 2  # line number of the block's first row

    def fast(block: bytes, first_line: int) -> Table | None:
        raw = _fast_block(block, ncol, first_line)
        return None if raw is None else _build_table(raw, names, schema, dtype)

    # Blocks are split and converted on two threads (numpy releases the GIL), at most _IN_FLIGHT ahead,
    # and their tables kept in file order, so the first failing block reports the first offending row.
    in_flight: deque = deque()  # (block, first line, future of its table or None)
    fallback = None  # (first line, blocks) parsed by the csv module: quotes, escapes or blank lines

    def collect() -> bool:
        block, first_line, future = in_flight.popleft()
        table = future.result()
        if table is None:
            nonlocal fallback
            fallback = (first_line, [block] + [b for b, _, _ in in_flight])
            return False
        tables.append(table)
        return True

    pending = _with_last(first[nl + 1:] if nl >= 0 else b"", blocks)
    for block, is_last in pending:
        if is_last:
            block = _strip_end(block)
        if block:
            in_flight.append((block, line, _POOL.submit(fast, block, line)))
            line += block.count(b"\n")
        if len(in_flight) > _IN_FLIGHT and not collect():
            fallback[1].extend(b for b, _ in pending)
            break
    while fallback is None and in_flight:
        collect()
    if fallback is not None:
        first_line, rest = fallback
        body = _strip_end(b"".join(rest)).replace(b"\r\n", b"\n")
        tables.append(_build_table(_split_csv(body, ncol, first_line), names, schema, dtype))
    if not tables:
        return _build_table(_split_fast(b"", ncol, 2), names, schema, dtype)
    return _concat_tables(tables, schema, dtype)


def _record_bytes(v) -> bytes:
    if v is None:
        return b""
    if isinstance(v, bool):
        return b"true" if v else b"false"
    if isinstance(v, float) and math.isfinite(v) and v.is_integer() and abs(v) < 2**53:
        return repr(v).encode()
    return str(v).strip().encode("utf-8")


def table_from_records(records: Iterable[Mapping], schema: Schema, dataset_type: str | None = None,
                       may_be_null: frozenset = frozenset()) -> Table:
    """Build a :class:`Table` from streamed records (PutEvents/PutItems/PutUsers/PutActions…).

    ``records``: mappings of schema field name → value (``str``, number,
    ``bool`` or ``None`` for null). The same rules as :func:`parse_csv` apply;
    reasons locate rows as ``record N`` (1-based). ``may_be_null``: required
    fields that may still be null here (``USER_ID`` of an anonymous event,
    which carries a sessionId instead; spec 40 §5). Raises :class:`ImportFailure`.
    """
    records = list(records)
    names = schema.field_names
    for k, rec in enumerate(records):
        for key in rec:
            if schema.field(key) is None:
                raise ImportFailure(f"Record {k + 1}: {key!r} is not a field of the schema")
    cols = [_RawColumn.from_values([_record_bytes(rec.get(name)) for rec in records]) for name in names]
    raw = _Raw(cols, len(records), None, lambda r: f"record {r + 1}")
    return _build_table(raw, names, schema, canonical_dataset_type(dataset_type), may_be_null)


def check_min_interactions(n_rows: int, minimum: int = MIN_INTERACTIONS) -> None:
    """Raise :class:`ImportFailure` unless ``n_rows >= minimum``: an import job into an Interactions or
    Action interactions dataset must bring at least 1000 new records (guide L8680, L15701; spec 60 §1.1)."""
    if n_rows < minimum:
        raise ImportFailure(
            f"Insufficient data: an import job into an interactions dataset must bring at least {minimum} "
            f"new records, found {n_rows}"
        )
