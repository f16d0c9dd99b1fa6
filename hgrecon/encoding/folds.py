"""Cross-validation folds grouped by word, and the permutations shared by every model."""

import numpy as np


def leave_one_group_out(groups):
    """Folds of ``sklearn.model_selection.LeaveOneGroupOut`` order: one per unique group.

    groups : array (n,) of labels (the word). Returns a list of test-index arrays, in the
    order of the sorted unique labels, as scikit-learn does.
    """
    groups = np.asarray(groups)
    labels, inverse = np.unique(groups, return_inverse=True)
    if len(labels) < 3:
        raise ValueError(f"leave-one-group-out needs at least 3 groups, got {len(labels)}")
    return [np.flatnonzero(inverse == g) for g in range(len(labels))]


def permutations(n, n_perm, seed):
    """(n_perm, n) int array: row permutations of the targets (identity not included).

    Shuffling the word-to-embedding assignment equals shuffling target rows against a
    fixed design, so each permutation is applied to the targets only.
    """
    rng = np.random.default_rng(seed)
    return np.array([rng.permutation(n) for _ in range(n_perm)], dtype=np.int64).reshape(n_perm, n)
