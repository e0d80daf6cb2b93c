"""Columnar storage of the datasets of one dataset group.

Spec: ``shared/spec/10-data-and-schemas.md`` §1 (one dataset per type per
group, data kept until the dataset is deleted), §6 (bulk import) and §7
(streamed records append to the same stores).

Layout: every dataset keeps its rows as numpy columns. ID columns (USER_ID,
ITEM_ID, ACTION_ID) hold int32 codes into the group's shared :class:`IdIndex`
(so the Items dataset and the Interactions dataset use the same item codes);
other string columns hold int32 codes into a per-column :class:`IdIndex`
(``-1`` = null). Numeric columns are int64 / float64 (NaN = null) / bool, with
a null mask per nullable field.

Writes build new arrays and then swap one immutable state object, so a
failed import leaves the dataset exactly as before and arrays handed to a
reader are never modified afterwards. Writers are serialised by the group lock.

Streamed interactions also keep the event's ``sessionId`` (int32 codes into
the group's ``sessions`` index, -1 for bulk rows). An anonymous event (no
userId) is stored with USER_ID -1; once an event carries both IDs, the
session's anonymous history belongs to that user (spec 40 §5).

Per-user lookups (:meth:`DatasetGroupData.user_items`, called on every
GetRecommendations) go through a :class:`_RowIndex` per state: rows sorted by
key, built lazily, carried over when rows are only appended; the rows
appended since the build are scanned (at most 1/16 of the dataset, then the
index is rebuilt), so streamed appends cost nothing up front.
"""
from __future__ import annotations

import io
import threading
from collections.abc import Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field as dc_field, replace
from typing import Iterable, Mapping

import numpy as np

from . import pages
from .csv_import import (DecimalIds, ImportFailure, StringColumn, Table, TextSequence, check_min_interactions,
                         parse_csv, strip_blanks, table_from_records)
from .schemas import Schema, canonical_dataset_type

__all__ = ["IdIndex", "Dataset", "DatasetGroupData", "BULK", "STREAM", "EXPORT_MODES", "MAX_EVENT_BUDGET"]

#: Row origins: bulk import vs. record-by-record (PutEvents, PutItems, …).
BULK, STREAM = np.uint8(0), np.uint8(1)

#: Key (ID) field of the datasets whose rows are upserted by ID (spec §6, ``importMode``).
_KEY_FIELD = {"USERS": "USER_ID", "ITEMS": "ITEM_ID", "ACTIONS": "ACTION_ID"}
#: (user field, target field) of the interaction-like datasets.
_EVENT_FIELDS = {"INTERACTIONS": ("USER_ID", "ITEM_ID"), "ACTION_INTERACTIONS": ("USER_ID", "ACTION_ID")}
_ID_INDEX = {"USER_ID": "users", "ITEM_ID": "items", "ACTION_ID": "actions"}
#: Key of the session column in a state's row indexes (not a schema field name: those are upper case).
_SESSION = "session"
#: Fields that do not count towards the Interactions field budget (guide L5512).
_NOT_IN_BUDGET = frozenset({"USER_ID", "ITEM_ID", "TIMESTAMP", "IMPRESSION", "RECOMMENDATION_ID",
                            "EVENT_ATTRIBUTION_SOURCE"})
#: Optional metadata fields + distinct event types of an Interactions dataset: at most 10 (guide L5512,
#: spec 60 §1.1).
MAX_EVENT_BUDGET = 10
#: ``CreateDatasetExportJob.ingestionMode`` → origins exported (spec 40 §9.1).
EXPORT_MODES = {"BULK": (BULK,), "PUT": (STREAM,), "ALL": (BULK, STREAM)}
#: Rows appended since a row index was built that a lookup scans before it rebuilds the index.
_TAIL_ROWS = 1 << 16
#: Per thread: ``map`` = {id(object): what this thread's reading pinned} (:meth:`DatasetGroupData.reading`).
_PINS = threading.local()


