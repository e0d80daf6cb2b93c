"""Benchmark: a dataset import job of a 1M / 10M-row interactions CSV from moto's S3, next to pandas.read_csv.

Run by hand (not part of the tests):

    python bench/import_s3.py [n_rows ...] [--text-ids] [--repeat N]   # default: 1000000 10000000, N=3

For each size, a CSV ``USER_ID,ITEM_ID,TIMESTAMP`` is generated once under /tmp (users uniform over
n/100 IDs, items drawn from a power law: Zipf with exponent 1.2 over n/50 items, timestamps increasing).
Then, each in a fresh subprocess so that peak memory is its own:

* ours: the file is uploaded to moto's S3 with boto3 (``mock_personalize``), then a real
  ``CreateDatasetImportJob`` runs through boto3 until the job is ACTIVE. Time = create call → ACTIVE.
* pandas: ``pandas.read_csv(path)`` of the same file (pandas is a bench-only dependency).

Peak memory = the highest RSS sampled every 2 ms during the measured step, minus the RSS just before
it (after ``malloc_trim``); "anonymous" = the same for resident memory less its file-backed pages, i.e.
without the libraries' code that the step pages in as it first runs it (polars 2.1's reader: about 15 MiB,
once per process). "Final arrays" = bytes of the dataset's numpy columns after the import.
Each side runs ``N`` times (alternating, fresh subprocesses); the figures are the median run by time,
so a run slowed by other work on the machine does not decide the result. ``LP_BLOCK_MIB`` in the
environment sets the parser's largest block size (MiB) for experiments. "cpu" = CPU seconds of the process
during the measured step (all threads; for "ours" the poll and the import together).

Time of "ours" = from just before the CreateDatasetImportJob call to the job's own
``lastUpdatedDateTime`` at ACTIVE: under mock_personalize's default (immediate) pacing the job is stamped
ACTIVE with ``time.time()`` (float, sub-second; botocore keeps the microseconds) the moment the import's
work returns, so this is the real wall-clock end of the job. The job is polled every 50 ms only to learn
that it ended: each DescribeDatasetImportJob is ~2-3 ms of Python (botocore + dispatch) sharing the GIL
and the cores with the import, and a 5 ms poll (the earlier bench) slowed the import by 10-20%; the
50 ms poll costs ~5% of that and no longer decides the end time. pandas has no such poll.
"""
from __future__ import annotations

import ctypes
import json
import os
import subprocess
import sys
import threading
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))


