"""Personalize-holdout quality of the engine on MovieLens ml-latest-small (run by hand).

    python bench/engine_quality.py [--seeds 0,1,2,3,4] [--ratings PATH]

All ratings are treated as implicit interactions. For each seed: 90/10 user
split, oldest 90 % of each test user's events as fold-in history, newest
10 % as truth (engine/metrics.py). Prints the mean of every metric over the
seeds, the mean training time, and nDCG@10 as a ratio of the popularity
baseline measured in the same run. Then, for the full-data UP models: the
calibrated temperature, the learned repeat rate, the median/p90 top-1 score
over all users (1/n_items would be a flat softmax) and how many of user 1's
top 10 are already in their history (no exclusion).
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
    for label, alg in (("UP auto (EASE)", "auto"), ("UP iALS k=64", "ials")):
        t0 = time.perf_counter()
        model = train("aws-user-personalization", x, {}, algorithm=alg)
        secs = time.perf_counter() - t0
        top = model.recommend_many(model.histories_csr([x.history(u) for u in range(x.n_users)]), 1,
                                   exclude_seen=False)[1][:, 0]
        items, scores = model.recommend(x.history(0), 10)
        print(f"full data {label}: fit {secs:.2f} s, T {model.temperature:.4g}, repeat rate "
              f"{model.repeat_rate:.3f}, top-1 score median {np.median(top):.4f} p90 "
              f"{np.percentile(top, 90):.4f} (1/n {1 / x.n_items:.5f}); user 1: top score "
              f"{scores[0]:.4f}, {np.isin(items, x.history(0)).sum()}/10 already rated")


if __name__ == "__main__":
    main()
