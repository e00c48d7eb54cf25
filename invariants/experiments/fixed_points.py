"""Points fixed by a permutation of hidden units, for the SYM-EQUIV-01 property.

A permutation π of the units of hidden layer l generates a group G = ⟨π⟩ acting on the parameters
(:func:`invariants.reference.permute_hidden`); θ is in Fix(G) exactly when every cycle of π is a class
of interchangeable units (equal incoming rows, biases, norm scales and shifts, outgoing columns).
"""
from __future__ import annotations

import numpy as np

from invariants.reference import Architecture
from invariants.reference.network import Params


def cycles(perm: np.ndarray) -> list[tuple[int, ...]]:
    """The cycles of the permutation ``perm`` (j ↦ perm[j]) as tuples starting at their smallest member,
    ordered by it; fixed points are 1-cycles."""
    seen, out = set(), []
    for start in range(len(perm)):
        if start in seen:
            continue
        cyc, j = [], start
        while j not in seen:
            seen.add(j)
            cyc.append(j)
            j = int(perm[j])
        out.append(tuple(cyc))
    return out


def project_to_fixed(arch: Architecture, params: Params, layer: int, perm: np.ndarray) -> Params:
    """``params`` moved into Fix(⟨perm⟩) of hidden layer ``layer``: every member of a cycle gets the
    unit parameters of the cycle's first member (row of W_l; entry of b_l, g_l, s_l; column of
    W_{l+1}).  Returns copies; raises ``ValueError`` for a layer that is not hidden."""
    if layer not in arch.hidden_layers:
        raise ValueError(f"layer {layer} is not a hidden layer (hidden layers: {list(arch.hidden_layers)})")
    out = {k: v.copy() for k, v in params.items()}
    for cyc in cycles(perm):
        lead, rest = cyc[0], list(cyc[1:])
        out[f"W{layer}"][rest, :] = out[f"W{layer}"][lead, :]
        for name in (f"b{layer}", f"g{layer}", f"s{layer}"):
            if name in out:
                out[name][rest] = out[name][lead]
        out[f"W{layer + 1}"][:, rest] = out[f"W{layer + 1}"][:, [lead]]
    return out
