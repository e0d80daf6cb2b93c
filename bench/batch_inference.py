"""Benchmark: batch inference throughput (users per second) at 10k and 100k users (issue 7 §5).

In process (boto3 through ``mock_personalize``): synthetic interactions (every user 10 events over a
10k-item catalogue, Zipf-popular items), a User-Personalization solution version (iALS: more than 3000
users and items), then a batch inference job over every user (``{"userId"}`` lines, numResults 25):
time from CreateBatchInferenceJob to ACTIVE, including reading the input from and writing the output to
moto's S3. Baseline, measured in the same run on a sample of users: the runtime's per-user path
(control/serving.py ``recommend_codes``: one fold-in and one ranking per user, as GetRecommendations), which is what a job serving line by
line would cost.

Run:  python bench/batch_inference.py [user counts, default 10000,100000] [--items 10000] [--out PREFIX]
Prints users/s of the job and of the per-user baseline, and their ratio. ``--out PREFIX`` writes each job's
``.out`` body to ``PREFIX.<users>.out``, so the output of two commits can be compared byte for byte
(``cmp``). Compare before/after by running
the same script with ``PYTHONPATH=<git worktree of the older commit>`` alternately in the same minutes
(``OPENBLAS_NUM_THREADS=1`` as in RESULTS.md); the machine's load moves these figures by 2-3x.

Where a 10k-user job's time goes since the output lines are built from the block's arrays (cProfile of
api/batch._inference_lines, load ~0.9, 1.4 s without the profiler): the iALS fold-in and ``U @ Vᵀ``
(engine/ials.py ``affinity_many``) about 40%; the group rule's log-sum-exp (``exp`` of the block) 12%; the
threshold top-k 14%; exploration 10%; the users' histories (one ``user_items`` lookup per user) 10%; the
output lines 11% (mostly the encoder's float ``repr``); garbage collection none (one young collection per
job; before: two full collections, 0.16 s). Blocks of 2M score cells are the fastest size measured
(0.5M: +35%, 4M: +13%).
"""

from __future__ import annotations

import json
import os
import sys
import time

import numpy as np

ENV = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1"}
RECIPE = "arn:aws:personalize:::recipe/aws-user-personalization"
ROLE = "arn:aws:iam::123456789012:role/r"
SCHEMA = json.dumps({"type": "record", "name": "Interactions", "namespace": "com.amazonaws.personalize.schema",
                     "fields": [{"name": "USER_ID", "type": "string"}, {"name": "ITEM_ID", "type": "string"},
                                {"name": "TIMESTAMP", "type": "long"}], "version": "1.0"})


def wait(describe, key):
    while True:
        record = describe()[key]
        if record["status"] in ("ACTIVE", "CREATE FAILED"):
            assert record["status"] == "ACTIVE", record.get("failureReason")
            return record
        time.sleep(0.05)


def run(n_users: int, n_items: int, out_path: str | None = None) -> dict:
    import boto3

    from localpersonalize import mock_personalize
    from localpersonalize.api import batch
    from localpersonalize.control import serving
    from localpersonalize.moto_compat import store_for

    rng = np.random.default_rng(0)
    users = np.repeat(np.arange(n_users), 10)
    items = np.minimum(rng.zipf(1.2, len(users)) - 1, n_items - 1)
    items[:n_items] = np.arange(n_items)  # every item in the model
    csv = "USER_ID,ITEM_ID,TIMESTAMP\n" + "".join(
        f"u{u},i{i},{1_600_000_000 + k}\n" for k, (u, i) in enumerate(zip(users.tolist(), items.tolist())))
    with mock_personalize():
        s3, p = boto3.client("s3"), boto3.client("personalize")
        s3.create_bucket(Bucket="bench")
        s3.put_object(Bucket="bench", Key="interactions.csv", Body=csv.encode())
        group = p.create_dataset_group(name="bench")["datasetGroupArn"]
        schema = p.create_schema(name="bench", schema=SCHEMA)["schemaArn"]
        ds = p.create_dataset(name="bench", schemaArn=schema, datasetGroupArn=group,
                              datasetType="Interactions")["datasetArn"]
        job = p.create_dataset_import_job(jobName="bench", datasetArn=ds, roleArn=ROLE,
                                          dataSource={"dataLocation": "s3://bench/interactions.csv"})
        wait(lambda: p.describe_dataset_import_job(datasetImportJobArn=job["datasetImportJobArn"]),
             "datasetImportJob")
        t = time.perf_counter()
        solution = p.create_solution(name="bench", datasetGroupArn=group, recipeArn=RECIPE,
                                     performAutoTraining=False)["solutionArn"]
        version = p.create_solution_version(solutionArn=solution)["solutionVersionArn"]
        wait(lambda: p.describe_solution_version(solutionVersionArn=version), "solutionVersion")
        train_s = time.perf_counter() - t
        s3.put_object(Bucket="bench", Key="in/users.json",
                      Body="".join(json.dumps({"userId": f"u{u}"}) + "\n" for u in range(n_users)).encode())
        t = time.perf_counter()
        arn = p.create_batch_inference_job(
            jobName="bench", solutionVersionArn=version, roleArn=ROLE,
            jobInput={"s3DataSource": {"path": "s3://bench/in/users.json"}},
            jobOutput={"s3DataDestination": {"path": "s3://bench/out/"}})["batchInferenceJobArn"]
        wait(lambda: p.describe_batch_inference_job(batchInferenceJobArn=arn), "batchInferenceJob")
        job_s = time.perf_counter() - t
        body = s3.get_object(Bucket="bench", Key="out/users.json.out")["Body"].read()
        if out_path:
            with open(out_path, "wb") as f:
                f.write(body)
        out = body.decode().splitlines()
        assert len(out) == n_users and len(json.loads(out[-1])["output"]["recommendedItems"]) == 25

        store = store_for("123456789012", "us-east-1")
        with store.lock:
            v = store.find(version)
            served = batch._served(store, v, batch.recipe_for(v.record["recipeArn"]))
        sample = min(n_users, 1000)
        t = time.perf_counter()
        allowed = np.ones(served.n_catalogue, bool)
        for u in range(sample):
            serving.recommend_codes(served, f"u{u}", 25, allowed)
        per_user_s = (time.perf_counter() - t) / sample
    return {"users": n_users, "items": n_items, "train_s": train_s, "job_s": job_s,
            "job_users_per_s": n_users / job_s, "per_user_users_per_s": 1 / per_user_s,
            "speedup": (1 / per_user_s) and (n_users / job_s) * per_user_s}


def main(argv):
    os.environ.update(ENV)
    args = [a for a in argv if not a.startswith("--")]
    n_items = int(argv[argv.index("--items") + 1]) if "--items" in argv else 10_000
    if "--items" in argv:
        args.remove(str(n_items))
    out_prefix = argv[argv.index("--out") + 1] if "--out" in argv else None
    if out_prefix:
        args.remove(out_prefix)
    sizes = [int(x) for x in (args[0].split(",") if args else ["10000", "100000"])]
    print("| users | items | training s | job s | job users/s | per-user path users/s | job / per-user |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for n in sizes:
        r = run(n, n_items, out_prefix and f"{out_prefix}.{n}.out")
        print(f"| {r['users']:,} | {r['items']:,} | {r['train_s']:.1f} | {r['job_s']:.1f} | "
              f"{r['job_users_per_s']:,.0f} | {r['per_user_users_per_s']:,.0f} | {r['speedup']:.1f}× |", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
