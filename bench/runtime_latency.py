"""Benchmark: GetRecommendations latency in process and requests per second over loopback (issue 6).

In process (boto3 through ``mock_personalize``): a User-Personalization-v2 campaign on catalogues of
1k, 100k and 750k items (every item interacted with, so every item is in the model), without a filter
and with ``EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("*")``, next to moto's own ``ListSchemas``
through boto3 (the protocol floor: moto's 4-operation Personalize backend, measured in a subprocess
that never imports localpersonalize, so moto's backend is not replaced).

Server: ``localpersonalize serve`` on loopback, sequential boto3 GetRecommendations (1k catalogue), next
to ``moto_server``'s own ListSchemas.

Cases per size: ``cold`` (the runtime's answer cache emptied before each timed request and a user not
asked before: a user's first request; what is kept per data state and shared by every user, the
exploration pool's draw table and the unfiltered eligible mask, stays, as it does for a real first
request after the group's first one) and ``repeat`` (50 users each asked before, the same
request on unchanged data: answered from the cache), without and with the filter. Also GetRecommendations
with a canned 25-item answer (boto3 + our protocol path, no model): this operation's own floor, above
ListSchemas' because boto3 builds and parses more. The server's GetRecommendations cycles 40 users (repeat
requests after the first 40).

Run:  python bench/runtime_latency.py [sizes, default 1000,100000,750000] [--calls N] [--profile]
Prints p50/p95 in ms and the ratio of p50 to the floor, with the load average before and after;
``--profile`` adds a cProfile of 50 requests per case (cumulative ms per request of the costliest
functions). To compare with an older tree: ``PYTHONPATH=<old tree> python bench/runtime_latency.py``
(without the answer cache, "cold" and "repeat" are the same path).

Note (quiet 2-core container, end of the third session): floor 0.54 ms; 100k items repeat 0.58 ms (1.1x),
filtered repeat 0.58 ms (1.1x), first request 3.2 ms (6.0x), filtered first 3.6 ms (6.6x); 750k first 14 ms.
The process's CPU of a first request is about twice its wall-clock time: OpenBLAS's second thread spins
after each per-request one-thread block is released (OPENBLAS_NUM_THREADS=1 does not make it faster).
"""

from __future__ import annotations

import json
import os
import socket
import statistics
import subprocess
import sys
import textwrap
import time

import numpy as np

ENV = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1"}
RECIPE = "arn:aws:personalize:::recipe/aws-user-personalization-v2"
FILTER = 'EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("*")'
SCHEMA = json.dumps({"type": "record", "name": "Interactions", "namespace": "com.amazonaws.personalize.schema",
                     "fields": [{"name": "USER_ID", "type": "string"}, {"name": "ITEM_ID", "type": "string"},
                                {"name": "TIMESTAMP", "type": "long"}, {"name": "EVENT_TYPE", "type": "string"}],
                     "version": "1.0"})


def rows(n_items: int, seed: int = 0):
    """Synthetic interactions: every item once, plus as many Zipf-popular ones; 20 events per user."""
    rng = np.random.default_rng(seed)
    extra = np.minimum(rng.zipf(1.3, n_items) - 1, n_items - 1)
    items = np.concatenate([np.arange(n_items), extra])
    rng.shuffle(items)
    users = np.arange(len(items)) // 20
    return users, items, 1_600_000_000 + np.arange(len(items))


FLOOR_SCRIPT = textwrap.dedent("""
    import json, statistics, sys, time
    import boto3
    from moto import mock_aws
    calls = int(sys.argv[1])
    with mock_aws():
        c = boto3.client("personalize", region_name="us-east-1")
        c.list_schemas()
        t, cpu = [], []
        for _ in range(calls):
            p, s = time.process_time(), time.perf_counter()
            c.list_schemas()
            t.append((time.perf_counter() - s) * 1000)
            cpu.append((time.process_time() - p) * 1000)
    t.sort()
    print(json.dumps([statistics.median(t), t[int(0.95 * (len(t) - 1))], statistics.median(cpu)]))
""")


