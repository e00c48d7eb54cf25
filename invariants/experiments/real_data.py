"""Real data: the small data sets shipped inside scikit-learn, and constant- vs random-init runs on them.

scikit-learn is optional: :func:`real_data` raises ``ImportError`` when it is missing, and the evidence
that uses it reports that instead of failing with a traceback.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np

from invariants.reference import Architecture, init_params, make_optimizer, predict, random_params, train
from invariants.symmetry import hidden_tied


@lru_cache(maxsize=None)
def real_data(name: str, n: int | None = None, seed: int = 0):
    """A data set shipped inside scikit-learn (``"iris"``: 150 × 4, 3 classes; ``"digits"``: 1797 × 64,
    10 classes; ``"breast_cancer"``: 569 × 30, 2 classes), shuffled with ``default_rng(seed)``, cut to
    the first ``n`` examples, split 70/30 and standardized with the training statistics.  Returns
    (x_train, y_train, x_test, y_test).  Raises ``ImportError`` when scikit-learn is missing."""
    from sklearn import datasets

    data = {"iris": datasets.load_iris, "digits": datasets.load_digits,
            "breast_cancer": datasets.load_breast_cancer}[name]()
    idx = np.random.default_rng(seed).permutation(len(data.target))[:n]
    x, y = data.data[idx].astype(np.float64), data.target[idx].astype(np.int64)
    cut = int(0.7 * len(y))
    mu, sd = x[:cut].mean(axis=0), x[:cut].std(axis=0)
    x = (x - mu) / np.where(sd > 0, sd, 1.0)
    return x[:cut], y[:cut], x[cut:], y[cut:]


@lru_cache(maxsize=None)
def real_data_run(name: str, init: str, n: int | None = None, width: int = 4, steps: int = 100):
    """Train a (d, width, classes) tanh softmax net with Adam (lr 0.05, full batch) from ``init`` =
    ``"constant"`` (weights 0.5, biases 0; exact kernel, so that the tie is checked bitwise) or
    ``"random"`` (LeCun normal, seed 1; BLAS kernel, faster, and no tie to keep); returns (train
    accuracy, test accuracy, hidden layer still tied)."""
    xtr, ytr, xte, yte = real_data(name, n)
    arch = Architecture((xtr.shape[1], width, int(ytr.max()) + 1), "tanh", "softmax_xent",
                        kernel="exact" if init == "constant" else "blas")
    params = init_params(arch, 0.5, 0.0) if init == "constant" else random_params(arch, np.random.default_rng(1))
    result = train(arch, params, xtr, ytr, make_optimizer("adam", lr=0.05), steps)

    def acc(x, y):
        return float(np.mean(predict(arch, result.params, x).argmax(axis=1) == y))

    return acc(xtr, ytr), acc(xte, yte), hidden_tied(arch, result.params)
