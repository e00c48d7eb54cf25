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
``nonzero-mean``            ... and its values share a mean significantly away from 0,   error (note
                            every scheme's: rows ``μ·1 + ε`` have cosine μ²/(μ²+σ²),     below 10 std)
                            nearly collinear from |μ| = 10 σ (:mod:`~invariants.
                            modelcheck.mean_offset`)
``inconsistent-scale``      no fan rule explains the unmatched layers together (e.g.     error
                            std squared: right only at std = 1)
``extreme-values``          entries beyond the exact extreme-value bound of the tensor's  error
                            own robust scale (a clamp at a wrong bound, a corrupted write)
``fan-swap``                its siblings' fan-mode scheme rejects the tensor while the    error
                            same scheme with fan_in and fan_out swapped fits it
``peer-scale``              > 10x off the variance of the scheme its siblings follow      error (note if
                            (one block at std 0.02² among blocks at 0.02), > 10x above   it feeds a norm
                            the scale its block's other roles share (Llama o_proj x10),  or is the output
                            or above every scheme beside depth-scaled roles (CLIP fc2    layer)
                            x10): :mod:`invariants.modelcheck.block_roles`; every expert
                            > 10x below its block's shared scale (:mod:`~invariants.
                            modelcheck.expert_scale`)
``magnitude-scale``         a weight-normed layer's magnitude g = c·‖v‖ in every slice,  error
                            c² > 10, its direction v at a named scheme: g multiplied
                            after the wrap (:mod:`invariants.modelcheck.magnitude`)
``peer-scheme``             its siblings' scheme rejects it, no fan swap explains it      note
``implausible-fixed-std``   a shared fixed std no source declares that shrinks every      error
                            layer, or the square of a plausible std
``packed-orthogonal``       orthogonal as a whole packed matrix, no block orthogonal      note
``signal-forward/backward`` second moments change > 100x (error) / 10x (note) across     error/note
                            the hidden stack beyond the sampling band; a constant output
``non-finite``              a parameter holds NaN or ±inf (the other checks skip it)       error
``expectation``             a tensor fails the scheme ``--expect PATTERN=SPEC`` states     error
                            for it (:mod:`invariants.modelcheck.expect`)
==========================  ===========================================================  ============

**Errors** break training (dead or interchangeable for ever, exponential signal, a cut signal) or are
wiring faults no scheme produces on purpose (copies, random-role tensors left constant outside the two
known zero-init patterns).  **Notes** are unusual but harmless, or known good practice.

**Coverage, never silent** (:mod:`invariants.modelcheck.coverage`): every parameter tensor is either
analysed — weights, embeddings and recurrent matrices with layer semantics (variance table, copies,
constants, units), biases and norm parameters (the constant / conventional-value checks) — or listed as
not analysed with the reason (class/position tokens, position tables, LayerScale γ, relative-position
bias tables, weights of layers the extractor does not know).  Tied tensors (GPT-2's ``lm_head.weight``
= ``transformer.wte.weight``) are checked and counted once and named as tied.  The verdict line states
the analysed share of tensors and values and whether signal propagation was checked.

**Status and exit code** (:attr:`ModelReport.status`, ``invariants check-model``):

==============  ====  ==========================================================================
status          exit  when
==============  ====  ==========================================================================
``healthy``     0     no errors (notes allowed), at least ``min_coverage`` (default 95%) of the
                      parameter values analysed, and the probe ran (or ``--no-probe`` asked it not
                      to: the verdict then says signal propagation was not checked, by request)
``unhealthy``   1     at least one error, whatever the coverage
(bad input)     2     unimportable target, unsupported object, a framework that is not installed
                      or not the model's, or a crash: one line on stderr, no traceback
``incomplete``  3     no errors, but too little analysed or the probe could not run (signal
                      propagation: not checked, and why): not a pass
==============  ====  ==========================================================================

The probe input is the user's (positional, a tuple, or a dict of keyword inputs), else inferred: a
HuggingFace ``config`` (``pixel_values`` of ``image_size``/``num_channels``; ``input_ids`` below
``vocab_size``, plus ``decoder_input_ids`` for encoder-decoders), a declared image size (torchvision and
timm ViTs), else the first layer (a conv gets the smallest side its network accepts).

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
