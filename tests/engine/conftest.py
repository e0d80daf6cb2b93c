import numpy as np
import pytest

from localpersonalize.engine import Interactions

ML_SMALL = "/work/shared/data/movielens/ml-latest-small/ratings.csv"


def make_two_groups(n_users=60, n_items=100, per_user=20, seed=0):
    """Users 0..n/2-1 only touch items 0..n_items/2-1, the rest only the other half."""
    rng = np.random.default_rng(seed)
    half_u, half_i = n_users // 2, n_items // 2
    users, items = [], []
    for u in range(n_users):
        base = 0 if u < half_u else half_i
        # skewed within-group popularity so the group structure is learnable but not trivial
        p = 1.0 / np.arange(1, half_i + 1) ** 0.5
        chosen = rng.choice(half_i, size=per_user, replace=False, p=p / p.sum()) + base
        users += [u] * per_user
        items += list(chosen)
    ts = np.arange(len(users), dtype=np.int64) * 60 + 1_600_000_000
    return Interactions(np.array(users), np.array(items), ts, n_users, n_items)


@pytest.fixture
def two_groups():
    return make_two_groups()


def load_movielens_small(path=ML_SMALL):
    a = np.loadtxt(path, delimiter=",", skiprows=1)
    u = np.unique(a[:, 0], return_inverse=True)[1]
    i = np.unique(a[:, 1], return_inverse=True)[1]
    return Interactions(u, i, a[:, 3].astype(np.int64), int(u.max()) + 1, int(i.max()) + 1)


@pytest.fixture
def two_groups_factory():
    return make_two_groups


@pytest.fixture(scope="session")
def ml_small():
    import os
    if not os.path.exists(ML_SMALL):
        pytest.skip("ml-latest-small not available")
    return load_movielens_small()
