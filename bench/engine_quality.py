"""Personalize-holdout quality of the engine on MovieLens ml-latest-small (run by hand).

    python bench/engine_quality.py [--seeds 0,1,2,3,4] [--ratings PATH]

All ratings are treated as implicit interactions. For each seed: 90/10 user
split, oldest 90 % of each test user's events as fold-in history, newest
10 % as truth (engine/metrics.py). Prints the mean of every metric over the
seeds, the mean training time, and nDCG@10 as a ratio of the popularity
baseline measured in the same run.
"""
from __future__ import annotations

import argparse
import time

import numpy as np

from localpersonalize.engine import Interactions, PopularityModel, train
from localpersonalize.engine.metrics import METRIC_KEYS, evaluate

DEFAULT = "/work/shared/data/movielens/ml-latest-small/ratings.csv"
SHORT = {"coverage": "cov", "mean_reciprocal_rank_at_25": "mrr@25",
         "normalized_discounted_cumulative_gain_at_5": "ndcg@5",
         "normalized_discounted_cumulative_gain_at_10": "ndcg@10",
         "normalized_discounted_cumulative_gain_at_25": "ndcg@25",
         "precision_at_5": "p@5", "precision_at_10": "p@10", "precision_at_25": "p@25"}


def load(path: str) -> Interactions:
    a = np.loadtxt(path, delimiter=",", skiprows=1)
    u = np.unique(a[:, 0], return_inverse=True)[1]
    i = np.unique(a[:, 1], return_inverse=True)[1]
    return Interactions(u, i, a[:, 3].astype(np.int64), int(u.max()) + 1, int(i.max()) + 1)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ratings", default=DEFAULT)
    ap.add_argument("--seeds", default="0,1,2,3,4")
    args = ap.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    x = load(args.ratings)
    print(f"{args.ratings}: {len(x)} interactions, {x.n_users} users, {x.n_items} items; seeds {seeds}")

    engines = {
        "popularity-count": lambda tr, s: PopularityModel.fit(tr),
        "UP auto (EASE)": lambda tr, s: train("aws-user-personalization", tr, {}, seed=s),
        "UP-v2 auto (EASE)": lambda tr, s: train("aws-user-personalization-v2", tr, {}, seed=s),
        "UP EASE no recency": lambda tr, s: train("aws-user-personalization", tr, {"recency_mask": "false"}, seed=s),
        "UP iALS k=64": lambda tr, s: train("aws-user-personalization", tr, {}, seed=s, algorithm="ials"),
        "UP iALS no recency": lambda tr, s: train("aws-user-personalization", tr, {"recency_mask": "false"},
                                                  seed=s, algorithm="ials"),
        "sims (item-kNN)": lambda tr, s: train("aws-sims", tr, {}, seed=s),
    }
    print(f"{'engine':22s} {'fit s':>6s} " + " ".join(f"{SHORT[k]:>7s}" for k in METRIC_KEYS) + "  ndcg@10/pop")
    base = None
    for name, fn in engines.items():
        rows, secs = [], []
        for s in seeds:
            m, d = evaluate(lambda tr: fn(tr, s), x, s, return_details=True)
            rows.append([m[k] for k in METRIC_KEYS])
            secs.append(d["train_seconds"])
        mean = np.mean(rows, axis=0)
        nd = mean[METRIC_KEYS.index("normalized_discounted_cumulative_gain_at_10")]
        base = nd if base is None else base
        print(f"{name:22s} {np.mean(secs):6.2f} " + " ".join(f"{v:7.4f}" for v in mean) + f"  {nd / base:5.2f}x")
    t0 = time.perf_counter()
    train("aws-user-personalization", x, {})
    t1 = time.perf_counter()
    train("aws-user-personalization", x, {}, algorithm="ials")
    t2 = time.perf_counter()
    print(f"full-data training: UP auto (EASE) {t1 - t0:.2f} s, iALS k=64 15 it {t2 - t1:.2f} s")


if __name__ == "__main__":
    main()