class IdIndex:
    """Append-only interning of strings to dense int32 codes ``0..len-1``.

    ``ids``: the interned strings, ``ids[code]`` (a list, or a read-only sequence when the index starts
    with numeric IDs). Codes never change once given out. The first import of numeric IDs into a fresh
    index (:meth:`intern` of a column whose dictionary is a :class:`DecimalIds`) keeps them as that
    sorted int64 array, codes ``0..k-1``: their strings are made when read, and the ``{ID: code}`` map of
    them at the first look-up by ID (:meth:`code`, :meth:`codes`, ``in``); IDs added later go to a list
    and a dict as usual. ``trim``: IDs are looked up and added without the blanks around them
    (:func:`~localpersonalize.data.csv_import.strip_blanks`), as imports and Put* calls read them: the
    group's user, item and action IDs, so a request's ``" 7"`` is user ``7``.
    """

    def __init__(self, ids: Iterable[str] = (), trim: bool = False):
        self.trim = trim
        self._base: DecimalIds | None = None  # numeric IDs of the first import, codes 0..len(_base)-1
        self._base_map: dict[str, int] | None = None  # their codes by text, made at the first look-up
        self._extra: list[str] = []  # IDs added after them, codes len(_base)..
        self._map: dict[str, int] = {}  # codes of _extra
        for s in ids:
            self.code(s)

    @property
    def ids(self) -> Sequence[str]:
        """The interned strings in code order (read-only when the index starts with numeric IDs)."""
        return self._extra if self._base is None else _Joined(self._base, self._extra)

    def _size(self) -> int:
        return len(self._extra) + (len(self._base) if self._base is not None else 0)

    def __len__(self) -> int:
        """Codes given out; inside a :meth:`DatasetGroupData.reading` of this thread, as many as when it
        began (IDs added since are unknown to that reader)."""
        pins = getattr(_PINS, "map", None)
        if pins:
            n = pins.get(id(self))
            if n is not None:
                return n
        return self._size()

    def _key(self, s):
        """``s`` as this index holds it: without the blanks around it when ``trim``."""
        return strip_blanks(s) if self.trim and isinstance(s, str) else s

    def _get(self, s) -> int | None:
        """Code of ``s`` (a :meth:`_key`) given out so far, or ``None``."""
        c = self._map.get(s)
        if c is None and self._base is not None:
            base_map = self._base_map
            if base_map is None:  # two threads may both build it: the same map, either one kept
                base_map = self._base_map = dict(zip(self._base, range(len(self._base))))
            c = base_map.get(s)
        return c

    def __contains__(self, s) -> bool:
        return self._get(self._key(s)) is not None

    def code(self, s: str, add: bool = True) -> int:
        """Code of ``s``; a new code when absent and ``add``, else ``-1`` (also for an ID added after this
        thread's :meth:`DatasetGroupData.reading` began)."""
        s = self._key(s)
        c = self._get(s)
        if c is None:
            if not add:
                return -1
            c = self._map[s] = self._size()
            self._extra.append(s)
        elif not add and c >= len(self):
            return -1
        return c

    def codes(self, values: Iterable[str], add: bool = True) -> np.ndarray:
        """int32[n] codes of ``values`` (``None`` → -1; unknown → -1 unless ``add``)."""
        if add and not self._size():  # a fresh index takes distinct values in one C-level pass
            values = [self._key(v) for v in values] if self.trim else list(values)
            fresh = dict(zip(values, range(len(values))))
            if len(fresh) == len(values) and None not in fresh:
                self._map, self._extra = fresh, values
                return np.arange(len(values), dtype=np.int32)
        if add:
            out = [(-1 if s is None else self.code(s)) for s in values]
        else:
            get, key = self._get, self._key
            out = [-1 if s is None else c if (c := get(key(s))) is not None else -1 for s in values]
        out = np.asarray(out, dtype=np.int32).reshape(-1)
        if not add and len(self) < self._size():            # IDs added after this thread's reading began
            out[out >= len(self)] = -1
        return out

    def intern(self, col: StringColumn) -> np.ndarray:
        """Map a :class:`StringColumn` to int32[n] codes of this index (nulls stay -1); ``col.codes``
        itself when they already are (the dictionary interned in order, as into a fresh index). A fresh
        index keeps a :class:`DecimalIds` dictionary as is, and copies the column's ``positions`` as its
        map when the column has them (a clone of the hash table instead of hashing every value again)."""
        if not self._size() and isinstance(col.dictionary, DecimalIds):
            self._base = col.dictionary
            return col.codes
        if not self._size() and col.positions is not None:
            self._map, self._extra = col.positions.copy(), list(col.dictionary)
            return col.codes
        lut = self.codes(col.dictionary)
        if np.array_equal(lut, np.arange(len(lut), dtype=np.int32)):
            return col.codes
        return np.append(lut, np.int32(-1)).astype(np.int32)[col.codes]  # codes == -1 picks the trailing -1

    def lookup(self, codes: np.ndarray) -> np.ndarray:
        """object[n] of ID strings for int32 ``codes`` (``None`` for -1), codes below ``len(self)`` (the
        size pinned by this thread's reading; IDs other threads add meanwhile are not read)."""
        n = len(self)
        lut = np.empty(n + 1, dtype=object)
        lut[:-1] = self.ids[:n]
        lut[-1] = None
        return lut[np.asarray(codes)]


class _Joined(TextSequence):
    """``first`` then ``rest`` as one read-only sequence of ``str``: the ``ids`` of an :class:`IdIndex` that
    starts with numeric IDs."""

    def __init__(self, first: Sequence, rest: list):
        self.first, self.rest = first, rest

    def __len__(self) -> int:
        return len(self.first) + len(self.rest)

    def __getitem__(self, i):
        n = len(self.first)
        if isinstance(i, slice):
            start, stop, step = i.indices(len(self))
            if step == 1:  # ``rest`` may grow meanwhile: the items below ``stop`` never change
                return self.first[start:min(stop, n)] + self.rest[max(start - n, 0):max(stop - n, 0)]
            return [self[k] for k in range(start, stop, step)]
        if 0 <= i < n:
            return self.first[i]
        if i < 0:
            i += len(self)
            if i < 0:
                raise IndexError(i)
            return self[i]
        return self.rest[i - n]

    def __iter__(self):
        yield from self.first
        yield from self.rest


class _RowIndex:
    """Rows of a state grouped by an int32 key column (user or session codes), built over rows ``[0, n)``.

    ``order``: int64[n] row numbers sorted by key (stable, so oldest row first within a key);
    ``keys``: int32[n] the keys in that order. Rows appended after the build are found by scanning.
    """

    def __init__(self, key_col: np.ndarray):
        self.n = len(key_col)
        self.order = np.argsort(key_col, kind="stable")
        self.keys = key_col[self.order]

    def rows(self, key: int, key_col: np.ndarray, n: int) -> np.ndarray:
        """int64 rows ``< n`` whose key is ``key`` (``key_col`` is the state's full key column)."""
        lo, hi = np.searchsorted(self.keys, np.array([key, key + 1], self.keys.dtype))  # a list would cast keys
        built = self.order[lo:hi]
        if n == self.n:
            return built
        tail = np.flatnonzero(key_col[self.n:n] == key) + self.n
        return np.concatenate([built, tail]) if len(built) else tail


@dataclass
class _Derived:
    """What a state derives lazily: row indexes by key, and the event-type codes present (or None)."""

    indexes: dict = dc_field(default_factory=dict)
    event_types: frozenset | None = None


