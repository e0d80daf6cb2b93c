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
"""
from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Iterable, Mapping

import numpy as np

from .csv_import import ImportFailure, StringColumn, Table, check_min_interactions, parse_csv, table_from_records
from .schemas import Schema, canonical_dataset_type

__all__ = ["IdIndex", "Dataset", "DatasetGroupData", "BULK", "STREAM"]

#: Row origins: bulk import vs. record-by-record (PutEvents, PutItems, …).
BULK, STREAM = np.uint8(0), np.uint8(1)

#: Key (ID) field of the datasets whose rows are upserted by ID (spec §6, ``importMode``).
_KEY_FIELD = {"USERS": "USER_ID", "ITEMS": "ITEM_ID", "ACTIONS": "ACTION_ID"}
#: (user field, target field) of the interaction-like datasets.
_EVENT_FIELDS = {"INTERACTIONS": ("USER_ID", "ITEM_ID"), "ACTION_INTERACTIONS": ("USER_ID", "ACTION_ID")}
_ID_INDEX = {"USER_ID": "users", "ITEM_ID": "items", "ACTION_ID": "actions"}


class IdIndex:
    """Append-only interning of strings to dense int32 codes ``0..len-1``.

    ``ids``: list of the interned strings, ``ids[code]``. Codes never change
    once given out.
    """

    def __init__(self, ids: Iterable[str] = ()):
        self.ids: list[str] = []
        self._map: dict[str, int] = {}
        for s in ids:
            self.code(s)

    def __len__(self) -> int:
        return len(self.ids)

    def __contains__(self, s) -> bool:
        return s in self._map

    def code(self, s: str, add: bool = True) -> int:
        """Code of ``s``; a new code when absent and ``add``, else ``-1``."""
        c = self._map.get(s)
        if c is None:
            if not add:
                return -1
            c = self._map[s] = len(self.ids)
            self.ids.append(s)
        return c

    def codes(self, values: Iterable[str], add: bool = True) -> np.ndarray:
        """int32[n] codes of ``values`` (``None`` → -1; unknown → -1 unless ``add``)."""
        get = self._map.get
        if add:
            out = [(-1 if s is None else self.code(s)) for s in values]
        else:
            out = [(-1 if s is None else get(s, -1)) for s in values]
        return np.asarray(out, dtype=np.int32).reshape(-1)

    def intern(self, col: StringColumn) -> np.ndarray:
        """Map a :class:`StringColumn` to int32[n] codes of this index (nulls stay -1)."""
        lut = np.append(self.codes(col.dictionary), np.int32(-1)).astype(np.int32)
        return lut[col.codes]  # codes == -1 picks the trailing -1

    def lookup(self, codes: np.ndarray) -> np.ndarray:
        """object[n] of ID strings for int32 ``codes`` (``None`` for -1)."""
        lut = np.empty(len(self.ids) + 1, dtype=object)
        lut[:-1] = self.ids
        lut[-1] = None
        return lut[np.asarray(codes)]


@dataclass(frozen=True)
class _State:
    """Immutable snapshot of a dataset's rows."""

    cols: dict  # name -> ndarray[n]
    nulls: dict  # name -> bool[n], nullable fields only
    origin: np.ndarray  # uint8[n], BULK or STREAM
    n: int


