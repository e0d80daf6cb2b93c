"""Benchmark: parse_csv vs pandas.read_csv on a 1M-row 3-column interactions file.

Not part of the test run (the file name does not start with ``test_``).
Run:  python bench/csv_import.py [n_rows] [--text-ids]
(``--text-ids``: IDs like ``user_123`` / ``item-00012345`` instead of integers)
pandas is only needed for the baseline (it is not a dependency of the project).
"""
import json
import sys
import time

import numpy as np

from localpersonalize.data.csv_import import parse_csv
from localpersonalize.data.datasets import DatasetGroupData
from localpersonalize.data.schemas import parse_schema


def make_file(n: int, seed: int = 0, text_ids: bool = False) -> bytes:
    rng = np.random.default_rng(seed)
    u = rng.integers(1, 100_000, n)
    i = rng.integers(1, 50_000, n)
    t = 1_500_000_000 + np.sort(rng.integers(0, 100_000_000, n))
    fmt = "user_{},item-{:08d},{}" if text_ids else "{},{},{}"
    body = "\n".join(fmt.format(a, b, c) for a, b, c in zip(u.tolist(), i.tolist(), t.tolist()))
    return ("USER_ID,ITEM_ID,TIMESTAMP\n" + body + "\n").encode()


def best(fn, repeat=3):
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    n = int(args[0]) if args else 1_000_000
    text_ids = "--text-ids" in sys.argv
    data = make_file(n, text_ids=text_ids)
    schema = parse_schema(json.dumps({"type": "record", "name": "Interactions", "fields": [
        {"name": "USER_ID", "type": "string"}, {"name": "ITEM_ID", "type": "string"},
        {"name": "TIMESTAMP", "type": "long"}]}))
    print(f"file: {n:,} rows, {len(data) / 2**20:.1f} MiB")
    t_ours = best(lambda: parse_csv(data, schema, "INTERACTIONS"))
    quoted = data.replace(b"\n", b'\n"q",q,1\n', 1)  # one quoted row: its block is cut quote-aware
    t_slow = best(lambda: parse_csv(quoted, schema, "INTERACTIONS"), repeat=1)

    def full_import():
        g = DatasetGroupData()
        g.create_dataset("INTERACTIONS", schema).import_bulk(parse_csv(data, schema, "INTERACTIONS"))
    t_import = best(full_import)
    print(f"parse_csv                : {t_ours:6.3f} s  {n / t_ours:12,.0f} rows/s")
    print(f"parse_csv, one quoted row: {t_slow:6.3f} s  {n / t_slow:12,.0f} rows/s")
    print(f"parse_csv + import_bulk  : {t_import:6.3f} s  {n / t_import:12,.0f} rows/s")
    try:
        import io
        import pandas as pd
    except ImportError:
        print("pandas not importable: no baseline")
        return
    t_pd = best(lambda: pd.read_csv(io.BytesIO(data)))
    t_pd_str = best(lambda: pd.read_csv(io.BytesIO(data), dtype={"USER_ID": str, "ITEM_ID": str}))
    print(f"pandas.read_csv (inferred int64 ids): {t_pd:6.3f} s  {n / t_pd:12,.0f} rows/s  "
          f"ratio ours/pandas = {t_ours / t_pd:.2f}x time")
    print(f"pandas.read_csv (ids as str)        : {t_pd_str:6.3f} s  {n / t_pd_str:12,.0f} rows/s  "
          f"ratio ours/pandas = {t_ours / t_pd_str:.2f}x time")


if __name__ == "__main__":
    main()