@dataclass(frozen=True)
class _State:
    """Immutable snapshot of a dataset's rows.

    ``cols``: name → ndarray[n]; ``nulls``: name → bool[n] for nullable fields; ``origin``: uint8[n]
    BULK/STREAM; ``session``: int32[n] session codes (-1 = none); ``derived``: lazily computed indexes.
    ``origin`` and ``session`` of a state made by one bulk import alone are read-only views of one value
    (:func:`_constant`, no memory per row) until rows are added. ``older`` (Users, Items and Actions
    datasets): per ID, the latest record of the other origin, kept when a record of one origin replaced it
    (``None`` when there is none): a FULL import, which replaces bulk records only, brings the PUT record
    it had replaced back, and a ``BULK`` or ``PUT`` export lists its origin's latest record of every ID
    (guide L15790-L15795).
    """

    cols: dict
    nulls: dict
    origin: np.ndarray
    session: np.ndarray
    n: int
    derived: _Derived = dc_field(default_factory=_Derived, compare=False)
    older: "_State | None" = None

    def key_column(self, name: str) -> np.ndarray:
        return self.session if name == _SESSION else self.cols[name]

    def rows_of(self, name: str, key: int) -> np.ndarray:
        """int64 rows whose column ``name`` (a field, or :data:`_SESSION`) holds ``key``."""
        col = self.key_column(name)
        index = self.derived.indexes.get(name)
        if index is None or self.n - index.n > max(_TAIL_ROWS, self.n >> 4):
            index = self.derived.indexes[name] = _RowIndex(col[:self.n])
        return index.rows(key, col, self.n)