class Dataset:
    """Rows of one dataset (one type in one dataset group), columnar.

    Create through :meth:`DatasetGroupData.create_dataset`. ``dataset_type``
    is canonical (``INTERACTIONS``, ``USERS``, ``ITEMS``, ``ACTIONS``,
    ``ACTION_INTERACTIONS``); ``schema`` is the dataset's :class:`Schema`.
    """

    def __init__(self, group: "DatasetGroupData", dataset_type: str, schema: Schema):
        self.group = group
        self.dataset_type = dataset_type
        self.schema = schema
        self._dicts = {
            f.name: IdIndex() for f in schema.fields if f.type == "string" and f.name not in _ID_INDEX
        }
        empty = {f.name: _empty(f.type, f.name) for f in schema.fields}
        nulls = {f.name: np.zeros(0, bool) for f in schema.fields if f.nullable}
        self._state = _State(empty, nulls, np.zeros(0, np.uint8), 0)

    # ---------------------------------------------------------------- writing

    def import_bulk(self, table: Table, mode: str = "FULL") -> int:
        """Apply a bulk import (``CreateDatasetImportJob``); return the dataset's row count.

        ``mode``: ``FULL`` replaces all bulk-imported rows, keeping rows added
        one by one (Put*); ``INCREMENTAL`` appends (interactions) or upserts by
        ID (Users/Items/Actions: a row with a known ID replaces the old row,
        the last duplicate in the file wins). Atomic: on any error the dataset
        is unchanged. Raises ``ValueError`` for a bad mode or a table built
        with another schema.
        """
        mode = (mode or "FULL").upper()
        if mode not in ("FULL", "INCREMENTAL"):
            raise ValueError(f"importMode must be FULL or INCREMENTAL, not {mode!r}")
        return self._apply(table, BULK, replace_bulk=(mode == "FULL"))

    def import_files(self, files: list[bytes], mode: str = "FULL") -> int:
        """A dataset import job: parse every CSV file (one per S3 object) and apply them as one import.

        With ``FULL`` the first file replaces the bulk rows and the others add to them; an interactions
        import must bring at least 1000 records (guide, "Data requirements"). Atomic: when any file
        fails, the dataset is left exactly as it was. Raises :class:`ImportFailure`; returns the row count.
        """
        tables = [parse_csv(data, self.schema, self.dataset_type) for data in files]
        if self.dataset_type == "INTERACTIONS":
            check_min_interactions(sum(t.n_rows for t in tables))
        with self.group.lock:
            before = self._state
            try:
                for i, table in enumerate(tables):
                    self.import_bulk(table, mode if i == 0 else "INCREMENTAL")
            except Exception:
                self._state = before
                raise
            return self._state.n

    def put_records(self, records: Iterable[Mapping]) -> int:
        """Add streamed records (PutEvents, PutUsers, PutItems, PutActions, PutActionInteractions).

        ``records``: mappings of schema field → value (see
        :func:`~localpersonalize.data.csv_import.table_from_records`).
        Interactions are appended; Users/Items/Actions are upserted by ID.
        Raises :class:`ImportFailure` (dataset unchanged). Returns the row count.
        """
        table = table_from_records(records, self.schema, self.dataset_type)
        return self._apply(table, STREAM, replace_bulk=False)

    def _apply(self, table: Table, origin: np.uint8, replace_bulk: bool) -> int:
        if table.schema.field_names != self.schema.field_names:
            raise ValueError("table was parsed with a different schema than the dataset's")
        with self.group.lock:
            old = self._state
            new_cols, new_nulls = self._encode(table)
            new_origin = np.full(table.n_rows, origin, np.uint8)
            if replace_bulk:
                keep = old.origin == STREAM
                old = _take(old, keep)
            key = _KEY_FIELD.get(self.dataset_type)
            if key is None:
                state = _concat(old, new_cols, new_nulls, new_origin, table.n_rows)
            else:
                state = self._upsert(old, key, new_cols, new_nulls, new_origin, table.n_rows)
            self._state = state
            return state.n

    def _encode(self, table: Table) -> tuple[dict, dict]:
        """Table columns → stored columns (ID and string columns as int32 codes)."""
        cols = {}
        for f in self.schema.fields:
            c = table.columns[f.name]
            if f.type == "string":
                index = self._index(f.name)
                c = index.intern(c)
            cols[f.name] = c
        nulls = {name: table.nulls[name] for name in self._state.nulls}
        return cols, nulls

    def _upsert(self, old: _State, key: str, cols: dict, nulls: dict, origin: np.ndarray, n: int) -> _State:
        k = cols[key]
        # last occurrence of each ID wins, in file order
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

        return _State(
            {name: merge(old.cols[name], cols[name]) for name in old.cols},
            {name: merge(old.nulls[name], nulls[name]) for name in old.nulls},
            merge(old.origin, origin),
            old.n + len(add),
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

    def event_types(self) -> list[str]:
        """Distinct EVENT_TYPE values present (empty if the schema has no EVENT_TYPE)."""
        if "EVENT_TYPE" not in self._state.cols:
            return []
        c = self._state.cols["EVENT_TYPE"]
        return [self._dicts["EVENT_TYPE"].ids[i] for i in np.unique(c[c >= 0])]

    def arrays(self, event_type: str | None = None, event_value_threshold: float | None = None
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Training arrays of an interactions dataset, after event filtering.

        Returns ``(user_idx int32[n], item_idx int32[n], timestamp int64[n])``
        (for ACTION_INTERACTIONS the second array holds action codes);
        indices are codes of the group's ``users`` / ``items`` (``actions``)
        indexes, timestamps epoch seconds, rows in storage order.
        ``event_type``: keep only rows with this EVENT_TYPE (exact match);
        ``event_value_threshold``: keep only rows with EVENT_VALUE ≥ threshold
        (null values dropped) (spec §5.1, L4676). A filter on a field the
        schema lacks keeps no rows. Raises ``TypeError`` on other dataset types.
        """
        if self.dataset_type not in _EVENT_FIELDS:
            raise TypeError(f"arrays() needs an interactions dataset, not {self.dataset_type}")
        st = self._state
        ufield, tfield = _EVENT_FIELDS[self.dataset_type]
        keep = np.ones(st.n, bool)
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
        u, i, t = st.cols[ufield], st.cols[tfield], st.cols["TIMESTAMP"]
        if keep.all():
            return u, i, t
        return u[keep], i[keep], t[keep]


def _empty(ftype: str, name: str) -> np.ndarray:
    if ftype == "string":
        return np.zeros(0, np.int32)
    return np.zeros(0, {"float": np.float64, "double": np.float64, "boolean": bool}.get(ftype, np.int64))


def _take(st: _State, rows: np.ndarray) -> _State:
    return _State({k: v[rows] for k, v in st.cols.items()}, {k: v[rows] for k, v in st.nulls.items()},
                  st.origin[rows], int(np.count_nonzero(rows)) if rows.dtype == bool else len(rows))


def _concat(st: _State, cols: dict, nulls: dict, origin: np.ndarray, n: int) -> _State:
    return _State({k: np.concatenate([v, cols[k]]) for k, v in st.cols.items()},
                  {k: np.concatenate([v, nulls[k]]) for k, v in st.nulls.items()},
                  np.concatenate([st.origin, origin]), st.n + n)


class DatasetGroupData:
    """All data of one dataset group: shared ID indexes and at most one dataset per type.

    ``users``, ``items``, ``actions``: :class:`IdIndex` shared by every dataset
    of the group; ``domain``: ``None`` or the group's domain; ``lock``: the
    group's write lock (re-entrant).
    """

    def __init__(self, domain: str | None = None):
        self.domain = domain
        self.lock = threading.RLock()
        self.users = IdIndex()
        self.items = IdIndex()
        self.actions = IdIndex()
        self.datasets: dict[str, Dataset] = {}

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

    def interactions_arrays(self, event_type: str | None = None, event_value_threshold: float | None = None):
        """Training arrays of the Interactions dataset (see :meth:`Dataset.arrays`), or ``None`` when the
        group has no Interactions dataset."""
        ds = self.datasets.get("INTERACTIONS")
        return None if ds is None else ds.arrays(event_type, event_value_threshold)

    def user_items(self, user_id: str | None, event_types: tuple[str, ...] | None = None) -> np.ndarray:
        """int32 item codes of ``user_id``'s interactions, oldest first (bulk and streamed alike), or an
        empty array for an unknown user. ``event_types``: keep only these EVENT_TYPEs, compared
        case-insensitively (the domain use cases' automatic exclusions, guide "Domain use cases")."""
        ds = self.datasets.get("INTERACTIONS")
        code = self.users.code(user_id, add=False) if user_id is not None else -1
        if ds is None or code < 0:
            return np.empty(0, np.int32)
        st = ds._state
        rows = np.flatnonzero(st.cols["USER_ID"] == code)
        if event_types is not None:
            if "EVENT_TYPE" not in st.cols:
                return np.empty(0, np.int32)
            wanted = {e.lower() for e in event_types}
            names = ds.dictionary("EVENT_TYPE").ids
            ok = np.array([n.lower() in wanted for n in names] + [False], bool)
            rows = rows[ok[st.cols["EVENT_TYPE"][rows]]]
        rows = rows[np.argsort(st.cols["TIMESTAMP"][rows], kind="stable")]
        return st.cols["ITEM_ID"][rows].astype(np.int32, copy=False)