def floor_in_process(calls: int) -> tuple[float, float]:
    out = subprocess.run([sys.executable, "-c", FLOOR_SCRIPT, str(calls)], capture_output=True, text=True,
                         env={**os.environ, **ENV}, check=True)
    return tuple(json.loads(out.stdout.strip().splitlines()[-1]))


def build_campaign(personalize, n_items: int, name: str):
    """A group, the interactions put straight into its columnar dataset (setup only), a UP-v2 version,
    a campaign and the filter. Returns (campaign ARN, filter ARN, user IDs, training seconds)."""
    from localpersonalize.moto_compat import store_for

    group = personalize.create_dataset_group(name=name)["datasetGroupArn"]
    schema = personalize.create_schema(name=f"{name}-schema", schema=SCHEMA)["schemaArn"]
    personalize.create_dataset(name=f"{name}-ds", schemaArn=schema, datasetGroupArn=group, datasetType="Interactions")
    data = store_for("123456789012", "us-east-1").find(group).extra["data"]
    u, i, t = rows(n_items)
    from localpersonalize.data.csv_import import parse_csv
    body = "USER_ID,ITEM_ID,TIMESTAMP,EVENT_TYPE\n" + "".join(
        f"u{a},i{b},{c},{'click' if c % 3 else 'purchase'}\n" for a, b, c in zip(u.tolist(), i.tolist(), t.tolist()))
    ds = data.dataset("INTERACTIONS")
    ds.import_bulk(parse_csv(body.encode(), ds.schema, "INTERACTIONS"))
    started = time.time()
    solution = personalize.create_solution(name=f"{name}-sol", datasetGroupArn=group, recipeArn=RECIPE,
                                           performAutoTraining=False)["solutionArn"]
    version = personalize.create_solution_version(solutionArn=solution)["solutionVersionArn"]
    while personalize.describe_solution_version(solutionVersionArn=version)["solutionVersion"]["status"] not in (
            "ACTIVE", "CREATE FAILED"):
        time.sleep(0.2)
    trained = time.time() - started
    campaign = personalize.create_campaign(name=f"{name}-c", solutionVersionArn=version)["campaignArn"]
    while personalize.describe_campaign(campaignArn=campaign)["campaign"]["status"] != "ACTIVE":
        time.sleep(0.05)
    filter_arn = personalize.create_filter(name=f"{name}-f", datasetGroupArn=group, filterExpression=FILTER)["filterArn"]
    while personalize.describe_filter(filterArn=filter_arn)["filter"]["status"] != "ACTIVE":
        time.sleep(0.05)
    return campaign, filter_arn, [f"u{k}" for k in np.unique(u)[:1000].tolist()], trained


def timed(fn, calls: int, before=None) -> tuple[float, float, float]:
    """(p50, p95 wall-clock ms, p50 CPU ms of the whole process) of ``fn(k)`` for k < calls; ``before(k)``
    runs first, outside the timing. The CPU time (``time.process_time``, every thread of the process) is
    the steadier figure on a loaded machine: it does not count the time spent waiting for a core."""
    times, cpu = [], []
    for k in range(calls):
        if before is not None:
            before(k)
        c, t = time.process_time(), time.perf_counter()
        fn(k)
        times.append((time.perf_counter() - t) * 1000)
        cpu.append((time.process_time() - c) * 1000)
    times.sort()
    return statistics.median(times), times[int(0.95 * (len(times) - 1))], statistics.median(cpu)


