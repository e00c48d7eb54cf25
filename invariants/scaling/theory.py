"""Expected second-moment slopes against width, from the parametrization (SP or μP) and the optimizer.

Parametrizations (per layer position: ``input`` = fan-in fixed, fan-out ∝ width; ``hidden`` = both ∝ width;
``output`` = fan-in ∝ width, fan-out fixed), learning rate ``η`` independent of width:

- ``sp`` (standard parametrization, PyTorch's default): every weight ``Var = c/fan_in``, every layer at rate η.
- ``mup`` (maximal update parametrization, Yang et al. 2022, "Tensor Programs V", Table 3, following Yang & Hu
  2021, "Tensor Programs IV"): input and hidden weights ``Var = c/fan_in``, output weights ``Var = c/fan_in²``;
  SGD rates: input ``η·fan_out``, hidden ``η``, output ``η/fan_in``; Adam rates: input ``η``, hidden and
  output ``η/fan_in``.

Slopes (second moment, log2 per log2 width; RMS slopes are half), derived for the linear loss of
:mod:`invariants.frameworks.torch.scaling` (output gradient Θ(1) per coordinate) at step 1, where SGD's update is
``−η g`` and Adam's is ``−η·sign(g)``: ``ΔW·x`` sums ``fan_in`` terms correlated with ``x``, so it scales like
``rate × |per-entry step| × fan_in``.  With the backpropagated gradient per hidden coordinate
``Θ(n^{-1/2})`` under SP (output weights ``~n^{-1/2}``) and ``Θ(n^{-1})`` under μP (``~n^{-1}``):

================  ============  ============  ============
``ΔW·x`` slope    input         hidden        output
================  ============  ============  ============
SP, SGD           −1            +1            +2
SP, Adam          0             +2            +2
μP, SGD or Adam   0             0             0
================  ============  ============  ============

At initialization every pre-activation and activation is Θ(1) under both (the point of ``1/fan_in``), except
μP's output (``Var = 1/fan_in²``): its second moment vanishes like ``1/n`` (slope −1).  The model's output change
``f_t − f_0`` grows under SP (both optimizers: at a width-independent rate the logits' updates blow up, Yang &
Hu 2021) and is Θ(1) under μP in the limit, which a finite width approaches only once it dwarfs the number of
output coordinates ``d_out``, so it is not checked (a note, never an error).  Why: ``Δf = ΔW_out·h + W_out·Δh``;
the last hidden update ``Δh`` is driven back through ``W_out`` by every output's loss direction ``r_k'``, so
output ``k``'s change holds ``Σ_k' (W_out,k · W_out,k') r_k'``-like terms: the diagonal ``k' = k`` is the Θ(1)
limit, and each of the ``d_out − 1`` others enters through the random overlap of two output-weight rows,
``1/√width`` relative to the diagonal, with an independent ``r_k'``.  The second moment is therefore
``A·(1 + κ·d_out/width)`` and its slope against width is ``−1/(1 + width/(κ·d_out))``, Θ(1) only for
``width ≫ κ·d_out``.  Measured on :func:`invariants.scaling.examples.mlp_mup` (d_out = 64) at step 1 with 16–24
seeds, the moments follow ``A + C/width`` over widths 64..2048 with ``κ = C/(A·d_out) ≈ 5`` (SGD) and ``≈ 2``
(Adam): at widths 64..512 with 24 seeds the slopes are −0.62 and −0.39, decided *vanishing*, and about the
same at step 3 (−0.57 and −0.36 with 16 seeds) — so it is neither the seeds (more seeds only narrow the interval around that slope) nor the horizon, but what is
measured: the finite-width cross-output term.  At 256..2048 they are still −0.32 and −0.15 (undecided); Θ(1)
needs widths of about ``8·κ·d_out`` (local slope −0.11), 2,700 and 1,100 here.  With ``d_out = 2``
(:func:`invariants.scaling.examples.mlp_mup_narrow`) it is reached at widths 64..512 with 64 seeds under both
optimizers (``tests/scaling/test_theory.py``).  A layer's own ``gain`` (its pre-activation over its input) is
``Var(W)·fan_in``: Θ(1) for ``c/fan_in``; a fixed ``std`` (``normal(std=0.02)``) gives slope ``+1`` for a
hidden layer (``std² · n``: RMS like ``√n``).

Values after training (``preact``, ``act``, ``output`` at step >= 1) are the initial value plus the updates; the
theory gives only their large-width limit (the larger of the two slopes), which finite widths reach slowly, so a
difference there is a note, never an error (``checked = False``).
"""
from __future__ import annotations

from dataclasses import dataclass

from invariants.scaling.fit import GROWING, THETA1, VANISHING

SP, MUP, THETA = "sp", "mup", "theta1"
#: what ``--expect`` accepts: a parametrization, or ``theta1`` (every role Θ(1): the width-stable ideal)
EXPECTATIONS = (THETA, SP, MUP)
INPUT, HIDDEN, OUTPUT_LAYER, FIXED = "input", "hidden", "output", "fixed"

