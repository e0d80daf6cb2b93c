"""Quality and speed of the engine next to most-popular and the `implicit` library's ALS (run by hand).

    python bench/engine_bench.py quality [--seeds 0,1,2,3,4]   # ml-latest-small, Personalize holdout
    python bench/engine_bench.py speed [--repeat 5]            # 1M interactions, 6k users x 4k items
    python bench/engine_bench.py scale [--users 500000 --items 100000 --interactions 10000000]

``implicit`` (ALS, factors 64, 15 iterations, CG, BLAS limited to one thread as it asks) is a
benchmark-only dependency (``pip install implicit``), never imported by the package. Every engine is
measured in the same run. quality: for each seed, Personalize's holdout (engine/metrics.py: 90/10
users, newest 10 % of each test user's events as truth, history excluded), mean nDCG@10, precision@10
and training seconds over the seeds; implicit's test users are folded in with
``recalculate_user=True`` from the same histories. speed: training wall time on the synthetic matrix
of bench/engine_synthetic.py: implicit's fit, our recipe's ``engine.train`` (model + calibration probe;
EASE at this size, and with the iALS engine forced) and the bare model fits; with ``--repeat N`` every
row runs N times, rounds interleaved (implicit, ours, implicit, ...), and the medians are printed with the
1-minute load average (the machine is shared: compare old and new code by alternating runs, e.g.
``PYTHONPATH=<worktree of the old commit> python bench/engine_bench.py speed --repeat 5``). Since the
EASE probe comes from the full model's inverse (engine/ease.py ``fit_with_probe``) the recipe costs one
EASE fit plus the downdate and the calibration. scale: ``engine.train_and_evaluate`` of
User-Personalization-v2 (what a solution version runs) on the large synthetic set, wall time and peak RSS
(``ru_maxrss``).
"""
from __future__ import annotations

import argparse
import os
import resource
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
from engine_synthetic import synthetic  # noqa: E402

from localpersonalize import engine  # noqa: E402
from localpersonalize.engine import Interactions  # noqa: E402
from localpersonalize.engine.metrics import ranking_metrics, split_holdout  # noqa: E402

RATINGS = "/work/shared/data/movielens/ml-latest-small/ratings.csv"
MOVIES = "/work/shared/data/movielens/ml-latest-small/movies.csv"


def load_ml() -> tuple[Interactions, object]:
    import csv
    a = np.loadtxt(RATINGS, delimiter=",", skiprows=1)
    u = np.unique(a[:, 0], return_inverse=True)[1]
    ids, i = np.unique(a[:, 1].astype(np.int64), return_inverse=True)
    x = Interactions(u, i, a[:, 3].astype(np.int64), int(u.max()) + 1, len(ids))
    pos = {int(m): k for k, m in enumerate(ids)}
    rows, genres = [], []
    for m, _, g in list(csv.reader(open(MOVIES, encoding="utf-8")))[1:]:
        if int(m) in pos:
            rows.append(pos[int(m)])
            genres.append(g)
    feats = engine.item_features(len(ids), np.array(rows), [np.array(genres, dtype=object)])
    return x, feats


def implicit_als(train_csr, seed):
    from threadpoolctl import threadpool_limits
    import implicit
    with threadpool_limits(1, "blas"):
        m = implicit.cpu.als.AlternatingLeastSquares(factors=64, iterations=15, regularization=1.0, alpha=5.0,
                                                     random_state=seed)
        m.fit(train_csr, show_progress=False)
    return m


