"""Bulk-import CSV parsing: bytes + schema in, typed numpy columns out.

Spec: ``shared/spec/10-data-and-schemas.md`` §6 (CSV rules, guide L5882-L6016)
and §2/§4 (limits). The caller streams the S3 object and hands over its chunks.

One path, built on pyarrow (and polars for all-integer blocks):

1. :func:`_row_blocks` re-cuts the stream into blocks of about
   :data:`BLOCK_BYTES` that end at a row boundary (quote-aware), drops blank
   lines and records where rows span several lines (:class:`LineMap`), so every
   row keeps its 1-based line number without the file being held whole;
2. a plain block (no quote, no escape) whose first row has integer columns is
   first read with those columns typed (:func:`_read_typed`: by polars when
   every column is an integer, about 30% less CPU than pyarrow; by pyarrow when
   text columns come along, handed over as binary without a copy), kept only
   when its byte count proves every integer was written in canonical form; any
   other block, or one whose proof fails, is split by pyarrow's CSV reader into
   binary columns (:func:`_read_block`: quotes, ``""`` and ``\\`` escapes,
   newlines in values; polars has no escape character);
3. one converter per Avro type checks every rule on the Arrow arrays with
   ``pyarrow.compute`` and numpy (:data:`_CONVERTERS`). Rules about string
   values (UTF-8, blanks, length limits, booleans) are checked on the distinct
   values of a block (``dictionary_encode``), never row by row in Python;
   columns of canonical decimal IDs take a sort-free integer path.

Blocks are read and converted on two threads, at most two ahead, and collected
in file order, so the first failing block reports the first offending row.
Streamed records (:func:`table_from_records`) go through the same converters.
Python's :mod:`csv` module only serves to locate the offending row when pyarrow
refuses a block's structure (a row with the wrong number of fields).
"""
from __future__ import annotations

import csv
import inspect
import io
import math
import operator
import re
from collections import deque
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field as dc_field
from typing import Iterable, Mapping

import numpy as np
import polars as pl
import pyarrow as pa
import regex
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from . import pages
from .schemas import ID_FIELDS, TIMESTAMP_FIELDS, Field, Schema, canonical_dataset_type