SOURCE_SP = "standard parametrization: Var(W) = c/fan_in, one learning rate (Yang & Hu 2021, Tensor Programs IV)"
SOURCE_MUP = "μP: Yang et al. 2022, Tensor Programs V, Table 3 (after Yang & Hu 2021, Tensor Programs IV)"

#: ``ΔW·x`` slopes per (parametrization, optimizer, layer position)
UPDATE_SLOPES = {
    (SP, "sgd"): {INPUT: -1.0, HIDDEN: 1.0, OUTPUT_LAYER: 2.0, FIXED: 0.0},
    (SP, "adam"): {INPUT: 0.0, HIDDEN: 2.0, OUTPUT_LAYER: 2.0, FIXED: 0.0},
    (MUP, "sgd"): {INPUT: 0.0, HIDDEN: 0.0, OUTPUT_LAYER: 0.0, FIXED: 0.0},
    (MUP, "adam"): {INPUT: 0.0, HIDDEN: 0.0, OUTPUT_LAYER: 0.0, FIXED: 0.0},
}


@dataclass(frozen=True)
class Expectation:
    """What theory predicts for one fitted quantity.

    Attributes:
        verdict: the expected verdict (``theta1``, ``growing``, ``vanishing``).
        slope: the predicted second-moment slope, where theory gives one (``None``: only its sign).
        checked: a mismatch is an error (``True``) or a note (``False``: a finite-width crossover).
        source: where the prediction comes from.
    """

    verdict: str
    slope: float | None
    checked: bool
    source: str


def verdict_of(slope: float) -> str:
    return THETA1 if slope == 0 else GROWING if slope > 0 else VANISHING


def position(fan_in_exponent: float, fan_out_exponent: float) -> str:
    """A weight layer's position from how its fans scale with width (exponents of a log-log fit; 0: fixed)."""
    grows_in, grows_out = fan_in_exponent > 0.5, fan_out_exponent > 0.5
    if grows_in and grows_out:
        return HIDDEN
    if grows_out:
        return INPUT
    if grows_in:
        return OUTPUT_LAYER
    return FIXED


def expected(parametrization: str, optimizer: str, kind: str, where: str | None, step: int,
             output_position: str = OUTPUT_LAYER) -> Expectation:
    """The expectation for one quantity.

    Args:
        parametrization: ``theta1``, ``sp`` or ``mup``.
        optimizer: ``sgd`` or ``adam``.
        kind: the quantity (:mod:`invariants.frameworks.torch.scaling` kinds, or ``gain``).
        where: the weight layer's position (``preact``, ``update``, ``gain``), else ``None``.
        step: the training step.
        output_position: the position of the layer that produces the model's output (the model's output
            takes its expectation at step 0).
    """
    if parametrization == THETA:
        return Expectation(THETA1, 0.0, True, "every role Θ(1) (--expect theta1)")
    source = SOURCE_SP if parametrization == SP else SOURCE_MUP
    mup_out = parametrization == MUP
    if kind == "gain":
        slope = -1.0 if mup_out and where == OUTPUT_LAYER else 0.0
        return Expectation(verdict_of(slope), slope, True, source)
    if kind == "update":
        slope = UPDATE_SLOPES[(parametrization, optimizer)][where or FIXED]
        return Expectation(verdict_of(slope), slope, True, source)
    if kind == "output-change":
        # μP: Θ(1) only once the width dwarfs κ·d_out (the cross-output term of the module docstring, relative
        # size κ·d_out/width): a large-width limit whose onset depends on κ, not checked at finite widths
        return Expectation(THETA1 if mup_out else GROWING, 0.0 if mup_out else None, not mup_out, source)
    at_init = -1.0 if (mup_out and (kind == "output" or (kind == "preact" and where == OUTPUT_LAYER))) else 0.0
    if step == 0 or kind == "layer-input":
        if kind == "layer-input" and step > 0:
            return Expectation(THETA1 if mup_out else GROWING, None, False, source)
        return Expectation(verdict_of(at_init), at_init, True, source)
    if mup_out:  # init part + Θ(1) updates: Θ(1) in the limit, the init part of the output fades
        return Expectation(THETA1, 0.0, at_init == 0.0, source)
    if kind == "preact" and where == INPUT:
        # the input layer's input is fixed: its update is Θ(1) (Adam) or vanishing (SGD), never growing
        return Expectation(THETA1, 0.0, True, source)
    return Expectation(GROWING, None, False, source)


__all__ = ["EXPECTATIONS", "Expectation", "FIXED", "HIDDEN", "INPUT", "MUP", "OUTPUT_LAYER", "SOURCE_MUP",
           "SOURCE_SP", "SP", "THETA", "UPDATE_SLOPES", "expected", "position", "verdict_of"]
