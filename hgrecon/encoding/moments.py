"""Per-fold centred cross-products, by downdating the full-data sums.

Holding out a fold's rows changes X'X and X'Y by a low-rank term, so the training
moments of every fold come from the full sums minus the test rows' contribution,
never from a refit over the training rows. Data are centred on their global means
first, which keeps the downdate well conditioned for unscaled embeddings.
"""

from dataclasses import dataclass

import numpy as np


@dataclass
class FoldMoments:
    """Centred training moments of one fold.

    gram : (p, p) Xc'Xc; cross : (p, m) Xc'Yc; yy : (m,) ||Yc||^2 per column;
    x_mean : (p,); y_mean : (m,) training means (in the original units);
    n_train : int; test : (t,) test row indices.
    """

    gram: np.ndarray
    cross: np.ndarray
    yy: np.ndarray
    x_mean: np.ndarray
    y_mean: np.ndarray
    n_train: int
    test: np.ndarray


def fold_moments(X, Y, folds):
    """Yield :class:`FoldMoments` for each fold (test indices) of a fixed design.

    X : (n, p) design; Y : (n, m) targets; folds : list of test-index arrays.
    """
    x0, y0 = X.mean(0), Y.mean(0)
    Xc, Yc = X - x0, Y - y0
    xx, xy, yy = Xc.T @ Xc, Xc.T @ Yc, (Yc * Yc).sum(0)
    sx, sy = Xc.sum(0), Yc.sum(0)
    n = X.shape[0]
    for test in folds:
        xt, yt = Xc[test], Yc[test]
        n_tr = n - len(test)
        mx = (sx - xt.sum(0)) / n_tr
        my = (sy - yt.sum(0)) / n_tr
        yield FoldMoments(
            gram=xx - xt.T @ xt - n_tr * np.outer(mx, mx),
            cross=xy - xt.T @ yt - n_tr * np.outer(mx, my),
            yy=yy - (yt * yt).sum(0) - n_tr * my * my,
            x_mean=mx + x0,
            y_mean=my + y0,
            n_train=n_tr,
            test=test,
        )