def in_process(sizes, calls):
    """Per size: (n, training s, {case: (p50, p95)}) with the cases ``cold`` / ``repeat`` without and with
    the filter. ``cold``: the runtime's answer cache is emptied before each timed request (what a user's
    first request, or the first after an event, costs); ``repeat``: 50 users each asked before with the
    same request on unchanged data (the cache answers). Users cycle through the first ``calls`` users."""
    import boto3

    from localpersonalize import mock_personalize
    from localpersonalize.control import serving

    os.environ.update(ENV)
    results = []
    clear = getattr(serving, "_ANSWERS", None)
    clear = (lambda k: serving._ANSWERS.clear()) if clear is not None else None
    with mock_personalize():
        personalize, rt = boto3.client("personalize"), boto3.client("personalize-runtime")
        canned = None
        for n in sizes:
            campaign, filter_arn, users, trained = build_campaign(personalize, n, f"b{n}")

            def plain(k, pick=users):
                return rt.get_recommendations(campaignArn=campaign, userId=pick[k % len(pick)])

            def filtered(k, pick=users):
                return rt.get_recommendations(campaignArn=campaign, userId=pick[k % len(pick)], filterArn=filter_arn)

            canned = canned or plain(0)
            cases = {}
            for name, fn in (("", plain), ("filter ", filtered)):
                fn(0)
                cases[name + "cold"] = timed(fn, calls, clear)
                repeat = users[:50]
                for k in range(len(repeat)):
                    fn(k, repeat)
                cases[name + "repeat"] = timed(lambda k: fn(k, repeat), calls)
            results.append((n, trained, cases))
            if PROFILE:
                profile(plain, f"{n} items, no filter, cold", before=clear)
                for k in range(50):
                    plain(k, users[:50])
                profile(lambda k: plain(k, users[:50]), f"{n} items, no filter, repeat")
                profile(filtered, f"{n} items, with the filter, cold", before=clear)
        answer = {"itemList": canned["itemList"], "recommendationId": canned["recommendationId"]}
        results.append(("canned", 0.0, {"repeat": canned_floor(rt, campaign, users, answer, calls)}))
    return results


def canned_floor(rt, campaign, users, answer: dict, calls: int) -> tuple[float, float]:
    """GetRecommendations through boto3 and our whole protocol path with a handler that returns a fixed
    25-item answer: the floor of this operation (its request and bigger answer cost more than
    ListSchemas' in boto3 itself)."""
    from localpersonalize.api import HANDLERS

    real = HANDLERS["GetRecommendations"]
    HANDLERS["GetRecommendations"] = lambda ctx, params: answer
    try:
        return timed(lambda k: rt.get_recommendations(campaignArn=campaign, userId=users[k % len(users)]), calls)
    finally:
        HANDLERS["GetRecommendations"] = real


def profile(fn, title: str, calls: int = 50, before=None) -> None:
    """cProfile of ``calls`` requests: the functions with the most cumulative time, ms per request
    (``before(k)`` runs outside the profile)."""
    import cProfile
    import pstats

    prof = cProfile.Profile()
    for k in range(calls):
        if before is not None:
            before(k)
        prof.enable()
        fn(k)
        prof.disable()
    stats = pstats.Stats(prof)
    rows = sorted(((v[3] * 1000 / calls, f"{func[0].split('/')[-1]}:{func[2]}") for func, v in stats.stats.items()),
                  reverse=True)
    print(f"profile ({title}), cumulative ms per request:")
    for ms, name in rows[:25]:
        if ms >= 0.2:
            print(f"  {ms:8.2f}  {name}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(cmd) -> subprocess.Popen:
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**os.environ, **ENV})
    return proc


def wait_port(port: int, timeout: float = 30) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"nothing listens on {port}")


def rps(fn, seconds: float = 3.0) -> float:
    n, end = 0, time.perf_counter() + seconds
    while time.perf_counter() < end:
        fn(n)
        n += 1
    return n / seconds