def csv_path(n: int, text_ids: bool) -> str:
    path = f"/tmp/lp_bench_interactions_{n}{'_text' if text_ids else ''}.csv"
    if os.path.exists(path):
        return path
    rng = np.random.default_rng(0)
    n_items = max(n // 50, 10)
    with open(path, "w") as fh:
        fh.write("USER_ID,ITEM_ID,TIMESTAMP\n")
        for start in range(0, n, 1_000_000):
            k = min(1_000_000, n - start)
            u = rng.integers(1, max(n // 100, 2), k)
            i = np.minimum(rng.zipf(1.2, k), n_items)
            t = 1_500_000_000 + start + np.arange(k)
            fmt = "user_{},item_{},{}\n" if text_ids else "{},{},{}\n"
            fh.write("".join(fmt.format(a, b, c) for a, b, c in zip(u.tolist(), i.tolist(), t.tolist())))
    return path


def rss() -> tuple[int, int]:
    """(resident bytes, of which anonymous): ``/proc/self/statm``'s resident less its file-backed shared
    pages (the code of the libraries, paged in as it first runs)."""
    with open("/proc/self/statm") as fh:
        resident, shared = (int(x) * os.sysconf("SC_PAGE_SIZE") for x in fh.read().split()[1:3])
    return resident, resident - shared


class Peak:
    """Sample RSS every 2 ms in a thread; ``delta`` = peak - RSS at start; ``anon_delta`` = the same for the
    anonymous memory alone (what the step allocates, without library code paged in)."""

    def __enter__(self):
        ctypes.CDLL("libc.so.6").malloc_trim(0)
        self.base, self.anon_base = self.peak, self.anon_peak = rss()
        self._stop = False
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        self.t0 = time.perf_counter()
        self.cpu0 = time.process_time()
        return self

    def _sample(self):
        total, anon = rss()
        self.peak, self.anon_peak = max(self.peak, total), max(self.anon_peak, anon)

    def _run(self):
        while not self._stop:
            self._sample()
            time.sleep(0.002)

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self.t0
        self.cpu = time.process_time() - self.cpu0
        self._stop = True
        self._thread.join()
        self._sample()
        self.delta = self.peak - self.base
        self.anon_delta = self.anon_peak - self.anon_base


def held(a: np.ndarray) -> int:
    """Bytes an array holds: a stride-0 view (the dataset's origin and session of bulk rows) holds one value."""
    return a.itemsize if a.ndim and a.strides[0] == 0 else a.nbytes


def run_ours(path: str, n: int) -> dict:
    os.environ.update(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_DEFAULT_REGION="us-east-1")
    import boto3
    from localpersonalize import mock_personalize
    from localpersonalize.data import csv_import
    from localpersonalize.moto_compat import store_for

    if os.environ.get("LP_BLOCK_MIB"):
        csv_import.BLOCK_BYTES = int(float(os.environ["LP_BLOCK_MIB"]) * 2**20)

    with mock_personalize():
        s3, p = boto3.client("s3"), boto3.client("personalize")
        s3.create_bucket(Bucket="bench")
        with open(path, "rb") as fh:
            s3.upload_fileobj(fh, "bench", "interactions.csv")
        schema = p.create_schema(name="s", schema=json.dumps({"type": "record", "name": "Interactions", "fields": [
            {"name": "USER_ID", "type": "string"}, {"name": "ITEM_ID", "type": "string"},
            {"name": "TIMESTAMP", "type": "long"}]}))["schemaArn"]
        group = p.create_dataset_group(name="g")["datasetGroupArn"]
        dataset = p.create_dataset(name="d", schemaArn=schema, datasetGroupArn=group,
                                   datasetType="Interactions")["datasetArn"]
        with Peak() as m:
            start = time.time()
            arn = p.create_dataset_import_job(jobName="j", datasetArn=dataset, roleArn="arn:aws:iam::123456789012:role/r",
                                              dataSource={"dataLocation": "s3://bench/interactions.csv"})[
                "datasetImportJobArn"]
            while True:
                job = p.describe_dataset_import_job(datasetImportJobArn=arn)["datasetImportJob"]
                if job["status"] in ("ACTIVE", "CREATE FAILED"):
                    break
                time.sleep(0.05)
        assert job["status"] == "ACTIVE", job
        seconds = job["lastUpdatedDateTime"].timestamp() - start
        ds = store_for("123456789012", "us-east-1").get("dataset-group", group).extra["data"].dataset("INTERACTIONS")
        st = ds._state
        arrays = sum(held(a) for a in (*st.cols.values(), st.origin, st.session))
        assert st.n == n
    return {"seconds": seconds, "peak": m.delta, "peak_anon": m.anon_delta, "arrays": arrays, "cpu": m.cpu}


def run_pandas(path: str, n: int) -> dict:
    import pandas as pd

    with Peak() as m:
        frame = pd.read_csv(path)
    assert len(frame) == n
    return {"seconds": m.seconds, "peak": m.delta, "peak_anon": m.anon_delta,
            "arrays": int(frame.memory_usage(deep=True).sum()), "cpu": m.cpu}


def main():
    if len(sys.argv) > 2 and sys.argv[1] == "--child":
        which, path, n = sys.argv[2], sys.argv[3], int(sys.argv[4])
        print(json.dumps((run_ours if which == "ours" else run_pandas)(path, n)))
        return
    text_ids = "--text-ids" in sys.argv
    args = sys.argv[1:]
    repeat = int(args[args.index("--repeat") + 1]) if "--repeat" in args else 3
    if "--repeat" in args:
        del args[args.index("--repeat"):args.index("--repeat") + 2]
    sizes = [int(a) for a in args if not a.startswith("--")] or [1_000_000, 10_000_000]
    for n in sizes:
        path = csv_path(n, text_ids)
        mib = os.path.getsize(path) / 2**20
        runs = {"pandas": [], "ours": []}
        for _ in range(repeat):
            for which in ("pandas", "ours"):
                res = subprocess.run([sys.executable, __file__, "--child", which, path, str(n)], capture_output=True,
                                     text=True, check=True)
                runs[which].append(json.loads(res.stdout.strip().splitlines()[-1]))
        out = {k: sorted(v, key=lambda r: r["seconds"])[len(v) // 2] for k, v in runs.items()}
        o, pd_ = out["ours"], out["pandas"]
        print(f"{n:>11,} rows, {mib:7.1f} MiB{' (text ids)' if text_ids else ''}")
        print(f"  import job (S3 → ACTIVE): {o['seconds']:7.2f} s {n / o['seconds']:12,.0f} rows/s  "
              f"peak +{o['peak'] / 2**20:7.1f} MiB  final arrays {o['arrays'] / 2**20:7.1f} MiB  "
              f"peak/arrays {o['peak'] / o['arrays']:.2f}x (anonymous {o['peak_anon'] / o['arrays']:.2f}x)  "
              f"cpu {o['cpu']:.2f} s")
        print(f"  pandas.read_csv         : {pd_['seconds']:7.2f} s {n / pd_['seconds']:12,.0f} rows/s  "
              f"peak +{pd_['peak'] / 2**20:7.1f} MiB  frame {pd_['arrays'] / 2**20:7.1f} MiB  cpu {pd_['cpu']:.2f} s")
        print(f"  ours/pandas time: {o['seconds'] / pd_['seconds']:.2f}x")


if __name__ == "__main__":
    main()