__all__ = [
    "ImportFailure",
    "SizedChunks",
    "StringColumn",
    "Table",
    "parse_csv",
    "table_from_records",
    "check_min_interactions",
    "LineMap",
    "MIN_INTERACTIONS",
    "MAX_ID_LENGTH",
    "MAX_CATEGORICAL_LENGTH",
    "MAX_IMPRESSION_LENGTH",
    "MAX_TEXTUAL_LENGTH",
    "MAX_TEXTUAL_LENGTH_ZH_JA",
    "truncate_text",
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
#: Textual fields are truncated (not rejected) to 20,000 characters (L4819), 7,000 for Chinese and Japanese
#: text (spec 10 §5.3, spec 60 quotas table).
MAX_TEXTUAL_LENGTH = 20_000
MAX_TEXTUAL_LENGTH_ZH_JA = 7_000
#: Timestamps are epoch *seconds* (L5997); a value after 2100-01-01 is taken for milliseconds.
MAX_EPOCH_SECONDS = 4_102_444_800

_INT32 = (-(2**31), 2**31 - 1)
_TRUE = frozenset({"true", "1"})
_FALSE = frozenset({"false", "0"})
#: Blanks stripped around header names and values (spec §6 rule 12).
_BLANKS = " \t"

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


class TextSequence(Sequence):
    """A read-only sequence of ``str`` that compares equal to any sequence (list, tuple, ...) of the same
    strings in the same order, as the lists it stands in for do."""

    def __eq__(self, other) -> bool:
        return isinstance(other, Sequence) and not isinstance(other, (str, bytes)) and list(self) == list(other)

    __hash__ = None


class DecimalIds(TextSequence):
    """The text of distinct non-negative integer IDs, made one ID at a time when read: ``values``, int64[k]
    sorted ascending, and ``self[i] == str(values[i])``. The dictionary of a column of canonical decimal IDs
    (:func:`_merge_strings`), so an import of numeric IDs makes no Python string per ID."""

    def __init__(self, values: np.ndarray):
        self.values = values

    def __len__(self) -> int:
        return len(self.values)

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [str(v) for v in self.values[i].tolist()]
        return str(self.values.item(i))

    def __iter__(self):
        return map(str, self.values.tolist())


@dataclass
class StringColumn:
    """A string column stored as codes into a dictionary of distinct values.

    ``codes``: int32[n], index into ``dictionary``, ``-1`` for null;
    ``dictionary``: sequence of distinct ``str`` values (order unspecified): a list, or a
    :class:`DecimalIds` for a column of numeric IDs (in numeric order);
    ``positions``: ``{value: index in dictionary}`` when it was made with the
    column (on a worker thread, so that interning into a fresh
    :class:`~localpersonalize.data.datasets.IdIndex` has nothing left to hash), else ``None``.
    """

    codes: np.ndarray
    dictionary: Sequence
    positions: dict | None = None

    def __len__(self) -> int:
        return len(self.codes)

    def to_objects(self) -> np.ndarray:
        """Return object[n] of ``str``, ``None`` for null."""
        lut = np.empty(len(self.dictionary) + 1, dtype=object)
        lut[:-1] = list(self.dictionary)
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
    every nullable field; ``n_rows``; ``lines``: the file's :class:`LineMap`
    (``None`` when row ``i`` is on line ``i + 2``); ``dataset_type``:
    canonical dataset type.
    """

    columns: dict
    nulls: dict
    n_rows: int
    schema: Schema
    dataset_type: str | None = None
    lines: "LineMap | None" = None
    warnings: list = dc_field(default_factory=list)

    def line_of(self, row: int) -> int:
        """1-based line in the source file of row ``row`` (0-based)."""
        return self.lines.line_of(row) if self.lines is not None else row + 2

    def strings(self, name: str) -> np.ndarray:
        """Column ``name`` as object[n] of ``str``/``None`` (string fields only)."""
        return self.columns[name].to_objects()

    def widened(self, schema: Schema) -> "Table":
        """This table under ``schema``, a replacement of its own (UpdateDataset: every field kept, the new
        ones nullable, spec 40 §10): the new fields are all null. Raises ``ValueError`` when ``schema``
        lacks one of the table's fields or adds one that is not nullable."""
        if any(schema.field(name) is None for name in self.schema.field_names):
            raise ValueError("table was parsed with a schema the dataset's does not extend")
        columns, nulls = dict(self.columns), dict(self.nulls)
        for f in schema.fields:
            if f.name not in columns:
                if not f.nullable:
                    raise ValueError(f"the dataset's schema adds {f.name}, which is not nullable")
                columns[f.name] = _empty_column(f, self.n_rows)
                nulls[f.name] = np.ones(self.n_rows, bool)
        return Table(columns, nulls, self.n_rows, schema, self.dataset_type, self.lines, self.warnings)


# --------------------------------------------------------------------------
# Rows and lines: the stream re-cut into row-aligned blocks
# --------------------------------------------------------------------------


class LineMap:
    """Row → 1-based line in the source file.

    Row ``r`` (0-based, header excluded) sits on line ``r + 2`` plus the extra
    lines before it: blank lines, and the continuation lines of earlier rows
    whose quoted (or ``\\``-escaped) values hold newlines. Extra lines are
    recorded as they are met (:meth:`add`), in file order.
    """

    def __init__(self):
        self._parts: list = []  # int64 arrays: each entry is one extra line before that row
        self._rows: np.ndarray | None = None

    def __bool__(self) -> bool:
        return bool(self._parts)

    def add(self, rows: np.ndarray) -> None:
        """Record one extra line before each row of ``rows`` (int64, non-decreasing, after all earlier)."""
        if len(rows):
            self._parts.append(np.asarray(rows, np.int64))
            self._rows = None

    def line_of(self, row: int) -> int:
        """1-based line of row ``row`` (0-based)."""
        if self._rows is None:
            self._rows = np.concatenate(self._parts) if self._parts else np.zeros(0, np.int64)
        return int(row) + 2 + int(np.searchsorted(self._rows, row, side="right"))


#: A quoted field (at a field start, blanks before the quote allowed; ``""`` and ``\\x`` inside) or an
#: escape outside quotes. A run of plain characters is taken whole by a lookahead and a backreference
#: (an atomic group that Python 3.10 can spell), so the scan stays linear. A quote still open at the
#: end of the buffer matches up to the end (``\Z``).
_TOKEN = re.compile(rb'(?<![^,\r\n])([ \t]*)"(?:(?=([^"\\]+))\2|\\.|"")*(?:"|\Z)|\\.', re.S)
#: A line of blanks only (``^`` after any newline; the caller keeps those that start a row).
_BLANK_LINE = re.compile(rb"^[ \t\r]*\n", re.M)
#: Byte pairs whose presence sends a chunk through :func:`_split_rows`: a blank line may start there.
_BLANK_STARTS = (b"\n\n", b"\n\r", b"\n ", b"\n\t")


def _split_rows(buf: bytes, final: bool) -> tuple[bytes, int, np.ndarray, bytes, bool]:
    """Cut ``buf`` (which starts at a row start) after its last complete row, quote-aware.

    Returns ``(rows, n_rows, extra, rest, open_quote)``: the complete rows with blank lines and blanks
    before opening quotes removed, their number, the extra lines as a sorted int64 array of row numbers
    relative to ``buf``'s first row (see :class:`LineMap`), the bytes left for the next call, and
    whether the last row has a quote still open at the end of the file. With ``final`` everything is
    taken (a last line without newline gets one).
    """
    if final and buf and not buf.endswith(b"\n"):
        buf += b"\n"
    starts, ends, leads = [], [], []
    if b'"' in buf or b"\\" in buf:
        for m in _TOKEN.finditer(buf):
            starts.append(m.start())
            ends.append(m.end())
            leads.append(0 if m.start(1) < 0 else m.end(1) - m.start(1))
    nl = np.flatnonzero(np.frombuffer(buf, np.uint8) == 10)
    inside = np.zeros(len(nl), bool)
    if starts:
        st, en = np.asarray(starts), np.asarray(ends)
        k = np.searchsorted(st, nl, side="right") - 1
        inside = (k >= 0) & (nl < en[np.maximum(k, 0)])
    outside = nl[~inside]
    limit = len(buf)
    if not final and ends and ends[-1] == len(buf):  # a token may go on in the next chunk
        limit = starts[-1]
    j = int(np.searchsorted(outside, limit))
    unterminated = final and ends and ends[-1] == len(buf) and (not len(outside) or outside[-1] < starts[-1])
    if unterminated:  # a quote left open at the end of the file: one last (malformed) row for pyarrow
        outside = np.append(outside, len(buf) - 1)
        j += 1
    if j == 0:
        return b"", 0, np.zeros(0, np.int64), buf, False
    cut = int(outside[j - 1]) + 1
    outside = outside[:j]
    cont = nl[inside & (nl < cut)]
    # blank lines: start a row (buffer start or just after a row-ending newline) and end at one
    blank_starts, blank_ends = [], []
    if any(p in buf for p in _BLANK_STARTS) or buf.startswith((b"\n", b"\r", b" ", b"\t")):
        for m in _BLANK_LINE.finditer(buf, 0, cut):
            blank_starts.append(m.start())
            blank_ends.append(m.end())
    if blank_starts:
        bs, be = np.asarray(blank_starts), np.asarray(blank_ends)
        keep = np.isin(be - 1, outside) & ((bs == 0) | np.isin(bs - 1, outside))
        bs, be = bs[keep], be[keep]
    else:
        bs = be = np.zeros(0, np.int64)
    row_ends = np.setdiff1d(outside, be - 1, assume_unique=True)
    extra = np.sort(np.concatenate([np.searchsorted(row_ends, bs), np.searchsorted(row_ends, cont) + 1]))
    # bytes to drop: blank lines, and blanks before an opening quote (the csv module's skipinitialspace)
    drops = [(s, s + n) for s, n in zip(starts, leads) if n and s < cut]
    drops += list(zip(bs.tolist(), be.tolist()))
    if drops:
        drops.sort()
        pieces, pos = [], 0
        for a, b in drops:
            pieces.append(buf[pos:a])
            pos = b
        pieces.append(buf[pos:cut])
        rows = b"".join(pieces)
    else:
        rows = buf[:cut]
    return rows, len(row_ends), extra.astype(np.int64), buf[cut:], bool(unterminated)


@dataclass
class _Block:
    """Complete rows of the file (no header), ``bytes`` or a ``memoryview`` of a chunk. ``classified``:
    cut by :func:`_split_rows` (blank lines dropped, ``n_rows`` and the ``extra`` lines known, relative to
    the block's first row); otherwise a plain run of lines without quotes or escapes, whose rows pyarrow
    counts."""

    data: bytes
    classified: bool = False
    n_rows: int = 0
    extra: np.ndarray = dc_field(default_factory=lambda: np.zeros(0, np.int64))
    open_quote: bool = False


def _row_blocks(chunks: Iterable[bytes], size: int):
    """Yield :class:`_Block` s of about ``size`` bytes from the body's byte chunks (after the header).

    Blocks grow with the file: :data:`FIRST_BLOCK_BYTES` at first, then an eighth of what was read so far,
    up to ``size``, so the workers start early and a small file is parsed in small blocks (few bytes in
    flight) split evenly between them. Chunks without quotes or escapes (the usual case) are only cut at
    their last newline, with one ``memchr`` per special byte (a block inside one chunk is a view of it,
    not a copy); the others go through :func:`_split_rows`.
    """
    parts: list = []
    nbytes = 0
    classified = False
    n_rows, extra = 0, []
    carry = b""  # the partial last line (or, after a chunk with quotes, the unfinished rows)
    open_quote = False
    target = min(size, FIRST_BLOCK_BYTES)
    done = 0  # bytes in the blocks yielded so far

    def flush():
        nonlocal parts, nbytes, n_rows, extra, target, done
        parts = [p for p in parts if len(p)]
        block = _Block(parts[0] if len(parts) == 1 else b"".join(parts), classified, n_rows,
                       np.concatenate(extra) if extra else np.zeros(0, np.int64), open_quote)
        done += nbytes
        parts, nbytes, n_rows, extra = [], 0, 0, []
        target = min(size, max(target, done >> 3))
        return block

    def add_classified(data, n, more):
        nonlocal nbytes, n_rows
        if n:
            parts.append(data)
            nbytes += len(data)
            extra.append(more + n_rows)
            n_rows += n

    for chunk in chunks:
        if not chunk:
            continue
        chunk = bytes(chunk)
        quoted = b'"' in chunk or b"\\" in chunk or b'"' in carry or b"\\" in carry
        if parts and quoted != classified:
            yield flush()
        classified = quoted
        if quoted:
            data, n, more, carry, _ = _split_rows(carry + chunk, final=False)
            add_classified(data, n, more)
        else:
            view, start = memoryview(chunk), 0
            while True:  # cut at the last newline before each block boundary
                want = start + max(target - nbytes - len(carry), 1)
                if want >= len(chunk):  # the rest of the chunk fits in the block
                    cut = chunk.rfind(b"\n", start) + 1
                else:
                    cut = chunk.rfind(b"\n", start, want) + 1 or chunk.find(b"\n", want) + 1
                if cut <= start:
                    break
                parts.extend((carry, view[start:cut]))
                nbytes += len(carry) + cut - start
                carry, start = b"", cut
                if want >= len(chunk):
                    break
                yield flush()
            carry += chunk[start:]
            continue
        if nbytes >= target:
            yield flush()
    if carry:
        quoted = b'"' in carry or b"\\" in carry
        if parts and quoted != classified:
            yield flush()
        classified = quoted
        if quoted:
            data, n, more, _, open_quote = _split_rows(carry, final=True)
            add_classified(data, n, more)
        else:
            parts.append(carry if carry.endswith(b"\n") else carry + b"\n")
    if parts:
        yield flush()


# --------------------------------------------------------------------------
# Blocks → binary Arrow columns
# --------------------------------------------------------------------------

#: Memory pool of every pyarrow call here: the system allocator hands freed blocks back to the OS, where
#: pyarrow's default (mimalloc) keeps them, so a parse's temporaries do not stay in the process's memory.
_MEM = pa.system_memory_pool()
#: pyarrow parse options: unquoted blocks, and blocks with quotes or escapes (newlines in values).
_PARSE = {quoted: pacsv.ParseOptions(delimiter=",", quote_char='"', double_quote=True, escape_char="\\",
                                     newlines_in_values=quoted, ignore_empty_lines=True)
          for quoted in (False, True)}


class _RowFailure(Exception):
    """A rule broken at row ``row`` (0-based) of a block or batch of records. ``message`` has ``{where}``
    left for the caller, who knows the row's line (:class:`LineMap`) or record number; ``extra``: the
    block's extra lines, relative to its first row."""

    def __init__(self, row: int, message: str):
        super().__init__(message)
        self.row, self.message = row, message
        self.extra = np.zeros(0, np.int64)
        #: The block's columns of the rows before ``row`` (a row with the wrong number of fields), whose
        #: values may break a rule earlier; None otherwise.
        self.before: dict | None = None

    def reason(self, where: str) -> str:
        return self.message.replace("{where}", where)


def _read_csv(data: bytes, names: list, quoted: bool, types: Mapping | None = None,
              invalid_rows: list | None = None) -> pa.Table:
    """pyarrow's CSV reader on one block: every column binary (or of its type in ``types``), empty cells
    null. ``invalid_rows``: a list that gets ``(row, fields)`` of each row with the wrong number of fields
    (0-based row of the block), which is then skipped instead of failing the read."""
    parse = _PARSE[quoted]
    if invalid_rows is not None:
        def skip(row):
            invalid_rows.append((row.number - 1, row.actual_columns))
            return "skip"
        parse = pacsv.ParseOptions(delimiter=parse.delimiter, quote_char=parse.quote_char,
                                   double_quote=parse.double_quote, escape_char=parse.escape_char,
                                   newlines_in_values=parse.newlines_in_values,
                                   ignore_empty_lines=parse.ignore_empty_lines, invalid_row_handler=skip)
    return pacsv.read_csv(
        pa.py_buffer(data),
        read_options=pacsv.ReadOptions(column_names=names, use_threads=False,
                                       block_size=max(len(data) + 1, 1 << 16)),
        parse_options=parse,
        convert_options=pacsv.ConvertOptions(
            column_types=types or {name: pa.binary() for name in names}, null_values=[""],
            strings_can_be_null=True, quoted_strings_can_be_null=True, check_utf8=False),
        memory_pool=_MEM,
    )


def _read_block(block: _Block, names: list) -> tuple[dict, _Block]:
    """Split one block into ``{column name: pa.BinaryArray}``; returns it with the block, classified.

    A plain block is read as is; when pyarrow refuses it (a line of blanks) or skipped empty lines (its
    row count is not its newline count), it is classified by :func:`_split_rows` and read again. Raises
    :class:`_RowFailure` for the first row with the wrong number of fields.
    """
    table = None
    if not block.classified:
        try:
            table = _read_csv(block.data, names, False)
        except pa.ArrowInvalid:
            pass
        if table is not None and table.num_rows != np.count_nonzero(np.frombuffer(block.data, np.uint8) == 10):
            table = None
        if table is None:
            data, n, extra, _, open_quote = _split_rows(bytes(block.data), final=True)
            block = _Block(data, True, n, extra, open_quote)
    if table is None:
        invalid: list = []
        try:
            table = _read_csv(block.data, names, True, invalid_rows=invalid)
        except pa.ArrowInvalid as exc:
            failure = _malformed(block.data, len(names), exc)
            failure.extra = block.extra
            raise failure from None
        if invalid:  # the first such row, unless a row before it breaks another rule (_BlockWork)
            row, fields = invalid[0]
            failure = _RowFailure(row, f"Malformed CSV: {{where}} has {fields} fields but the header has {len(names)}")
            failure.extra = block.extra
            failure.before = {name: table.column(name).combine_chunks(memory_pool=_MEM).slice(0, row)
                              for name in names}
            raise failure
    if block.open_quote:  # pyarrow takes a quote left open at the end of the file as closed there
        failure = _RowFailure(block.n_rows - 1, "Malformed CSV at {where}: a quoted value is not closed "
                                                "before the end of the file")
        failure.extra = block.extra
        raise failure
    if not block.classified or table.num_rows != block.n_rows:
        block = _Block(block.data, True, table.num_rows, block.extra)
    return {name: table.column(name).combine_chunks(memory_pool=_MEM) for name in names}, block


#: 10 .. 10**18: the decimal text of a non-negative int64 has 1 + (number of these it reaches) digits.
_TENS = [10**k for k in range(1, 19)]


def _decimal_bytes(v: np.ndarray) -> int:
    """Bytes of the canonical decimal texts of the integer values ``v`` (int32 or int64; no ``+``, no
    leading zero, ``-`` only before a negative value), summed; counted with one comparison pass per digit
    count between the smallest and the largest value."""
    if not len(v):
        return 0
    lo, hi = int(v.min()), int(v.max())
    if lo < 0:
        if lo == np.iinfo(v.dtype).min:  # no absolute value in its dtype
            return -1
        return _decimal_bytes(np.abs(v)) + int(np.count_nonzero(v < 0))
    total = len(v)
    for t in _TENS:
        if t > hi:
            break
        total += len(v) if t <= lo else int(np.count_nonzero(v >= t))
    return total


_POLARS_INT = {32: pl.Int32, 64: pl.Int64}
#: polars 1.x reads a block on one thread when asked (the blocks are read on two threads already; its
#: allocator then keeps less memory: the 1M-row import's peak fell from about 55 to 47 MiB); polars 2
#: dropped the ``n_threads`` argument.
_POLARS_ONE_THREAD = {"n_threads": 1} if "n_threads" in inspect.signature(pl.read_csv).parameters else {}
_ARROW_INT = {32: pa.int32(), 64: pa.int64()}
_NUMPY_INT = {pa.int32(): np.int32, pa.int64(): np.int64}


def _count_x(data: np.ndarray) -> int:
    """Bytes ``x`` or ``X`` in uint8 ``data``, counted 256 KiB at a time (no temporary as large as a block)."""
    step = 1 << 18
    return sum(int(np.count_nonzero((data[k:k + step] | 32) == ord("x"))) for k in range(0, len(data), step))


def _read_typed(block: _Block, names: list, schema: Schema, bits: Mapping) -> dict | None:
    """``{column name: Arrow array}`` of a plain block read with its integer columns typed (``bits``:
    column name -> 32 or 64 for those, which become int32 / int64; 0 for the others, which stay binary),
    or ``None`` when the block must take the careful path (:func:`_read_block`) or a value does not fit
    its type. A block of integer columns only is read by polars (about 30% less CPU than pyarrow's
    reader; one thread per block, as the blocks are read on two threads); a block with text columns by
    pyarrow, which hands them over as binary without a copy.

    The typed read only stands when it is provably what the careful path would read: the block's byte
    count must equal, summed over its rows, the bytes of the binary values plus the canonical decimal
    text of every integer, plus one separator (comma or newline) per value. Any quote, escape, blank,
    ``\\r``, skipped empty line, sign or leading zero adds bytes the typed values do not account for, so
    such a block is read again the careful way; ``007`` and ``7`` thus stay two string IDs. pyarrow also
    reads a hexadecimal integer (``0x5F5E1000``, as long as ``1600000000``), so a block it read must hold
    no ``x`` or ``X`` beyond those of its binary values. pyarrow and
    polars refuse a row with too many fields, but polars fills a short row (or an empty line) with nulls,
    which count for fewer bytes than they have and could cancel a sign elsewhere: so a block polars read
    with a null must also hold exactly one newline and ``fields - 1`` commas per row (plain blocks have no
    quotes, so every row then has all its fields). String columns read as integers must also have no
    negative value (their canonical-ID path is for digits).
    """
    by_polars = all(bits[name] for name in names)
    if by_polars:
        data = block.data if isinstance(block.data, bytes) else bytes(block.data)
        try:
            frame = pl.read_csv(data, has_header=False, new_columns=names,
                                schema={name: _POLARS_INT[bits[name]] for name in names},
                                truncate_ragged_lines=False, raise_if_empty=False, quote_char=None,
                                **_POLARS_ONE_THREAD)
        except (pl.exceptions.PolarsError, pl.exceptions.PanicException):
            return None
        rows = frame.height
        # one copy out of polars' chunks: a column without null straight into numpy
        columns = [c.to_arrow() if c.null_count() else _arrow(c.to_numpy()) for c in frame.get_columns()]
    else:
        try:
            table = _read_csv(block.data, names, False,
                              {n: _ARROW_INT[bits[n]] if bits[n] else pa.binary() for n in names})
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            return None
        rows = table.num_rows
        columns = [table.column(name).combine_chunks(memory_pool=_MEM) for name in names]
    size = rows * len(names)
    arrays, nulls, text_x = {}, 0, 0
    for name, a in zip(names, columns):
        nulls += a.null_count
        if pa.types.is_integer(a.type):
            v = _filled(a, _NUMPY_INT[a.type], 0)
            if schema.field(name).type == "string" and len(v) and int(v.min()) < 0:
                return None
            size += _decimal_bytes(v) - a.null_count  # a null (empty cell) has no text, not "0"
        elif len(a):
            offsets = np.frombuffer(a.buffers()[1], np.int32)[a.offset:a.offset + len(a) + 1]
            size += int(offsets[-1]) - int(offsets[0])
            if not by_polars and offsets[-1] > offsets[0]:
                text_x += _count_x(np.frombuffer(a.buffers()[2], np.uint8)[offsets[0]:offsets[-1]])
        arrays[name] = a
    if size != len(block.data):
        return None
    if not by_polars and _count_x(np.frombuffer(block.data, np.uint8)) != text_x:
        return None  # pyarrow reads 0x5F5E1000 as 1600000000, as many bytes: an x outside the text columns
    if by_polars and nulls:
        byte = np.frombuffer(block.data, np.uint8)
        if np.count_nonzero(byte == 10) != rows or np.count_nonzero(byte == 44) != rows * (len(names) - 1):
            return None
    return arrays


def _malformed(data: bytes, ncol: int, exc: Exception) -> _RowFailure:
    """The failure for a block pyarrow could not split: the first row with the wrong number of fields
    (located with the csv module), else pyarrow's own words."""
    reader = csv.reader(io.StringIO(data.decode("utf-8", "replace"), newline=""), escapechar="\\")
    r = 0
    try:
        for r, row in enumerate(reader):
            if len(row) != ncol:
                return _RowFailure(r, f"Malformed CSV: {{where}} has {len(row)} fields but the header has {ncol}")
    except csv.Error as e:
        return _RowFailure(r, f"Malformed CSV at {{where}}: {e}")
    return _RowFailure(0, f"Malformed CSV in the rows from {{where}}: {exc}")


# --------------------------------------------------------------------------
# Converters: binary Arrow column -> typed piece (one place per rule)
# --------------------------------------------------------------------------


# Arrow <-> numpy through buffers: ``to_numpy``, ``pa.array`` and Python scalars make pyarrow import pandas
# (0.2 s) when it is installed.

def _values(a: pa.Array, dtype) -> np.ndarray:
    """Values of a primitive (fixed-width) Arrow array as a read-only numpy view; null slots unspecified."""
    if len(a) == 0:
        return np.zeros(0, dtype)
    return np.frombuffer(a.buffers()[1], dtype, count=len(a), offset=a.offset * np.dtype(dtype).itemsize)


def _bits(buf: pa.Buffer, offset: int, n: int) -> np.ndarray:
    return np.unpackbits(np.frombuffer(buf, np.uint8), count=offset + n, bitorder="little")[offset:].view(bool)


def _null_mask(a: pa.Array) -> np.ndarray:
    """bool[n], True where ``a`` is null."""
    if a.null_count == 0:
        return np.zeros(len(a), bool)
    return ~_bits(a.buffers()[0], a.offset, len(a))


def _filled(a: pa.Array, dtype, fill) -> np.ndarray:
    """Values of a primitive Arrow array as numpy, ``fill`` where null."""
    out = _values(a, dtype)
    return np.where(_null_mask(a), fill, out).astype(dtype, copy=False) if a.null_count else out


def _arrow(a: np.ndarray) -> pa.Array:
    """Zero-copy Arrow view of a numpy array: int32/int64 values, or a bool mask (packed to bits)."""
    if a.dtype == bool:
        return pa.Array.from_buffers(pa.bool_(), len(a), [None, pa.py_buffer(np.packbits(a, bitorder="little"))])
    a = np.ascontiguousarray(a)
    return pa.Array.from_buffers(pa.from_numpy_dtype(a.dtype), len(a), [None, pa.py_buffer(a)])


def _binary_array(values: list) -> pa.Array:
    """A ``pa.binary()`` array of ``bytes`` values, empty ones null."""
    lens = np.fromiter(map(len, values), np.int64, count=len(values))
    offsets = np.zeros(len(values) + 1, np.int32)
    np.cumsum(lens, out=offsets[1:])
    validity = pa.py_buffer(np.packbits(lens > 0, bitorder="little"))
    return pa.Array.from_buffers(pa.binary(), len(values),
                                 [validity, pa.py_buffer(offsets), pa.py_buffer(b"".join(values))])


_NULL_STRING = pa.nulls(1, pa.string())[0]
_NULL_INT32 = pa.nulls(1, pa.int32())[0]


def _text(a: pa.Array, r: int) -> str:
    v = a[r].as_py()
    return "" if v is None else (v.decode("utf-8", "replace") if isinstance(v, bytes) else str(v))


def _fail(a: pa.Array, r: int, message: str):
    """Raise :class:`_RowFailure` for row ``r`` of column ``a`` (``{value}`` filled in, ``{where}`` left)."""
    raise _RowFailure(r, message.replace("{value}", _text(a, r)[:80]))


def _fail_first(mask: np.ndarray, a: pa.Array, message: str) -> None:
    """Raise :class:`_RowFailure` (message) for the first row where ``mask`` is set."""
    if mask.any():
        _fail(a, int(np.argmax(mask)), message)


def _first_failing(a: pa.Array, fn) -> int:
    """Index of the first element of ``a`` on which ``fn`` (an Arrow cast) fails; ``fn(a)`` must fail.

    Bisects on slices, so the work is linear in ``len(a)`` and no element goes through Python.
    """
    lo, hi = 0, len(a)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        try:
            fn(a.slice(lo, mid - lo))
            lo = mid
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            hi = mid
    return lo


def _as_utf8(a: pa.Array, on_bad) -> pa.Array:
    """``a`` cast to ``string`` (UTF-8 checked); ``on_bad(i)`` is called for the first invalid element."""
    try:
        return a.cast(pa.string(), memory_pool=_MEM)
    except pa.ArrowInvalid:
        on_bad(_first_failing(a, lambda x: x.cast(pa.string(), memory_pool=_MEM)))
        raise  # on_bad raises


def _numeric(a: pa.Array, target: pa.DataType, bad_msg: str) -> pa.Array:
    """Cast a binary column to ``target``; blanks around values and a leading ``+`` are allowed and a
    blank cell is null (spec §6 rules 4 and 12); integers are decimal (pyarrow's cast would read ``0x10``
    as 16). Raises ImportFailure(bad_msg) for the first bad row."""
    if pa.types.is_integer(target) and pa.types.is_binary(a.type):
        first_hex = pc.index(pc.match_substring(a, "x", ignore_case=True, memory_pool=_MEM), True).as_py()
        if first_hex >= 0:
            _fail(a, first_hex, bad_msg)
    try:
        return pc.cast(a, target, memory_pool=_MEM)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        pass
    s = _as_utf8(a, lambda r: _fail(a, r, bad_msg))
    s = pc.utf8_trim(s, _BLANKS, memory_pool=_MEM)
    s = pc.replace_substring_regex(s, r"^\+([0-9.])", r"\1", memory_pool=_MEM)
    s = pc.if_else(_arrow(_values(pc.utf8_length(s, memory_pool=_MEM), np.int32) == 0), _NULL_STRING, s, memory_pool=_MEM)
    try:
        return pc.cast(s, target, memory_pool=_MEM)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        _fail(a, _first_failing(s, lambda x: pc.cast(x, target, memory_pool=_MEM)), bad_msg)


def _convert_int(a: pa.Array, f: Field) -> tuple[np.ndarray, np.ndarray]:
    """int/long → int64 (spec §6 rule 4); timestamp fields must be epoch seconds (rule 5)."""
    kind = "an integer (long)" if f.type == "long" else "an integer (int)"
    v = _numeric(a, pa.int64(), f"Column {f.name}: value '{{value}}' at {{where}} is not {kind}")
    null = _null_mask(v)
    out = _filled(v, np.int64, 0)
    if f.type == "int":
        _fail_first((out < _INT32[0]) | (out > _INT32[1]), a,
                    f"Column {f.name}: value '{{value}}' at {{where}} is out of range for int (32-bit)")
    if f.name in TIMESTAMP_FIELDS:
        _fail_first(out > MAX_EPOCH_SECONDS, a,
                    f"Column {f.name}: timestamp '{{value}}' at {{where}} is after the year 2100; "
                    f"timestamps must be Unix epoch seconds, not milliseconds")
    return out, null


def _convert_float(a: pa.Array, f: Field) -> tuple[np.ndarray, np.ndarray]:
    """float/double → float64, NaN for null (spec §6 rule 4); NaN and infinities are refused."""
    msg = f"Column {f.name}: value '{{value}}' at {{where}} is not a number ({f.type})"
    v = _numeric(a, pa.float64(), msg)
    null = _null_mask(v)
    out = _filled(v, np.float64, np.nan)
    _fail_first(~np.isfinite(out) & ~null, a, msg)
    return out, null


def _convert_bool(a: pa.Array, f: Field) -> tuple[np.ndarray, np.ndarray]:
    """boolean → bool; true/false/1/0 in any case (spec §3: not used for training). Checked per distinct value."""
    d = pc.dictionary_encode(a, memory_pool=_MEM)
    state = []  # per distinct value: 0 false, 1 true, 2 null (blank), 3 bad
    for v in d.dictionary.to_pylist():
        s = v.decode("utf-8", "replace").strip(_BLANKS).lower()
        state.append(1 if s in _TRUE else 0 if s in _FALSE else 2 if not s else 3)
    per_row = np.asarray(state + [2], np.int8)[_filled(d.indices, np.int32, -1)]
    _fail_first(per_row == 3, a, f"Column {f.name}: value '{{value}}' at {{where}} is not a boolean (true/false)")
    return per_row == 1, per_row == 2


def _factorize_ints(parts: list, n: int, present: np.ndarray | None = None,
                    out: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(int32[n] codes, -1 for null; sorted distinct values, int64) of a column of non-negative integers
    (int32 or int64) given in pieces ``[(values, null mask or None)]`` of ``n`` rows together. ``out``:
    int32[n] to write the codes into (else a new array); it may be the memory of the values themselves,
    each piece being read before its codes are written.

    Small values (below ``n`` + 2**20) take a presence table (``present``: bool[> max], True at every
    value, when the caller has it): no sort, no hash, O(n + max); when they run without a gap from the
    smallest to the largest, a code is the value less the smallest (no table look-up). Others are hashed
    (pyarrow ``dictionary_encode``) and only the distinct values are sorted."""
    codes = pages.empty(n, np.int32) if out is None else out
    live = None
    if present is None:
        live = [v if null is None else v[~null] for v, null in parts]
        vmax = max((int(x.max()) for x in live if len(x)), default=-1)
        if vmax < n + (1 << 20):
            present = np.zeros(vmax + 1, bool)
            for x in live:
                present[x.astype(np.intp, copy=False)] = True
    dense = None
    if present is not None:
        uniq = np.flatnonzero(present)
        if not len(uniq):  # every row null
            codes.fill(-1)
            return codes, uniq
        if int(uniq[-1]) - int(uniq[0]) + 1 == len(uniq):  # every value from the smallest to the largest
            dense = int(uniq[0])
        else:
            lut = np.cumsum(present, dtype=np.int32)
            lut -= 1
        per_part = [v for v, _ in parts]
    else:
        enc = pc.dictionary_encode(pa.chunked_array([_arrow(x.astype(np.int64, copy=False)) for x in live],
                                                    pa.int64()), memory_pool=_MEM)
        enc = enc.unify_dictionaries(memory_pool=_MEM) if enc.num_chunks > 1 and not all(
            c.dictionary.equals(enc.chunk(0).dictionary) for c in enc.chunks) else enc
        dictionary = _values(enc.chunk(0).dictionary, np.int64)
        order = np.argsort(dictionary)
        lut = np.empty(len(order), np.int32)
        lut[order] = np.arange(len(order), dtype=np.int32)
        uniq = dictionary[order]
        per_part = [_values(c.indices, np.int32) for c in enc.chunks]
    start = 0
    for (v, null), x in zip(parts, per_part):
        seg = codes[start:start + len(v)]
        if dense is not None:  # the codes are the values less the smallest (null slots overwritten below)
            np.subtract(x, dense, out=seg, casting="unsafe")
        elif null is None or len(x) == len(v):  # presence table: null slots hold 0, overwritten below
            # intp indices, one piece at a time: numpy's take is twice as fast as with int32 ones
            np.take(lut, x.astype(np.intp, copy=False), out=seg, mode="clip")  # in range: clip skips the check
        else:
            seg[~null] = lut[x.astype(np.intp, copy=False)]
        if null is not None:
            seg[null] = -1
        start += len(v)
    return codes, uniq


def _canonical_ints(a: pa.Array) -> np.ndarray | None:
    """int64[n] (0 for null; int32 when :func:`_read_typed` read it so) when every value of ``a`` is a
    canonical decimal (digits only, no sign, no blank, no leading zero), else ``None``. Such IDs are
    interned as integers: their text is ``str`` of the number, so ``007`` and ``7`` stay two IDs (and take
    the general path)."""
    if a.null_count == len(a):
        return None
    if pa.types.is_integer(a.type):  # read typed by :func:`_read_typed`, which proved the text canonical
        return _filled(a, _NUMPY_INT[a.type], 0)
    offsets = np.frombuffer(a.buffers()[1], np.int32)[a.offset:a.offset + len(a) + 1]
    data = np.frombuffer(a.buffers()[2], np.uint8)
    first = data[np.minimum(offsets[:-1], len(data) - 1)]
    null = _null_mask(a)
    # a non-digit first byte ('-', blank, letter) or a leading '0': not canonical (and a failing cast is slow)
    if (((first - np.uint8(48) > 9) | ((first == 48) & (np.diff(offsets) > 1))) & ~null).any():
        return None
    try:  # refuses anything else that is not digits
        v = pc.cast(a, pa.int64(), memory_pool=_MEM)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    return _filled(v, np.int64, 0)


def _string_rule(f: Field) -> tuple[int, str, bool] | None:
    """(limit, rule text, per-|-value?) of a string field, or None. Spec §4.1 / §5.3 / §2."""
    if f.name in ID_FIELDS:
        return MAX_ID_LENGTH, "IDs can have at most 256 characters", False
    if f.name == "IMPRESSION":
        return MAX_IMPRESSION_LENGTH, "an impression can have at most 1000 characters including the | separators", False
    if f.categorical:
        return MAX_CATEGORICAL_LENGTH, "categorical values can have at most 1000 characters each", True
    return None


@dataclass
class _Strings:
    """A block's string column: per-row ``ints`` (int32 or int64, canonical decimal IDs, 0 where null)
    with their ``null`` mask (``None`` when no row is null) and, when the values are small (below the
    block's rows + 2**20), ``present``: bool[max + 1], True at every value; or int32 ``codes`` (-1 null)
    into ``dictionary`` (``pa.StringArray`` of distinct, trimmed, non-empty values). Integer IDs are
    factorized once for the whole file (:func:`_merge_strings`). Once collected (:class:`_Columns`), the
    ``ints`` of a block are moved into the column's buffer and ``span`` (start, end) locates them there."""

    codes: np.ndarray | None = None
    dictionary: pa.Array | None = None
    ints: np.ndarray | None = None
    null: np.ndarray | None = None
    present: np.ndarray | None = None
    span: tuple | None = None

    def __len__(self) -> int:
        if self.span is not None:
            return self.span[1] - self.span[0]
        return len(self.codes if self.ints is None else self.ints)

    def as_dictionary_array(self) -> pa.DictionaryArray:
        codes, values = self.codes, self.dictionary
        if self.ints is not None:
            codes, uniq = _factorize_ints([(self.ints, self.null)], len(self.ints))
            values = _arrow(uniq).cast(pa.string(), memory_pool=_MEM)
        indices = _arrow(codes)
        if (codes < 0).any():
            indices = pc.if_else(_arrow(codes < 0), _NULL_INT32, indices, memory_pool=_MEM)
        return pa.DictionaryArray.from_arrays(indices, values)


def _convert_string(a: pa.Array, f: Field) -> tuple[_Strings, np.ndarray]:
    """string → :class:`_Strings`: UTF-8, blanks trimmed, ID / impression / categorical length limits
    (spec §4.1, §5.3, §2), all checked on the distinct values of the block. Columns of canonical decimal
    integers (the usual numeric IDs) take a sort-free integer path. Textual truncation happens when the
    blocks are merged (:func:`_merge_strings`)."""
    vals = _canonical_ints(a)
    if vals is not None:
        null = _null_mask(a)
        live = vals[~null] if a.null_count else vals
        present = None
        if len(live):
            vmax = int(live.max())
            if vmax < len(vals) + (1 << 20):  # marked here, on the worker
                present = np.zeros(vmax + 1, bool)
                present[live.astype(np.intp, copy=False)] = True  # intp indices: numpy's fast scatter (2.5x int32)
            if vmax <= _INT32[1]:  # half the memory until the file's IDs are factorized
                vals = vals.astype(np.int32, copy=False)
        return _Strings(ints=vals, null=null if a.null_count else None, present=present), null
    d = pc.dictionary_encode(a, memory_pool=_MEM)
    codes = _filled(d.indices, np.int32, -1)
    dic = _as_utf8(d.dictionary, lambda k: _fail(a, int(np.argmax(codes == k)),
                                                 f"Column {f.name}: value at {{where}} is not valid UTF-8; "
                                                 f"files with non-ASCII characters must be UTF-8 encoded"))
    if len(dic) and pc.any(pc.match_substring_regex(dic, r"^[ \t]|[ \t]$|^$", memory_pool=_MEM)).as_py():
        trimmed = pc.dictionary_encode(pc.utf8_trim(dic, _BLANKS, memory_pool=_MEM), memory_pool=_MEM)
        remap = _values(trimmed.indices, np.int32)
        dic = trimmed.dictionary
        empty = np.flatnonzero(_values(pc.utf8_length(dic, memory_pool=_MEM), np.int32) == 0)
        if len(empty):  # a blank value is null
            e = int(empty[0])
            remap = np.where(remap == e, -1, remap - (remap > e)).astype(np.int32)
            dic = pc.filter(dic, _arrow(np.arange(len(dic)) != e), memory_pool=_MEM)
        codes = np.append(remap, np.int32(-1))[codes]
    rule = _string_rule(f)
    if rule is not None and len(dic):
        limit, text, per_value = rule
        lengths = _values(pc.utf8_length(dic, memory_pool=_MEM), np.int32)
        if int(lengths.max()) > limit:
            long_ = np.flatnonzero(lengths > limit)
            values = pc.take(dic, _arrow(long_), memory_pool=_MEM).to_pylist()
            bad = [k for k, v in zip(long_.tolist(), values)
                   if not per_value or any(len(p) > limit for p in v.split("|"))]
            if bad:
                _fail_first(np.isin(codes, bad), a,  # led by the service's words (spec 60 §4.1 message 5)
                            f"Length for {f.name} cannot exceed {limit} characters: value '{{value}}...' at "
                            f"{{where}} is too long; {text}")
    return _Strings(codes, dictionary=dic), codes < 0


_CONVERTERS = {
    "long": _convert_int,
    "int": _convert_int,
    "float": _convert_float,
    "double": _convert_float,
    "boolean": _convert_bool,
    "string": _convert_string,
}


def _convert_block(arrays: Mapping, schema: Schema, may_be_null: frozenset = frozenset()) -> dict:
    """``{field name: (piece, null mask)}`` for the schema fields present in ``arrays`` (Arrow columns).

    ``may_be_null``: required fields that may still be null (anonymous events). Raises
    :class:`_RowFailure` for the earliest row that breaks a rule: the rules are checked column by column,
    so when one fails at row r, the rows before r are checked again, until they pass."""
    try:
        return _convert_columns(arrays, schema, may_be_null)
    except _RowFailure as first:
        failure = first
    while failure.row > 0:  # each pass finds an earlier row, or none: at most one pass per rule
        try:
            _convert_columns({name: a.slice(0, failure.row) for name, a in arrays.items()}, schema, may_be_null)
            break
        except _RowFailure as earlier:
            failure = earlier
    raise failure


def _convert_columns(arrays: Mapping, schema: Schema, may_be_null: frozenset) -> dict:
    """:func:`_convert_block`'s conversion, raising :class:`_RowFailure` for the first broken rule (fields in
    schema order, each field's rules in their order)."""
    out = {}
    for f in schema.fields:
        a = arrays.get(f.name)
        if a is None:
            continue
        required = not f.nullable and f.name not in may_be_null
        empty_msg = f"Column {f.name}: empty value at {{where}}; the field is not nullable"
        if required:
            _fail_first(_null_mask(a), a, empty_msg)
        piece, null = _CONVERTERS[f.type](a, f)
        if required:  # blank values are null too
            _fail_first(null, a, empty_msg)
        out[f.name] = (piece, null if f.nullable else None)
    return out


# --------------------------------------------------------------------------
# Blocks → one Table
# --------------------------------------------------------------------------


class _Growing:
    """A numpy array that grows by doubling as blocks arrive (the first block sets the size), or at once to
    ``reserve`` rows when the file's row count is estimated (:meth:`_Columns.expect`), so a large file is
    not copied at every doubling. Large buffers are :func:`pages.empty` (4 KiB pages, written once each):
    the spare capacity is never resident."""

    def __init__(self, dtype, reserve: int = 0):
        self.buf = np.empty(0, dtype)
        self.n = 0
        self.reserve = reserve

    def append(self, a: np.ndarray) -> None:
        """Add ``a`` at the end; a wider integer dtype than the buffer's widens the buffer first."""
        if a.dtype.itemsize > self.buf.dtype.itemsize:
            self.buf = self.buf.astype(a.dtype)
        start, end = self.n, self.n + len(a)
        if end > len(self.buf):
            grown = pages.empty(max(end, 2 * len(self.buf), self.reserve), self.buf.dtype)
            grown[:start] = self.buf[:start]
            self.buf = grown
        self.buf[start:end] = a
        self.n = end

    def array(self) -> np.ndarray:
        return self.buf[:self.n]


class _Presence:
    """Which integers a column of integer IDs holds, marked block by block as the blocks are collected
    (:meth:`mark`), so that factorizing the file (:func:`_factorize_ints`) only has to number them.
    ``table``: bool[max + 1], or ``None`` once a value is too large for a table (beyond the rows so far
    + 2**20: such IDs are hashed)."""

    def __init__(self):
        self.table = np.zeros(0, bool)
        self.rows = 0

    def mark(self, piece: "_Strings") -> None:
        """Add the values of one block's integer IDs: its own presence table (``piece.present``, made on
        the worker) is or-ed in, else its values are marked one by one."""
        self.rows += len(piece.ints)
        if self.table is None:
            return
        if piece.present is not None:
            vmax = len(piece.present) - 1
        else:
            live = piece.ints if piece.null is None else piece.ints[~piece.null]
            if not len(live):
                return
            vmax = int(live.max())
        if vmax >= self.rows + (1 << 20):
            self.table = None
            return
        if vmax >= len(self.table):
            grown = np.zeros(max(vmax + 1, 2 * len(self.table)), bool)
            grown[:len(self.table)] = self.table
            self.table = grown
        if piece.present is not None:
            np.logical_or(self.table[:vmax + 1], piece.present, out=self.table[:vmax + 1])
        else:
            self.table[live.astype(np.intp, copy=False)] = True


class _Columns:
    """The columns of a :class:`Table` gathered block by block (:meth:`add`, in file order, as the blocks
    are collected) and finished by :meth:`table`. Numbers and null masks are copied into growing arrays;
    string columns keep the blocks' pieces (integer IDs are marked in a :class:`_Presence` table) until
    :meth:`table` writes their codes once, onto the distinct values of the whole file."""

    def __init__(self, schema: Schema):
        self.schema = schema
        self.values: dict = {}  # non-string field name -> _Growing
        self.pieces: dict = {}  # string field name -> the blocks' _Strings
        self.present: dict = {}  # string field name -> _Presence of its integer IDs
        self.ints: dict = {}  # string field name -> _Growing of its integer IDs (the pieces' spans)
        self.nulls: dict = {}  # nullable field name -> _Growing of bool
        self.reserve = 0  # rows the growing arrays are sized for at their first growth (:meth:`expect`)

    def expect(self, rows: int) -> None:
        """Size the growing arrays for about ``rows`` rows in all (an estimate from the file's size)."""
        self.reserve = rows
        for growing in (*self.values.values(), *self.ints.values(), *self.nulls.values()):
            growing.reserve = rows

    def add(self, converted: dict) -> None:
        """Add one block's ``{field: (piece, null mask)}`` (:func:`_convert_block`)."""
        for name, (piece, null) in converted.items():
            if isinstance(piece, _Strings):
                if piece.ints is not None:  # into the column's buffer, which becomes its codes (_merge_strings)
                    self.present.setdefault(name, _Presence()).mark(piece)
                    ints = self.ints.setdefault(name, _Growing(piece.ints.dtype, self.reserve))
                    start = ints.n
                    ints.append(piece.ints)
                    piece = _Strings(null=piece.null, span=(start, ints.n))
                self.pieces.setdefault(name, []).append(piece)
            else:
                self.values.setdefault(name, _Growing(piece.dtype, self.reserve)).append(piece)
            if null is not None:
                self.nulls.setdefault(name, _Growing(bool, self.reserve)).append(null)

    def table(self, n_rows: int, dataset_type: str | None, lines) -> Table:
        """The :class:`Table`; nullable fields never added (absent from the file) are all null. The string
        columns of large tables are finished on the worker threads, one column per task."""
        columns, nulls = {}, {}
        for f in self.schema.fields:
            if f.name in self.values:
                columns[f.name] = self.values.pop(f.name).array()
            elif f.name not in self.pieces:
                columns[f.name] = _empty_column(f, n_rows)
            if f.nullable:
                null = self.nulls.pop(f.name, None)
                nulls[f.name] = np.ones(n_rows, bool) if null is None else null.array()
        tasks = [(self.pieces.pop(f.name), n_rows, f, self.present.pop(f.name, None),
                  self.ints.pop(f.name).array() if f.name in self.ints else None)
                 for f in self.schema.fields if f.name in self.pieces]
        run = _POOL.map if n_rows >= _PARALLEL_ROWS and len(tasks) > 1 else map
        for (_, _, f, _, _), column in zip(tasks, run(lambda task: _merge_strings(*task), tasks)):
            columns[f.name] = column
        return Table(columns, nulls, n_rows, self.schema, dataset_type, lines if lines else None)


def _merge_strings(pieces: list, n: int, f: Field, present: _Presence | None = None,
                   ints: np.ndarray | None = None) -> StringColumn:
    """One :class:`StringColumn` of ``n`` rows from the blocks' :class:`_Strings` ``pieces``: integer IDs
    (``ints``: the column's buffer, where the pieces' ``span`` s point) factorized together in numpy
    (:func:`_factorize_ints`, with the :class:`_Presence` of the values when it was kept; an int32 buffer
    of every row becomes the codes in place; their dictionary is a :class:`DecimalIds`, no string per ID),
    else the blocks' dictionaries unified in Arrow (``unify_dictionaries``) with the ``positions`` of the
    values; textual values truncated to 20,000 characters (L4819)."""
    for p in pieces:
        if p.span is not None:
            p.ints = ints[p.span[0]:p.span[1]]
    if all(p.ints is not None for p in pieces):
        codes, uniq = _factorize_ints([(p.ints, p.null) for p in pieces], n,
                                      present.table if present is not None else None,
                                      out=ints if ints is not None and ints.dtype == np.int32 else None)
        return StringColumn(codes, DecimalIds(uniq))  # at most 19 characters: nothing to truncate
    chunks = pa.chunked_array([p.as_dictionary_array() for p in pieces],
                              pa.dictionary(pa.int32(), pa.string())).unify_dictionaries(memory_pool=_MEM)
    codes = np.empty(n, np.int32)
    start = 0
    for c in chunks.chunks:
        codes[start:start + len(c)] = _filled(c.indices, np.int32, -1)
        start += len(c)
    values = chunks.chunk(0).dictionary.to_pylist() if len(pieces) else []
    if f.textual:
        values = [truncate_text(v) for v in values]
    positions = dict(zip(values, range(len(values))))
    return StringColumn(codes, values, positions if len(positions) == len(values) else None)


_CJK = regex.compile(r"[\p{Han}\p{Hiragana}\p{Katakana}]")
_LETTER = regex.compile(r"\p{L}")


def truncate_text(value: str | None) -> str | None:
    """A textual field's value as Personalize keeps it: cut to :data:`MAX_TEXTUAL_LENGTH` (20,000)
    characters, or :data:`MAX_TEXTUAL_LENGTH_ZH_JA` (7,000) when it is Chinese or Japanese text (more than
    half of its letters Han, Hiragana or Katakana) — the guide truncates, it does not reject (L4819; spec
    10 §5.3). Blanks left at the end by the cut are dropped, as blanks around any value are (so an export
    imports back the same). ``None`` stays ``None``."""
    if value is None or len(value) <= MAX_TEXTUAL_LENGTH_ZH_JA:
        return value
    head = value[:MAX_TEXTUAL_LENGTH]
    if 2 * len(_CJK.findall(head)) > len(_LETTER.findall(head)):
        head = value[:MAX_TEXTUAL_LENGTH_ZH_JA]
    return head.rstrip(_BLANKS)


def _empty_column(f: Field, n: int):
    if f.type == "string":
        return StringColumn(np.full(n, -1, np.int32), [])
    if f.type in ("float", "double"):
        return np.full(n, np.nan)
    if f.type == "boolean":
        return np.zeros(n, bool)
    return np.zeros(n, np.int64)


# --------------------------------------------------------------------------
# Public entry points
# --------------------------------------------------------------------------


def _decode(data: bytes, first_line: int) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = first_line + data.count(b"\n", 0, e.start)
        raise ImportFailure(f"File is not UTF-8 encoded: invalid byte at line {line}") from None


def _parse_header(line: bytes, schema: Schema) -> list[str]:
    """Header names (spec §6 rules 2-3): schema field names, blanks around them ignored."""
    text = _decode(line, 1).strip()
    if not text:
        raise ImportFailure("The CSV file is empty: the first line must be a header naming the schema fields")
    if "\r" in text:
        raise ImportFailure("Malformed CSV at line 1: a carriage return (\\r) inside the header; lines must end "
                            "with \\n or \\r\\n (a file saved with \\r line endings reads as one line)")
    try:
        names = [h.strip() for h in next(csv.reader([text]))]
    except csv.Error as e:
        raise ImportFailure(f"Malformed CSV at line 1 (the header): {e}") from None
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
    missing = [f.name for f in schema.fields if not f.nullable and f.name not in seen]
    if missing:  # the service's words (spec 60 §4.1 message 4)
        raise ImportFailure(f"Input CSV is missing the following columns: [{', '.join(missing)}] (the header "
                            f"must name every field of the schema that is not nullable)")
    return names


#: Size of the row-aligned blocks a CSV is parsed in (bytes): bounds the parser's temporaries.
BLOCK_BYTES = 4 << 20
#: Size of the first blocks; then blocks are an eighth of the bytes read so far, up to :data:`BLOCK_BYTES`.
FIRST_BLOCK_BYTES = 1 << 20
#: Size of the chunks a caller streaming a file should hand over (bytes): a chunk stays in memory until
#: the blocks cut from it are parsed.
CHUNK_BYTES = 1 << 20
#: Blocks read and converted ahead of the one being collected (two worker threads): four, so a worker
#: never waits while the collecting thread writes a block into fresh pages (5% faster at 10M rows than two).
_IN_FLIGHT = 4
_POOL = ThreadPoolExecutor(max_workers=2, thread_name_prefix="localpersonalize-csv")
#: Blocks that failed the typed read (or its proof) after which a parse reads every block the careful way.
_TYPED_MISSES = 4
#: Tables of at least this many rows have their columns joined on :data:`_POOL`.
_PARALLEL_ROWS = 1 << 16


def _split_header(chunks) -> tuple[bytes, list]:
    """(header line without BOM and line end, the first body chunk) from the start of the stream."""
    head = b""
    for chunk in chunks:
        head += chunk
        nl = head.find(b"\n")
        if nl >= 0:
            break
    else:
        nl = len(head)
    if head.startswith(b"\xef\xbb\xbf"):
        head, nl = head[3:], nl - 3
    return head[:nl].rstrip(b"\r"), head[nl + 1:]


_CANONICAL_INT = re.compile(rb"0|[1-9][0-9]{0,17}")


def _typed_plan(names: list, schema: Schema, body: bytes) -> dict | None:
    """Columns of the fast read (:func:`_read_typed`) from the first row of ``body``: column name -> bits
    of the integers it is read as: 64 for int/long fields, 32 for string fields whose first value is a
    canonical decimal of at most 9 digits (numeric IDs; :class:`_BlockWork` widens them to 64 at the first
    larger value) and 64 for longer ones, 0 (binary) for the others; ``None`` (careful path only) when no
    column would be read as integers."""
    first = body[:body.find(b"\n")] if b"\n" in body[:1 << 16] else b""
    values = first.split(b",")
    if len(values) != len(names):
        return None
    bits = {}
    for name, value in zip(names, values):
        f = schema.field(name)
        if f.type in ("int", "long"):
            bits[name] = 64
        elif f.type == "string" and _CANONICAL_INT.fullmatch(value):
            bits[name] = 32 if len(value) <= 9 else 64
        else:
            bits[name] = 0
    return bits if any(bits.values()) else None


def parse_csv(data, schema: Schema, dataset_type: str | None = None, block_bytes: int | None = None) -> Table:
    """Parse a bulk-import CSV file (spec §6, L5882-L6016) into a :class:`Table`.

    ``data``: the whole file as ``bytes``, or an iterable of ``bytes`` chunks
    (an object streamed from S3; a :class:`SizedChunks`, or any iterable with a
    length hint in bytes, lets the columns be allocated once); UTF-8, optional BOM. The file is parsed in
    row-aligned blocks of about ``block_bytes`` bytes with pyarrow, so the
    parser's temporaries stay small whatever the size of the file. The first
    line is a header of schema field names (blanks around names and values are
    ignored); every non-nullable field must be present, unknown columns fail;
    nullable fields absent from the header are all null. Values are coerced to
    the schema types: int/long → int64, float/double → float64, boolean →
    bool, string → :class:`StringColumn`. An empty cell is null (refused in
    non-nullable fields); blank lines are skipped; quoted values may hold
    commas, ``""``, ``\\``-escapes and newlines. Timestamps are Unix epoch
    seconds (> year 2100 is refused as milliseconds). IDs ≤256 chars, each
    categorical value ≤1000 chars, impressions ≤1000 chars, textual values
    truncated to 20,000 chars.

    Raises :class:`ImportFailure` whose reason names the rule, the column and
    the first offending row (1-based line number); ``TypeError`` for input
    that is neither bytes nor an iterable of bytes.
    """
    if isinstance(data, (bytes, bytearray, memoryview)):  # in chunks: a quote only slows its own chunk down
        view = memoryview(data)
        size = view.nbytes
        chunks = (view[k:k + CHUNK_BYTES] for k in range(0, len(view), CHUNK_BYTES))
    elif isinstance(data, str) or not hasattr(data, "__iter__"):
        raise TypeError("parse_csv expects bytes or an iterable of bytes chunks")
    else:
        size = operator.length_hint(data, 0)  # a stream that knows its size in bytes says so
        chunks = iter(data)
    header, rest = _split_header(chunks)
    names = _parse_header(header, schema)
    work = _BlockWork(names, schema, _typed_plan(names, schema, rest))
    lines = LineMap()
    # Blocks are read and converted on two threads (pyarrow and numpy release the GIL), at most _IN_FLIGHT
    # ahead, and collected in file order: rows and extra lines add up in order, and the first failing
    # block reports the first offending row.
    columns = _Columns(schema)
    in_flight: deque = deque()
    n_rows = 0

    def collect():
        nonlocal n_rows
        try:
            converted, block = in_flight.popleft().result()
        except _RowFailure as e:
            lines.add(e.extra + n_rows)
            raise ImportFailure(e.reason(f"line {lines.line_of(n_rows + e.row)}")) from None
        lines.add(block.extra + n_rows)
        if not n_rows and size > len(block.data) > 0:  # the first block's rows per byte, times the file's bytes
            columns.expect(block.n_rows * size // len(block.data) * 21 // 20 + 1024)
        n_rows += block.n_rows
        columns.add(converted)

    try:
        for block in _row_blocks(_chain(rest, chunks), block_bytes or BLOCK_BYTES):
            in_flight.append(_POOL.submit(work, block))
            del block
            if len(in_flight) > _IN_FLIGHT:
                collect()
        while in_flight:
            collect()
    finally:
        for fut in in_flight:
            fut.cancel()
    return columns.table(n_rows, canonical_dataset_type(dataset_type), lines)


@dataclass
class _BlockWork:
    """What a worker does with one block: read it, then convert its columns."""

    names: list
    schema: Schema
    #: Integer bits per column of the fast typed read of plain blocks (:func:`_read_typed`), or None;
    #: dropped after :data:`_TYPED_MISSES` blocks that had to be read again (a file whose first row is not
    #: typical).
    typed: Mapping | None = None
    misses: int = 0

    def __call__(self, block: _Block) -> tuple[dict, _Block]:
        typed = self.typed
        if typed is not None and not block.classified:
            arrays = _read_typed(block, self.names, self.schema, typed)
            if arrays is None and 32 in typed.values():  # maybe an ID past 2**31 - 1: 64 bits from here on
                self.typed = typed = {name: bits and 64 for name, bits in typed.items()}
                arrays = _read_typed(block, self.names, self.schema, typed)
            if arrays is not None:
                try:
                    return _convert_block(arrays, self.schema), _Block(block.data, True, len(arrays[self.names[0]]))
                except _RowFailure:
                    pass  # the careful path below finds the same failure and reports it
            self.misses += 1
            if self.misses >= _TYPED_MISSES:
                self.typed = None
        try:
            arrays, block = _read_block(block, self.names)
        except _RowFailure as e:
            if e.before is not None:  # a row before the malformed one may break a rule: it comes first
                try:
                    _convert_block(e.before, self.schema)
                except _RowFailure as earlier:
                    earlier.extra = e.extra
                    raise earlier from None
            raise
        try:
            return _convert_block(arrays, self.schema), block
        except _RowFailure as e:
            e.extra = block.extra
            raise


class SizedChunks:
    """An iterable of ``bytes`` chunks (``chunks``) whose total is ``size`` bytes: the length hint
    (``operator.length_hint``) :func:`parse_csv` sizes its arrays with (one allocation per column for the
    whole file instead of a copy at every doubling). ``size`` 0: unknown. ``name``: where the file comes
    from (an ``s3://`` URI), named by the failure of an import of several files."""

    def __init__(self, chunks: Iterable[bytes], size: int, name: str | None = None):
        self.chunks, self.size, self.name = chunks, int(size), name

    def __iter__(self):
        return iter(self.chunks)

    def __length_hint__(self) -> int:
        return self.size


def _chain(first: bytes, rest):
    if first:
        yield first
    yield from rest


def _record_bytes(v) -> bytes:
    if v is None:
        return b""
    if isinstance(v, bool):
        return b"true" if v else b"false"
    if isinstance(v, float) and math.isfinite(v) and v.is_integer() and abs(v) < 2**53:
        return repr(v).encode()
    return strip_blanks(str(v)).encode("utf-8")


def strip_blanks(value: str) -> str:
    """``value`` without the blanks (spaces, tabs) around it: how every imported or streamed value is read,
    IDs included (an emulator choice, the guide is silent), and how a request's IDs are looked up."""
    return value.strip(_BLANKS)


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
    arrays = {name: _binary_array([_record_bytes(rec.get(name)) for rec in records])
              for name in names}
    try:
        block = _convert_block(arrays, schema, may_be_null)
    except _RowFailure as e:
        raise ImportFailure(e.reason(f"record {e.row + 1}")) from None
    columns = _Columns(schema)
    columns.add(block)
    return columns.table(len(records), canonical_dataset_type(dataset_type), None)


def check_min_interactions(n_rows: int, minimum: int = MIN_INTERACTIONS) -> None:
    """Raise :class:`ImportFailure` unless ``n_rows >= minimum``: an import job into an Interactions or
    Action interactions dataset must bring at least 1000 new records (guide L8680, L15701; spec 60 §1.1)."""
    if n_rows < minimum:
        raise ImportFailure(
            f"Insufficient data: an import job into an interactions dataset must bring at least {minimum} "
            f"new records, found {n_rows}"
        )
