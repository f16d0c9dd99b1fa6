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


class GroupFolds:
    """Outer folds over trials grouped by label (the word), with inner grouped folds.

    ``folds`` : "loo" (one fold per distinct label) or k (labels dealt round-robin, in
    order of first appearance, to k folds). Folds are lists of trial indices.
    """

    def __init__(self, labels, folds):
        labels = np.asarray(labels)
        uniq, first, inverse = np.unique(labels, return_index=True, return_inverse=True)
        rank = np.argsort(np.argsort(first))          # label order of first appearance
        n_labels = len(uniq)
        k = n_labels if folds == "loo" else int(folds)
        if not 2 <= k <= n_labels:
            raise ValueError(f"folds must be 'loo' or an integer in [2, {n_labels}] (the "
                             f"number of distinct words), got {folds!r}")
        self.fold_of = rank[inverse] % k
        self.folds = [np.flatnonzero(self.fold_of == f) for f in range(k)]
        self.label_rank = rank[inverse]

    def __len__(self):
        return len(self.folds)

    def with_inner(self, k):
        """Yield (test trials, list of inner test-trial arrays): the training trials'
        labels dealt round-robin to min(k, their count) inner folds."""
        for test in self.folds:
            train = np.setdiff1d(np.arange(len(self.fold_of)), test)
            ranks = np.unique(self.label_rank[train])
            k_in = min(k, len(ranks))
            inner_of = np.searchsorted(ranks, self.label_rank[train]) % k_in
            yield test, [train[inner_of == i] for i in range(k_in)]


def group_folds(labels, folds):
    """:class:`GroupFolds` of the trials with ``labels`` (n_trials,)."""
    return GroupFolds(labels, folds)