def server(n_items: int = 1000) -> tuple[float, float, float]:
    import boto3

    results = []
    port = free_port()
    moto_server = start([sys.executable, "-m", "moto.server", "-p", str(port)])
    try:
        wait_port(port)
        c = boto3.client("personalize", endpoint_url=f"http://127.0.0.1:{port}", **{"region_name": "us-east-1"})
        c.list_schemas()
        results.append(rps(lambda k: c.list_schemas()))
    finally:
        moto_server.terminate()
        moto_server.wait()
    port = free_port()
    ours = start([sys.executable, "-m", "localpersonalize", "serve", "--port", str(port)])
    try:
        wait_port(port)
        url = f"http://127.0.0.1:{port}"
        personalize = boto3.client("personalize", endpoint_url=url, region_name="us-east-1")
        rt = boto3.client("personalize-runtime", endpoint_url=url, region_name="us-east-1")
        s3 = boto3.client("s3", endpoint_url=url, region_name="us-east-1")
        s3.create_bucket(Bucket="bench")
        u, i, t = rows(n_items)
        body = "USER_ID,ITEM_ID,TIMESTAMP,EVENT_TYPE\n" + "".join(
            f"u{a},i{b},{c},click\n" for a, b, c in zip(u.tolist(), i.tolist(), t.tolist()))
        s3.put_object(Bucket="bench", Key="i.csv", Body=body.encode())
        group = personalize.create_dataset_group(name="srv")["datasetGroupArn"]
        schema = personalize.create_schema(name="srv", schema=SCHEMA)["schemaArn"]
        ds = personalize.create_dataset(name="srv", schemaArn=schema, datasetGroupArn=group,
                                        datasetType="Interactions")["datasetArn"]
        job = personalize.create_dataset_import_job(jobName="srv", datasetArn=ds, roleArn="arn:aws:iam::123456789012:role/r",
                                                    dataSource={"dataLocation": "s3://bench/i.csv"})["datasetImportJobArn"]
        while personalize.describe_dataset_import_job(datasetImportJobArn=job)["datasetImportJob"]["status"] != "ACTIVE":
            time.sleep(0.1)
        sol = personalize.create_solution(name="srv", datasetGroupArn=group, recipeArn=RECIPE)["solutionArn"]
        version = personalize.create_solution_version(solutionArn=sol)["solutionVersionArn"]
        while personalize.describe_solution_version(solutionVersionArn=version)["solutionVersion"]["status"] != "ACTIVE":
            time.sleep(0.1)
        campaign = personalize.create_campaign(name="srv", solutionVersionArn=version)["campaignArn"]
        while personalize.describe_campaign(campaignArn=campaign)["campaign"]["status"] != "ACTIVE":
            time.sleep(0.05)
        results.append(rps(lambda k: personalize.list_schemas()))
        results.append(rps(lambda k: rt.get_recommendations(campaignArn=campaign, userId=f"u{k % 40}")))
    finally:
        ours.terminate()
        ours.wait()
    return tuple(results)


PROFILE = False


def main() -> None:
    sizes = [1000, 100_000, 750_000]
    calls = 300
    args = sys.argv[1:]
    global PROFILE
    PROFILE = "--profile" in args
    if PROFILE:
        args.remove("--profile")
    if "--calls" in args:
        calls = int(args[args.index("--calls") + 1])
        del args[args.index("--calls"):args.index("--calls") + 2]
    if args:
        sizes = [int(s) for s in args[0].split(",")]
    floor = floor_in_process(calls)
    load = os.getloadavg()
    print(f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    print(f"protocol floor: moto's own ListSchemas through boto3 in process: p50 {floor[0]:.2f} ms, "
          f"p95 {floor[1]:.2f} ms, CPU {floor[2]:.2f} ms ({calls} calls)")
    cases = ("cold", "repeat", "filter cold", "filter repeat")
    print("per case: wall-clock p50/p95 ms (p50 / floor p50) and the process's CPU ms p50 per request")
    print(f"{'items':>8} {'train s':>8} " + " ".join(f"{c:>32}" for c in cases))
    for n, trained, got in in_process(sizes, calls):
        if n == "canned":
            p50, p95, cpu = got["repeat"]
            print(f"GetRecommendations with a canned 25-item answer (boto3 + our protocol, no model): "
                  f"p50 {p50:.2f} ms, p95 {p95:.2f} ms ({p50 / floor[0]:.2f}x floor), CPU {cpu:.2f} ms")
            continue
        cells = [f"{got[c][0]:.2f}/{got[c][1]:.2f} ({got[c][0] / floor[0]:.1f}x) cpu {got[c][2]:.2f}" for c in cases]
        print(f"{n:>8} {trained:>8.1f} " + " ".join(f"{c:>32}" for c in cells))
    load = os.getloadavg()
    print(f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    moto_rps, our_list_rps, our_rec_rps = server()
    print(f"server over loopback (sequential boto3): moto_server ListSchemas {moto_rps:.0f} req/s; "
          f"localpersonalize ListSchemas {our_list_rps:.0f} req/s, GetRecommendations (1k items, 40 users "
          f"cycled) {our_rec_rps:.0f} req/s")


if __name__ == "__main__":
    main()
