import numpy as np
import pytest

from localpersonalize.engine import Interactions, from_arrays


def test_csr_binarises_duplicates_by_default():
    x = from_arrays([0, 0, 0, 1], [2, 2, 1, 0], n_users=2, n_items=3)
    m = x.to_csr()
    assert m.dtype == np.float32 and m.shape == (2, 3)
    assert m.toarray().tolist() == [[0, 1, 1], [1, 0, 0]]


def test_csr_sums_duplicates_when_not_binary():
    x = from_arrays([0, 0, 0, 1], [2, 2, 1, 0], n_users=2, n_items=3)
    assert x.to_csr(binary=False).toarray().tolist() == [[0, 1, 2], [1, 0, 0]]


def test_user_history_in_time_order_ties_keep_input_order():
    x = from_arrays([1, 0, 1, 1, 0], [5, 1, 3, 4, 2], timestamp=[30, 10, 10, 10, 5], n_users=2, n_items=6)
    indptr, items = x.user_histories()
    assert items[indptr[0]:indptr[1]].tolist() == [2, 1]
    assert items[indptr[1]:indptr[2]].tolist() == [3, 4, 5]
    assert x.history(1).tolist() == [3, 4, 5]


def test_out_of_range_index_rejected():
    with pytest.raises(ValueError, match="item_idx out of range"):
        Interactions(np.array([0]), np.array([3]), np.array([0]), 1, 3)
    with pytest.raises(ValueError, match="length mismatch"):
        Interactions(np.array([0, 1]), np.array([0]), np.array([0]), 2, 3)