def quality(seeds):
    x, feats = load_ml()
    print(f"ml-latest-small: {len(x)} interactions, {x.n_users} users, {x.n_items} items; seeds {seeds}")
    ours = {
        "popularity-count": "aws-popularity-count",
        "user-personalization": "aws-user-personalization",
        "user-personalization-v2": "aws-user-personalization-v2",
        "user-personalization (iALS)": ("aws-user-personalization", "ials"),
        "personalized-ranking-v2": "aws-personalized-ranking-v2",
        "sims": "aws-sims",
        "similar-items (genres)": "aws-similar-items",
        "trending-now": "aws-trending-now",
    }
    rows = {name: [] for name in list(ours) + ["implicit ALS k=64"]}
    for s in seeds:
        split = split_holdout(x, s)
        n_cat = len(np.unique(x.item_idx))
        for name, recipe in ours.items():
            recipe, algorithm = recipe if isinstance(recipe, tuple) else (recipe, "auto")
            t0 = time.perf_counter()
            model = engine.train(recipe, split.train, {}, seed=s, item_features=feats, algorithm=algorithm)
            secs = time.perf_counter() - t0
            recs, _ = model.recommend_many(model.histories_csr(split.history_lists), 25, exclude_seen=True)
            m = ranking_metrics(recs, split.truth, n_cat)
            rows[name].append((m["normalized_discounted_cumulative_gain_at_10"], m["precision_at_10"], secs))
        t0 = time.perf_counter()
        als = implicit_als(split.train.to_csr(), s)
        secs = time.perf_counter() - t0
        H = split.history.tocsr()
        recs, _ = als.recommend(np.arange(H.shape[0]), H, N=25, filter_already_liked_items=True,
                                recalculate_user=True)
        m = ranking_metrics(recs, split.truth, n_cat)
        rows["implicit ALS k=64"].append((m["normalized_discounted_cumulative_gain_at_10"], m["precision_at_10"], secs))
    print(f"{'engine':26s} {'nDCG@10':>8s} {'P@10':>8s} {'train s':>8s}")
    for name, r in rows.items():
        r = np.array(r)
        print(f"{name:26s} {r[:, 0].mean():8.4f} {r[:, 1].mean():8.4f} {r[:, 2].mean():8.3f}")


def speed(repeat: int = 1):
    x = synthetic(6000, 4000, 1_000_000, seed=0)
    C = x.to_csr()
    print(f"synthetic: {len(x)} events, {C.nnz} distinct (user, item) pairs, 6000 x 4000; "
          f"median of {repeat} run(s), the runs of each row interleaved with implicit's")

    def timed(fn) -> float:
        t0 = time.perf_counter()
        fn()
        return time.perf_counter() - t0

    rows = {"implicit ALS k=64 15 it fit": lambda: implicit_als(C, 0),
            "EASE model fit (UP engine here)": lambda: engine.EASEModel.fit(x, l2=engine.EASE_L2),
            "UP recipe engine.train (+ probe)": lambda: engine.train("aws-user-personalization", x, {}),
            "UP recipe, iALS engine (+ probe)":
                lambda: engine.train("aws-user-personalization", x, {}, algorithm="ials"),
            "numpy iALS k=64 15 it fit": lambda: engine.IALSModel.fit(x)}
    times = {label: [] for label in rows}
    for _ in range(repeat):
        for label, fn in rows.items():
            times[label].append(timed(fn))
    t_imp = float(np.median(times["implicit ALS k=64 15 it fit"]))
    for label, ts in times.items():
        t = float(np.median(ts))
        print(f"{label:37s} {t:6.2f} s  ({t / t_imp:.2f}x implicit)  load {os.getloadavg()[0]:.2f}")


def scale(users, items, interactions):
    t0 = time.perf_counter()
    x = synthetic(users, items, interactions, seed=0)
    print(f"synthetic: {len(x)} events, {users} users, {items} items (generated in {time.perf_counter() - t0:.1f} s)")
    t0 = time.perf_counter()
    model, metrics = engine.train_and_evaluate("aws-user-personalization-v2", x, {})
    t = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2 ** 20
    print(f"train_and_evaluate UP-v2 ({type(model).__name__}): {t:.1f} s, peak RSS {peak:.2f} GiB, "
          f"nDCG@10 {metrics['normalized_discounted_cumulative_gain_at_10']:.4f}, "
          f"popularity nDCG@10 {engine.train_and_evaluate('aws-popularity-count', x, {})[1]['normalized_discounted_cumulative_gain_at_10']:.4f}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("what", choices=["quality", "speed", "scale"])
    ap.add_argument("--seeds", default="0,1,2,3,4")
    ap.add_argument("--repeat", type=int, default=1, help="speed: runs per row (median reported)")
    ap.add_argument("--users", type=int, default=500_000)
    ap.add_argument("--items", type=int, default=100_000)
    ap.add_argument("--interactions", type=int, default=10_000_000)
    a = ap.parse_args()
    if a.what == "quality":
        quality([int(s) for s in a.seeds.split(",")])
    elif a.what == "speed":
        speed(a.repeat)
    else:
        scale(a.users, a.items, a.interactions)


if __name__ == "__main__":
    main()
