"""Whole-model initialization health check (``invariants check-model``, :func:`check_model`).

Most shipped init faults are in how a model wires its initializers, not in the initializers: two layers
given bit-identical weights (one seeded initializer instance reused), an embedding table zeroed by a
helper, a layer left at zero between two others, identity-style inits that leave most channels dead
on grouped convs, orthogonal init applied to a packed gate matrix, a custom init whose std is right
only at std = 1.  The check reduces a PyTorch, Keras, Flax or reference-network model to named tensors
with layer semantics (:mod:`invariants.frameworks`, :class:`~invariants.frameworks.model.ModelView`),
runs one probe batch forward and backward, and reports:

==========================  ===========================================================  ============
finding                     rule                                                         severity
==========================  ===========================================================  ============
``identical-tensors``       two separately initialized tensors (or packed blocks) are    error
                            bit-identical
``constant-tensor``         a weight/embedding/recurrent tensor is all-zero or constant  error
                            (also a zero branch layer whose siblings in the other
                            blocks are random: one block's projection zeroed)
``zero-output-layer``       ... but it is the output layer and other weights are random  note
``zero-residual-branch``    ... but a skip path carries the signal past it and no        note
                            sibling block has it random (or a zero norm scale, zero-γ)
``padding-row``             an embedding's declared padding row is zero (excluded from   note
                            the variance test)
``dead-units``              units with all-zero incoming weights output a constant; dead error (note if
                            for ever when φ'(c) = 0 (ReLU at c <= 0)                    all revive)
``interchangeable-units``   units with identical incoming *and* outgoing weights:        error
                            copies for ever
``duplicated-units``        units of a random tensor with bit-identical incoming weights error
                            no chance explains (a helper copied a filter)
``tied-units``              identical incoming, different outgoing, few values (chance   note
                            may explain them): training separates
``variance``                a tensor matches none of the named schemes on its fans       note
``inconsistent-scale``      no fan rule explains the unmatched layers together (e.g.     error
                            std squared: right only at std = 1)
``packed-orthogonal``       orthogonal as a whole packed matrix, no block orthogonal      note
``signal-forward/backward`` second moments change > 100x (error) / 10x (note) across     error/note
                            the hidden stack beyond the sampling band; a constant output
==========================  ===========================================================  ============

**Errors** break training (dead or interchangeable for ever, exponential signal, a cut signal) or are
wiring faults no scheme produces on purpose (copies, random-role tensors left constant outside the two
known zero-init patterns).  **Notes** are unusual but harmless, or known good practice.  Healthy = no
errors; ``invariants check-model`` exits 0 (notes allowed), 1 (errors), 2 (bad input).

Every finding names the parameters and carries its figures; the report also has a per-tensor table
(variance, ``Var·fan_in``, the named schemes that match, the smallest variance error the tensor's size
can detect) and the per-layer forward/backward profile.
"""
from __future__ import annotations

from typing import Any

from invariants.modelcheck.profiles import FAST, PROFILES, THOROUGH, Profile, current, get_profile, use_profile

__all__ = [
    "FAST", "PROFILES", "THOROUGH", "BadModel", "Finding", "FrameworkMissing", "ModelReport", "Profile",
    "check_model", "current", "get_profile", "load_target", "model_view", "use_profile",
]


def __getattr__(name: str) -> Any:
    if name in ("check_model", "load_target", "check_view", "model_view"):
        from invariants.modelcheck import check

        return getattr(check, name)
    if name in ("BadModel", "FrameworkMissing"):
        from invariants.frameworks import errors

        return getattr(errors, name)
    if name in ("Finding", "ModelReport", "TensorRow"):
        from invariants.modelcheck import report

        return getattr(report, name)
    raise AttributeError(f"module 'invariants.modelcheck' has no attribute {name!r}")