class Dataset:
    """Rows of one dataset (one type in one dataset group), columnar.

    Create through :meth:`DatasetGroupData.create_dataset`. ``dataset_type``
    is canonical (``INTERACTIONS``, ``USERS``, ``ITEMS``, ``ACTIONS``,
    ``ACTION_INTERACTIONS``); ``schema`` is the dataset's :class:`Schema`
    (replaced by :meth:`replace_schema`); ``bulk_imported``: whether a bulk
    import has succeeded (the first import must be ``FULL``).
    """

    def __init__(self, group: "DatasetGroupData", dataset_type: str, schema: Schema):
        self.group = group
        self.dataset_type = dataset_type
        self.schema = schema
        self.bulk_imported = False
        self._dicts = {
            f.name: IdIndex() for f in schema.fields if f.type == "string" and f.name not in _ID_INDEX
        }
        self._event_ids: set[str] = set()
        self._buffers: dict = {}  # column key -> array with spare capacity whose prefix the state views
        empty = {f.name: _empty(f.type, f.name) for f in schema.fields}
        nulls = {f.name: np.zeros(0, bool) for f in schema.fields if f.nullable}
        self._current = _State(empty, nulls, np.zeros(0, np.uint8), np.zeros(0, np.int32), 0)

    @property
    def _state(self) -> _State:
        """The state readers see: the one pinned by this thread's :meth:`DatasetGroupData.reading`, else
        the current one. Writers (under the group lock) read and swap ``_current``."""
        pins = getattr(_PINS, "map", None)
        if pins:
            st = pins.get(id(self))
            if st is not None:
                return st
        return self._current

    # ---------------------------------------------------------------- writing

    def import_bulk(self, table: Table, mode: str = "FULL") -> int:
        """Apply a bulk import (``CreateDatasetImportJob``); return the dataset's row count.

        ``mode``: ``FULL`` replaces all bulk-imported rows, keeping rows added
        one by one (Put*); ``INCREMENTAL`` appends (interactions) or upserts by
        ID (Users/Items/Actions: a row with a known ID replaces the old row,
        the last duplicate in the file wins) (guide L8670-L8680). Atomic: on
        any error the dataset is unchanged. Raises ``ValueError`` for a bad
        mode or a table built with another schema, :class:`ImportFailure` when
        the Interactions field budget is exceeded.
        """
        mode = (mode or "FULL").upper()
        if mode not in ("FULL", "INCREMENTAL"):
            raise ValueError(f"importMode must be FULL or INCREMENTAL, not {mode!r}")
        return self._apply(table, BULK, replace_bulk=(mode == "FULL"))

    def import_files(self, files: Iterable, mode: str = "FULL") -> int:
        """A dataset import job: parse every CSV file (one per S3 object) and apply them as one import.

        ``files``: each file as ``bytes`` or an iterable of ``bytes`` chunks (a ``SizedChunks`` with a ``name``
        has it named in the failure when there are several files). With ``FULL`` the first file
        replaces the bulk rows and the others add to them. Rules: ``INCREMENTAL`` needs bulk data
        imported before (guide L8672: the first import can only be FULL); an import into an Interactions
        or Action interactions dataset must bring at least 1000 records (guide L8680). Atomic: when any
        file fails, the dataset is left exactly as it was. Raises :class:`ImportFailure`; returns the
        row count.
        """
        mode = (mode or "FULL").upper()
        if mode == "INCREMENTAL" and not self.bulk_imported:
            raise ImportFailure("importMode INCREMENTAL needs bulk data imported before: the first import "
                                "job of a dataset must use FULL")
        files = list(files)
        tables = []
        for data in files:
            try:
                tables.append(parse_csv(data, self.schema, self.dataset_type))
            except ImportFailure as exc:  # a folder's files each count their own lines: say which one
                name = getattr(data, "name", None)
                if len(files) > 1 and name:
                    raise ImportFailure(f"{name}: {exc.reason}") from None
                raise
        if self.dataset_type in _EVENT_FIELDS:
            check_min_interactions(sum(t.n_rows for t in tables))
        with self.group.lock:
            before = self._current
            try:
                for i, table in enumerate(tables):
                    tables[i] = None  # let the parsed columns go as soon as they are stored
                    self.import_bulk(table, mode if i == 0 else "INCREMENTAL")
            except Exception:
                self._current = before
                self._buffers.clear()  # what the failed import wrote past ``before`` is never reused
                raise
            self.bulk_imported = True
            return self._current.n

    def put_records(self, records: Sequence[Mapping], sessions: Sequence[str | None] | None = None,
                    event_ids: Sequence[str | None] | None = None) -> int:
        """Add streamed records (PutEvents, PutUsers, PutItems, PutActions, PutActionInteractions).

        ``records``: mappings of schema field → value (see
        :func:`~localpersonalize.data.csv_import.table_from_records`).
        Interactions are appended; Users/Items/Actions are upserted by ID.
        For interaction datasets, ``sessions`` gives each record's sessionId:
        a record with a sessionId may have no USER_ID (anonymous), and one
        with both links the session's anonymous history to the user (first
        link wins, spec 40 §5). Events whose ``event_ids`` entry was seen
        before, and events identical in every field to a streamed event of the
        same user or session, are not stored again (guide L14780; model doc
        of ``Event.eventId``). All or nothing: raises :class:`ImportFailure`
        and leaves the dataset unchanged. Returns the row count.
        """
        records = list(records)
        events = self.dataset_type in _EVENT_FIELDS
        sessions = list(sessions) if sessions is not None else [None] * len(records)
        anonymous_ok = frozenset({"USER_ID"}) if events else frozenset()
        for k, (rec, sess) in enumerate(zip(records, sessions)):
            if events and rec.get("USER_ID") is None and sess is None:
                raise ImportFailure(f"Record {k + 1}: an event needs a userId or a sessionId")
        table = table_from_records(records, self.schema, self.dataset_type, anonymous_ok)
        with self.group.lock:
            if not events:
                return self._apply(table, STREAM, replace_bulk=False)
            session_codes = self.group.sessions.codes(sessions)
            keep = self._new_events(table, session_codes, event_ids)
            n = self._apply(table, STREAM, replace_bulk=False, session=session_codes, keep=keep)
            users = self.group.users.codes(table.strings(_EVENT_FIELDS[self.dataset_type][0]), add=False)
            self.group.link_sessions(session_codes, users)
            self._event_ids.update(e for e in (event_ids or ()) if e)
            return n

    def _new_events(self, table: Table, session_codes: np.ndarray, event_ids) -> np.ndarray:
        """bool[n]: the streamed events to store: not a repeated eventId, not identical in every field
        to an event streamed before for the same user (or anonymous session), nor to an earlier one of
        the batch. A bulk row does not count: "two events recorded with the same timestamp and
        properties" are kept once (guide L14780), but an event that equals a bulk row is still an
        individually imported record, which a PUT export lists and a FULL import leaves in place
        (guide L15790-L15795)."""
        st = self._current
        cols, nulls = self._encode(table, add=False)
        ufield = _EVENT_FIELDS[self.dataset_type][0]
        anonymous = table.columns[ufield].codes < 0
        seen_ids = set(self._event_ids)
        seen_rows = set()
        keep = np.ones(table.n_rows, bool)
        for r in range(table.n_rows):
            eid = event_ids[r] if event_ids else None
            row_key = (int(session_codes[r]),) + tuple(
                None if (name in table.nulls and table.nulls[name][r])
                else (int(c.codes[r]) if isinstance(c, StringColumn) else c[r].item())
                for name, c in table.columns.items())
            if (eid and eid in seen_ids) or row_key in seen_rows:
                keep[r] = False
                continue
            seen_ids.add(eid)
            seen_rows.add(row_key)
            if anonymous[r]:
                cand = st.rows_of(_SESSION, int(session_codes[r]))
                cand = cand[st.cols[ufield][cand] < 0]
            elif cols[ufield][r] >= 0:
                cand = st.rows_of(ufield, int(cols[ufield][r]))
            else:
                continue  # a new user has no stored events
            cand = cand[st.origin[cand] == STREAM]
            same = np.ones(len(cand), bool)
            for name, col in cols.items():
                if name in nulls:
                    same &= st.nulls[name][cand] == nulls[name][r]
                    if nulls[name][r]:
                        continue
                same &= st.cols[name][cand] == col[r]
            keep[r] = not same.any()
        return keep

    def replace_schema(self, schema: Schema) -> None:
        """``UpdateDataset``: use ``schema`` from now on; its new fields are all null in the stored rows.

        The caller checks the replacement rules first (:func:`~.schemas.check_schema_replacement`).
        """
        def widened(st: _State | None) -> _State | None:
            if st is None:
                return None
            cols, nulls = dict(st.cols), dict(st.nulls)
            for f in schema.fields:
                if f.name not in cols:
                    cols[f.name] = _null_column(f.type, st.n)
                    nulls[f.name] = np.ones(st.n, bool)
            return _State(cols, nulls, st.origin, st.session, st.n, st.derived, widened(st.older))

        with self.group.lock:
            for f in schema.fields:
                if f.name not in self._current.cols and f.type == "string" and f.name not in _ID_INDEX:
                    self._dicts[f.name] = IdIndex()
            self._current = widened(self._current)
            self.schema = schema

    def delete_ids(self, codes: np.ndarray) -> int:
        """Remove every record (latest and older) whose ID (the dataset's key field) is one of the int32
        ``codes``; return how many were removed."""
        key = _KEY_FIELD[self.dataset_type]
        with self.group.lock:
            st = self._current
            older = None if st.older is None else np.isin(st.older.cols[key], codes)
            return self.delete_rows(np.isin(st.cols[key], codes), older)

    def delete_rows(self, rows: np.ndarray, older: np.ndarray | None = None) -> int:
        """Remove the rows flagged in bool[n] ``rows`` (and the ``older`` records flagged in ``older``);
        return how many records were removed."""
        with self.group.lock:
            st = self._current
            removed = int(np.count_nonzero(rows))
            kept_older = st.older
            if older is not None and st.older is not None and older.any():
                removed += int(np.count_nonzero(older))
                kept_older = _take(st.older, ~older) if not older.all() else None
            if removed:
                self._current = replace(_take(st, ~rows), older=kept_older)
            return removed

    def _apply(self, table: Table, origin: np.uint8, replace_bulk: bool, session: np.ndarray | None = None,
               keep: np.ndarray | None = None) -> int:
        with self.group.lock:
            if table.schema.field_names != self.schema.field_names:  # parsed before an UpdateDataset
                table = table.widened(self.schema)
            old = self._current
            new_cols, new_nulls = self._encode(table)
            n_new = table.n_rows
            new_session = session if session is not None else _constant(n_new, -1, np.int32)
            if keep is not None and not keep.all():
                new_cols = {k: v[keep] for k, v in new_cols.items()}
                new_nulls = {k: v[keep] for k, v in new_nulls.items()}
                new_session = new_session[keep]
                n_new = int(keep.sum())
            new_origin = _constant(n_new, origin, np.uint8)
            if replace_bulk:
                old = _without_bulk(old)
            key = _KEY_FIELD.get(self.dataset_type)
            if key is None:
                state = self._concat(old, new_cols, new_nulls, new_origin, new_session, n_new)
            else:
                state = self._upsert(old, key, new_cols, new_nulls, new_origin, new_session, n_new)
            if self.dataset_type == "INTERACTIONS":
                self._check_event_budget(state)
            self._current = state
            return state.n

    def _concat(self, st: _State, cols: dict, nulls: dict, origin: np.ndarray, session: np.ndarray,
                n: int) -> _State:
        """``st`` with ``n`` rows appended. Columns grow inside buffers with spare capacity, so a
        streamed append costs O(n) rather than a copy of the dataset; arrays handed out before are
        prefixes of those buffers and never change. Row indexes built so far stay valid and are carried."""
        if st.n == 0:  # nothing to keep: use the new arrays as they are
            return _State(dict(cols), dict(nulls), origin, session, n)
        derived = _Derived(dict(st.derived.indexes))
        if st.derived.event_types is not None and "EVENT_TYPE" in cols:
            c = cols["EVENT_TYPE"]
            derived.event_types = st.derived.event_types | frozenset(np.unique(c[c >= 0]).tolist())
        grow = self._grow
        return _State({k: grow(("c", k), v, cols[k]) for k, v in st.cols.items()},
                      {k: grow(("n", k), v, nulls[k]) for k, v in st.nulls.items()},
                      grow("origin", st.origin, origin), grow("session", st.session, session), st.n + n, derived)

    def _grow(self, key, old: np.ndarray, new: np.ndarray) -> np.ndarray:
        buf = self._buffers.get(key)
        n0, k = len(old), len(new)
        if (buf is None or old.base is not buf or len(buf) < n0 + k
                or (n0 and old.__array_interface__["data"][0] != buf.__array_interface__["data"][0])):
            buf = pages.empty(max(n0 + k + (n0 + k) // 4, 1024), old.dtype)
            buf[:n0] = old
            self._buffers[key] = buf
        buf[n0:n0 + k] = new
        return buf[:n0 + k]

    def _check_event_budget(self, st: _State) -> None:
        """Optional metadata fields + distinct event types ≤ 10 (guide L5512). Raises ImportFailure."""
        fields = [f.name for f in self.schema.fields if f.name not in _NOT_IN_BUDGET]
        types = _event_type_codes(st) if "EVENT_TYPE" in st.cols else frozenset()
        if len(fields) + len(types) > MAX_EVENT_BUDGET:
            names = sorted(self._dicts["EVENT_TYPE"].ids[c] for c in types)
            raise ImportFailure(
                f"Too many event types: the Interactions dataset has {len(fields)} optional metadata fields "
                f"({', '.join(fields)}) and {len(types)} distinct event types ({', '.join(names[:20])}); "
                f"together they can be at most {MAX_EVENT_BUDGET}"
            )

    def _encode(self, table: Table, add: bool = True) -> tuple[dict, dict]:
        """Table columns → stored columns (ID and string columns as int32 codes; with ``add=False``
        unknown strings get -1 and no dictionary grows)."""
        cols = {}
        for f in self.schema.fields:
            c = table.columns[f.name]
            if f.type == "string":
                index = self._index(f.name)
                c = index.intern(c) if add else index.codes(c.to_objects(), add=False)
            cols[f.name] = c
        nulls = {name: table.nulls[name] for name in self._current.nulls}
        return cols, nulls

    def _upsert(self, old: _State, key: str, cols: dict, nulls: dict, origin: np.ndarray,
                session: np.ndarray, n: int) -> _State:
        """``old`` with the ``n`` new rows upserted by ``key`` (the last row of an ID wins, in file order).
        A replaced record of the other origin becomes the ID's ``older`` record (:class:`_State`)."""
        k = cols[key]
        _, first_in_rev = np.unique(k[::-1], return_index=True)
        last = np.sort(n - 1 - first_in_rev)
        pos = np.full(len(self._index(key)), -1, np.int64)
        pos[old.cols[key]] = np.arange(old.n)
        p = pos[k[last]]
        upd, add = last[p >= 0], last[p < 0]
        p_upd = p[p >= 0]

        def merge(old_a, new_a):
            a = np.concatenate([old_a, new_a[add]])
            a[p_upd] = new_a[upd]
            return a

        older = old.older
        replaced = p_upd[old.origin[p_upd] != origin[upd]] if len(p_upd) else p_upd
        if len(replaced):
            moved = _take(old, replaced)
            older = moved if older is None else replace(self._upsert(   # one older record per ID
                older, key, moved.cols, moved.nulls, moved.origin, moved.session, moved.n), older=None)
        return _State(
            {name: merge(old.cols[name], cols[name]) for name in old.cols},
            {name: merge(old.nulls[name], nulls[name]) for name in old.nulls},
            merge(old.origin, origin),
            merge(old.session, session),
            old.n + len(add),
            older=older,
        )

    def _index(self, name: str) -> IdIndex:
        return getattr(self.group, _ID_INDEX[name]) if name in _ID_INDEX else self._dicts[name]

    # ---------------------------------------------------------------- reading

    @property
    def n_rows(self) -> int:
        """Number of rows (bulk + streamed)."""
        return self._state.n

    def codes(self, name: str) -> np.ndarray:
        """Stored column ``name``: int32 codes for string fields (-1 = null; IDs index the group's
        ``users``/``items``/``actions``), int64 / float64 / bool otherwise. Do not modify."""
        return self._state.cols[name]

    def column(self, name: str) -> np.ndarray:
        """Column ``name`` decoded: object[n] of ``str``/``None`` for strings; numeric arrays as stored
        (float NaN = null; use :meth:`null_mask` for int/bool nulls)."""
        f = self.schema.field(name)
        if f is None:
            raise KeyError(name)
        c = self._state.cols[name]
        return self._index(name).lookup(c) if f.type == "string" else c

    def null_mask(self, name: str) -> np.ndarray:
        """bool[n], True where ``name`` is null (all False for a non-nullable field)."""
        st = self._state
        return st.nulls.get(name, np.zeros(st.n, bool))

    def dictionary(self, name: str) -> IdIndex:
        """The :class:`IdIndex` a string column's codes point into."""
        return self._index(name)

    @property
    def origin(self) -> np.ndarray:
        """uint8[n]: :data:`BULK` or :data:`STREAM` per row."""
        return self._state.origin

    @property
    def sessions(self) -> np.ndarray:
        """int32[n]: code of each row's sessionId in the group's ``sessions`` index (-1 for bulk rows)."""
        return self._state.session

    def event_types(self) -> list[str]:
        """Distinct EVENT_TYPE values present (empty if the schema has no EVENT_TYPE)."""
        if "EVENT_TYPE" not in self._state.cols:
            return []
        return [self._dicts["EVENT_TYPE"].ids[i] for i in sorted(_event_type_codes(self._state))]

    def user_codes(self) -> np.ndarray:
        """int32[n] USER_ID codes of an interactions dataset with anonymous rows resolved: a row of a
        session linked to a user gets that user, a still-anonymous row keeps -1 (spec 40 §5)."""
        st = self._state
        u = st.cols[_EVENT_FIELDS[self.dataset_type][0]]
        anon = u < 0
        if not anon.any():
            return u
        u = u.copy()
        u[anon] = self.group.session_links()[st.session[anon]]
        return u

    def arrays(self, event_type: str | None = None, event_value_threshold: float | None = None
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Training arrays of an interactions dataset, after event filtering.

        Returns ``(user_idx int32[n], item_idx int32[n], timestamp int64[n])``
        (for ACTION_INTERACTIONS the second array holds action codes);
        indices are codes of the group's ``users`` / ``items`` (``actions``)
        indexes, timestamps epoch seconds, rows in storage order.
        Anonymous events count for the user their session was linked to, and
        are left out while their session is not linked (spec 40 §5).
        ``event_type``: keep only rows with this EVENT_TYPE (exact match);
        ``event_value_threshold``: keep only rows with EVENT_VALUE ≥ threshold
        (null values dropped) (spec §5.1, L4676). A filter on a field the
        schema lacks keeps no rows. Raises ``TypeError`` on other dataset types.
        """
        if self.dataset_type not in _EVENT_FIELDS:
            raise TypeError(f"arrays() needs an interactions dataset, not {self.dataset_type}")
        st = self._state
        _, tfield = _EVENT_FIELDS[self.dataset_type]
        u = self.user_codes()
        keep = u >= 0
        if event_type is not None:
            if "EVENT_TYPE" not in st.cols:
                keep[:] = False
            else:
                keep &= st.cols["EVENT_TYPE"] == self._dicts["EVENT_TYPE"].code(event_type, add=False)
        if event_value_threshold is not None:
            if "EVENT_VALUE" not in st.cols:
                keep[:] = False
            else:
                with np.errstate(invalid="ignore"):
                    keep &= st.cols["EVENT_VALUE"] >= float(event_value_threshold)
        i, t = st.cols[tfield], st.cols["TIMESTAMP"]
        if keep.all():
            return u, i, t
        return u[keep], i[keep], t[keep]

    def export_csv(self, mode: str = "PUT") -> tuple[bytes, int]:
        """``CreateDatasetExportJob``: the rows of ``mode`` as CSV bytes, and the number of rows written.

        ``mode``: ``BULK`` (bulk-imported rows), ``PUT`` (rows added one by one) or ``ALL`` (spec 40 §9).
        The header is the schema's field names in schema order; values are written as imported (multiple
        categorical values joined by ``|``, null as an empty cell, anonymous events with an empty USER_ID
        unless their session was linked). Rows identical in every field are written once; Users, Items
        and Actions hold the latest record per ID (the ``ALL`` rule, spec 40 §9.2). Raises ``ValueError``
        for another mode.
        """
        origins = EXPORT_MODES.get((mode or "PUT").upper())
        if origins is None:
            raise ValueError(f"ingestionMode must be BULK, PUT or ALL, not {mode!r}")
        st = self._state
        if st.older is not None and len(origins) == 1:  # each origin's latest record of every ID
            st = _stack(st, st.older)
        rows = np.flatnonzero(np.isin(st.origin, origins))
        cols = {name: st.cols[name] for name in self.schema.field_names}
        if self.dataset_type in _EVENT_FIELDS:
            cols[_EVENT_FIELDS[self.dataset_type][0]] = self.user_codes()
        rows = _first_of_duplicates(cols, st.nulls, rows)
        out = io.StringIO()
        out.write(",".join(self.schema.field_names) + "\n")
        texts = [self._column_text(f, cols[f.name][rows], st.nulls[f.name][rows] if f.name in st.nulls else None)
                 for f in self.schema.fields]
        if texts:
            for start in range(0, len(rows), 100_000):  # bounded temporaries
                part = [t[start:start + 100_000] for t in texts]
                out.write("".join(",".join(r) + "\n" for r in zip(*part)))
        return out.getvalue().encode("utf-8"), len(rows)

    def _column_text(self, f, values: np.ndarray, nulls: np.ndarray | None) -> list:
        """CSV cells (str) of one field's stored values."""
        if f.type == "string":
            index = self._index(f.name)
            n = len(index)  # this thread's pinned size: IDs added since by other threads are not read
            lut = np.empty(n + 1, dtype=object)
            lut[:-1] = [_csv_cell(v) for v in index.ids[:n]]
            lut[-1] = ""
            return lut[values].tolist()
        if f.type == "boolean":
            cells = np.where(values, "true", "false").astype(object)
        elif f.type in ("float", "double"):
            cells = np.array([repr(float(v)) for v in values.tolist()], dtype=object)
            cells[np.isnan(values)] = ""
        else:
            cells = values.astype(str).astype(object)
        if nulls is not None:
            cells[nulls] = ""
        return cells.tolist()


def _csv_cell(value: str) -> str:
    """One CSV cell, quoted when needed (RFC 4180; the guide escapes ``"`` inside quotes, L4819); a ``\\``
    is written ``\\\\``, since the importer reads ``\\`` as an escape, so an export imports back unchanged."""
    value = value.replace("\\", "\\\\")
    if any(ch in value for ch in ',"\n\r') or value != value.strip():
        return '"' + value.replace('"', '""') + '"'
    return value


def _first_of_duplicates(cols: dict, nulls: dict, rows: np.ndarray) -> np.ndarray:
    """``rows`` without the rows identical in every column to an earlier one (spec 40 §9.2)."""
    if len(rows) < 2:
        return rows
    parts = []
    for name, col in cols.items():
        v = col[rows]
        if v.dtype.kind == "f":
            v = np.where(np.isnan(v), np.nan, v).view(np.int64)  # one NaN bit pattern
        parts.append(v.astype(np.int64, copy=False))
        if name in nulls:
            parts.append(nulls[name][rows].astype(np.int64))
    matrix = np.stack(parts, axis=1)
    _, first = np.unique(matrix, axis=0, return_index=True)
    return rows[np.sort(first)]


def _event_type_codes(st: _State) -> frozenset:
    """EVENT_TYPE codes present in ``st`` (cached on the state)."""
    if st.derived.event_types is None:
        c = st.cols["EVENT_TYPE"]
        st.derived.event_types = frozenset(np.unique(c[c >= 0]).tolist())
    return st.derived.event_types


def _empty(ftype: str, name: str) -> np.ndarray:
    if ftype == "string":
        return np.zeros(0, np.int32)
    return np.zeros(0, {"float": np.float64, "double": np.float64, "boolean": bool}.get(ftype, np.int64))


def _null_column(ftype: str, n: int) -> np.ndarray:
    """A column of ``n`` nulls as stored (strings -1, floats NaN, others 0 with a null mask)."""
    if ftype == "string":
        return np.full(n, -1, np.int32)
    if ftype in ("float", "double"):
        return np.full(n, np.nan)
    return np.zeros(n, bool if ftype == "boolean" else np.int64)


def _constant(n: int, value, dtype) -> np.ndarray:
    """A read-only ``dtype[n]`` array holding ``value`` in every row, in the memory of one value (a stride-0
    ``np.broadcast_to`` view): a bulk import's rows all have the same origin and no session. Readers index,
    compare and concatenate it like any array; :meth:`Dataset._grow` copies it into a buffer when rows are
    appended."""
    return np.broadcast_to(np.asarray(value, dtype), (n,))


def _without_bulk(st: _State) -> _State:
    """``st`` without its bulk records (a FULL import replaces them): the streamed rows, and the older
    streamed records of the IDs whose latest record was a bulk one (:attr:`_State.older`)."""
    kept = _take(st, st.origin == STREAM)
    if st.older is None or not (st.older.origin == STREAM).any():
        return kept
    return _stack(kept, _take(st.older, st.older.origin == STREAM))


def _stack(a: _State, b: _State) -> _State:
    """The rows of ``a`` then those of ``b`` (same columns), without ``older`` records."""
    return _State({k: np.concatenate([v, b.cols[k]]) for k, v in a.cols.items()},
                  {k: np.concatenate([v, b.nulls[k]]) for k, v in a.nulls.items()},
                  np.concatenate([a.origin, b.origin]), np.concatenate([a.session, b.session]), a.n + b.n)


def _take(st: _State, rows: np.ndarray) -> _State:
    return _State({k: v[rows] for k, v in st.cols.items()}, {k: v[rows] for k, v in st.nulls.items()},
                  st.origin[rows], st.session[rows],
                  int(np.count_nonzero(rows)) if rows.dtype == bool else len(rows))


class DatasetGroupData:
    """All data of one dataset group: shared ID indexes and at most one dataset per type.

    ``users``, ``items``, ``actions``: :class:`IdIndex` shared by every dataset
    of the group; ``sessions``: :class:`IdIndex` of the sessionIds of streamed
    events; ``domain``: ``None`` or the group's domain; ``lock``: the group's
    write lock (re-entrant).
    """

    def __init__(self, domain: str | None = None):
        self.domain = domain
        self.lock = threading.RLock()
        self.users = IdIndex(trim=True)
        self.items = IdIndex(trim=True)
        self.actions = IdIndex(trim=True)
        self.sessions = IdIndex()
        self._session_user: dict[int, int] = {}  # session code -> user code (first link wins)
        self._user_sessions: dict[int, list[int]] = {}  # user code -> linked session codes
        self.datasets: dict[str, Dataset] = {}
        #: Data deletions that removed someone so far; ``_deleted_at``: user code -> the deletion's number.
        self.deletions = 0
        self._deleted_at: dict[int, int] = {}

    @contextmanager
    def reading(self):
        """Within the block, this thread reads the group as it was when the block began: every dataset's
        state (``Dataset._state``) and the ID indexes' sizes are pinned, so a request that reads several
        columns and statistics gets arrays of one moment while PutEvents / PutItems / imports go on in
        other threads (the next reading sees their writes). The pins are taken under the group's write lock,
        between two writes (a writer interns IDs and swaps its state in under that lock), so every code in a
        pinned column is below its pinned index size and a new ID comes with the rows that brought it.
        Nested blocks keep the outer pin. A dataset created during the block is read as it is."""
        pins = getattr(_PINS, "map", None)
        if pins is None:
            pins = _PINS.map = {}
        if id(self) in pins:
            yield self
            return
        keys = [id(self)]
        pins[id(self)] = True
        try:
            with self.lock:  # between two writes: a new ID is pinned with the rows that brought it
                for ds in list(self.datasets.values()):
                    pins[id(ds)] = ds._current
                    keys.append(id(ds))
                for index in (self.users, self.items, self.actions, self.sessions):
                    pins[id(index)] = index._size()
                    keys.append(id(index))
            yield self
        finally:
            for key in keys:
                pins.pop(key, None)

    def create_dataset(self, dataset_type: str, schema: Schema) -> Dataset:
        """Create the dataset of ``dataset_type`` (any spelling). Raises ``ValueError`` for an unknown
        type or when the group already has one of that type (spec §1, L4578)."""
        dtype = canonical_dataset_type(dataset_type)
        if dtype is None:
            raise ValueError(f"unknown dataset type {dataset_type!r}")
        with self.lock:
            if dtype in self.datasets:
                raise ValueError(f"the dataset group already has a {dtype} dataset")
            ds = self.datasets[dtype] = Dataset(self, dtype, schema)
            return ds

    def dataset(self, dataset_type: str) -> Dataset | None:
        """The dataset of ``dataset_type`` (any spelling), or ``None``."""
        return self.datasets.get(canonical_dataset_type(dataset_type))

    def delete_dataset(self, dataset_type: str) -> None:
        """Drop a dataset and its rows (ID indexes keep their codes)."""
        with self.lock:
            self.datasets.pop(canonical_dataset_type(dataset_type), None)

    # ----- anonymous sessions (spec 40 §5)
    def link_sessions(self, session_codes: np.ndarray, user_codes: np.ndarray) -> None:
        """Record ``session → user`` for events carrying both (int32 codes, -1 = absent); the first link
        of a session wins (spec 40 §5)."""
        with self.lock:
            for s, u in zip(np.asarray(session_codes).tolist(), np.asarray(user_codes).tolist()):
                if s >= 0 and u >= 0 and s not in self._session_user:
                    self._session_user[s] = u
                    self._user_sessions.setdefault(u, []).append(s)

    def session_links(self) -> np.ndarray:
        """int32[len(sessions) + 1]: the user code each session is linked to (-1: none; last entry -1)."""
        lut = np.full(len(self.sessions) + 1, -1, np.int32)
        links = dict(self._session_user)
        if links:
            lut[list(links)] = list(links.values())
        return lut

    # ----- reading
    def interactions_arrays(self, event_type: str | None = None, event_value_threshold: float | None = None):
        """Training arrays of the Interactions dataset (see :meth:`Dataset.arrays`), or ``None`` when the
        group has no Interactions dataset."""
        ds = self.datasets.get("INTERACTIONS")
        return None if ds is None else ds.arrays(event_type, event_value_threshold)

    def user_rows(self, user_id: str | None, dataset_type: str = "INTERACTIONS") -> np.ndarray:
        """int64 rows (any order) of ``user_id``'s events in the Interactions (or Action interactions)
        dataset: the user's own rows and the anonymous rows of the sessions linked to the user; for an ID
        that is only a sessionId, that session's anonymous rows (spec 40 §5). Empty for an unknown ID or
        a missing dataset. What the models fold in and what filters on ``Interactions`` look at."""
        ds = self.dataset(dataset_type)
        if ds is None or user_id is None:
            return np.empty(0, np.int64)
        st = ds._state
        ufield = _EVENT_FIELDS[ds.dataset_type][0]
        code = self.users.code(user_id, add=False)
        anon_sessions = self._user_sessions.get(code, ()) if code >= 0 else ()
        if code < 0:
            s = self.sessions.code(user_id, add=False)
            anon_sessions = (s,) if s >= 0 else ()
        parts = [st.rows_of(ufield, code)] if code >= 0 else []
        for s in list(anon_sessions):
            r = st.rows_of(_SESSION, s)
            parts.append(r[st.cols[ufield][r] < 0])
        if not parts:
            return np.empty(0, np.int64)
        return np.concatenate(parts) if len(parts) > 1 else parts[0]

    def user_items(self, user_id: str | None, event_types: tuple[str, ...] | None = None) -> np.ndarray:
        """int32 item codes of ``user_id``'s interactions, oldest first (bulk and streamed alike), or an
        empty array for an unknown user. Streamed events are visible at once; the anonymous events of
        sessions linked to the user count as theirs, and an ID that is only a sessionId gets that
        session's anonymous events (realtime recommendations for anonymous visitors, spec 40 §5).
        ``event_types``: keep only these EVENT_TYPEs, compared case-insensitively (the domain use cases'
        automatic exclusions, guide "Domain use cases"). Cost: O(log n + the user's rows + rows streamed
        since the last index build)."""
        ds = self.datasets.get("INTERACTIONS")
        if ds is None or user_id is None:
            return np.empty(0, np.int32)
        st = ds._state
        rows = self.user_rows(user_id)
        if not len(rows):
            return np.empty(0, np.int32)
        if event_types is not None:
            if "EVENT_TYPE" not in st.cols:
                return np.empty(0, np.int32)
            wanted = {e.lower() for e in event_types}
            names = ds.dictionary("EVENT_TYPE").ids
            ok = np.array([n.lower() in wanted for n in names] + [False], bool)
            rows = rows[ok[st.cols["EVENT_TYPE"][rows]]]
        rows = rows[np.argsort(st.cols["TIMESTAMP"][rows], kind="stable")]
        return st.cols["ITEM_ID"][rows].astype(np.int32, copy=False)

    # ----- data deletion jobs (spec 40 §11)
    def delete_users(self, user_ids: Iterable[str]) -> int:
        """Remove the users and all their data: their Users rows, their interactions and action
        interactions, and the anonymous events of sessions linked to them. Returns the number of records
        deleted (``numDeleted``). Atomic under the group lock."""
        with self.lock:
            codes = self.users.codes(user_ids, add=False)
            codes = np.unique(codes[codes >= 0])
            total = 0
            if not len(codes):
                return 0
            for dtype, ds in self.datasets.items():
                if dtype == "USERS":
                    total += ds.delete_ids(codes)
                elif dtype in _EVENT_FIELDS:
                    total += ds.delete_rows(np.isin(ds.user_codes(), codes))
            self.deletions += 1
            for u in codes.tolist():
                self._deleted_at[u] = self.deletions
                for s in self._user_sessions.pop(u, []):
                    self._session_user.pop(s, None)
            return total

    def deleted_since(self, mark: int) -> np.ndarray:
        """int32 codes of the users removed by :meth:`delete_users` after ``mark`` (a value of
        :attr:`deletions`): a model trained at ``mark`` no longer puts them in user segments (guide
        L16175, "Deleting users")."""
        with self.lock:
            return np.array([u for u, k in self._deleted_at.items() if k > mark], np.int32)
