"""One sort per pool, shared by the order-statistics tests (KS shape, point mass).

The battery's KS and point-mass checks both need the pool in increasing order; sorting it once here, in
the pool's own dtype (a float32 pool sorts as float32: half the bytes, and the cast to float64 is exact
and increasing, so the order is that of the float64 values), replaces the sorts that
``scipy.stats.kstest`` and ``np.unique`` each did on their own.
"""
from __future__ import annotations

from typing import Any

import numpy as np


def sorted_values(samples: Any) -> np.ndarray:
    """The values of ``samples`` flattened and sorted increasingly (numpy's default sort, as ``np.unique``
    uses), in their own dtype when it is a numpy float, else as float64.

    Shape: ``(n,)`` for ``n = samples.size``.  ``-0.0`` and ``+0.0`` compare equal, so their relative order
    is the sort's; every consumer treats them as one value.
    """
    x = np.asarray(samples).ravel()
    if x.dtype.kind != "f":
        x = x.astype(np.float64)
    return np.sort(x)


def largest_run(xs: np.ndarray) -> tuple[float, int]:
    """``(value, k)``: the value occurring most often in the sorted 1-D array ``xs`` and its count ``k``.

    Ties go to the smallest value, and values are equal as ``np.unique(xs, return_counts=True)`` counts
    them (``==``; all NaNs one value, NaNs sorted last), so the result is that of
    ``values[argmax(counts)], max(counts)``; the value is the first of its run in ``xs``.

    Raises:
        ValueError: ``xs`` is empty.
    """
    if xs.size == 0:
        raise ValueError("no values")
    starts_mask = np.empty(xs.size, dtype=bool)
    starts_mask[0] = True
    np.not_equal(xs[1:], xs[:-1], out=starts_mask[1:])
    if xs.dtype.kind == "f" and np.isnan(xs[-1]):
        # NaN != NaN: as np.unique(equal_nan=True), the NaNs sorted last are one value
        first_nan = int(np.searchsorted(xs, xs[-1:], side="left")[0])
        starts_mask[first_nan + 1:] = False
    starts = np.flatnonzero(starts_mask)
    counts = np.diff(starts, append=xs.size)
    i = int(np.argmax(counts))
    return xs[starts[i]].item(), int(counts[i])


__all__ = ["largest_run", "sorted_values"]
