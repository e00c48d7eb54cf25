"""Symmetry primitives: interchangeable hidden units, symmetry defect, stabilizer order.

Hidden unit j of layer l is described by its *signature*: its incoming row W_l[j, :], its bias b_l[j]
and its outgoing column W_{l+1}[:, j].  Two units are **interchangeable** (swapping them, with every
other unit fixed, leaves the parameters and hence the function, the loss and the whole training
trajectory unchanged) **only if all three agree** — equal incoming weights alone are not enough: units
with identical rows but different outgoing columns (or biases) receive different gradients and drift
apart.  Signatures are compared bit for bit (``-0.0`` and ``+0.0`` differ), the equality the exact
reference kernel preserves.

The **stabilizer** of θ in the group of single-layer hidden-unit permutations has order
∏_l ∏_{classes c of layer l} |c|!.  Permutations of two adjacent layers applied together can fix θ
when neither does alone, so the stabilizer in the full product group S_{n_1} × … × S_{n_{L-1}} can be
larger; :func:`stabilizer_order` reports the single-layer one, a lower bound, and says so.

The **symmetry defect** of a later state θ' relative to classes found at an earlier state is
max over classes and members of ‖sig_j(θ') − sig_rep(θ')‖_∞: exactly 0 while the classes stay tied.
"""
from __future__ import annotations

import math
from collections import defaultdict

import numpy as np

from invariants.reference.network import Architecture, Params

Classes = list[tuple[int, ...]]


def unit_signatures(arch: Architecture, params: Params, layer: int) -> np.ndarray:
    """Array (n_l, n_{l-1} + [1] + n_{l+1}): row j is unit j's incoming row, bias, outgoing column."""
    if layer not in arch.hidden_layers:
        raise ValueError(f"layer {layer} is not a hidden layer (hidden layers: {list(arch.hidden_layers)})")
    parts = [params[f"W{layer}"]]
    if f"b{layer}" in params:
        parts.append(params[f"b{layer}"][:, None])
    parts.append(params[f"W{layer + 1}"].T)
    return np.concatenate(parts, axis=1)


def unit_classes(arch: Architecture, params: Params, layer: int) -> Classes:
    """Partition of layer ``layer``'s units into classes of bitwise-identical signatures.

    Returns tuples of unit indices, each sorted, ordered by their first member.
    """
    sig = np.ascontiguousarray(unit_signatures(arch, params, layer))
    groups: dict[bytes, list[int]] = defaultdict(list)
    for j, row in enumerate(sig):
        groups[row.tobytes()].append(j)
    return sorted(tuple(g) for g in groups.values())


def all_classes(arch: Architecture, params: Params) -> dict[int, Classes]:
    """Layer index → unit classes, for every hidden layer."""
    return {l: unit_classes(arch, params, l) for l in arch.hidden_layers}


def symmetric_classes(classes: dict[int, Classes]) -> dict[int, Classes]:
    """Only the classes with more than one member (the ties), per layer."""
    return {l: [c for c in cs if len(c) > 1] for l, cs in classes.items()}


def is_symmetric(arch: Architecture, params: Params) -> bool:
    """True when some hidden layer has two interchangeable units."""
    return any(symmetric_classes(all_classes(arch, params)).values())


def symmetry_defect(arch: Architecture, params: Params, classes: dict[int, Classes]) -> float:
    """Largest |difference| (parameter units) between members of a class, over all given classes.

    ``classes`` usually comes from :func:`all_classes` at initialization; 0.0 means every class that
    started tied is still tied bit for bit (up to ±0).
    """
    worst = 0.0
    for layer, cs in classes.items():
        sig = unit_signatures(arch, params, layer).astype(np.float64)
        for c in cs:
            if len(c) > 1:
                worst = max(worst, float(np.max(np.abs(sig[list(c)] - sig[c[0]]))))
    return worst


def stabilizer_order(classes: dict[int, Classes]) -> int:
    """∏ over layers and classes of |class|! — the order of the stabilizer within single-layer
    unit permutations (a lower bound on the stabilizer in the full product of layer permutation
    groups, see the module docstring).  1 means no two units of any layer are interchangeable."""
    return math.prod(math.factorial(len(c)) for cs in classes.values() for c in cs)
