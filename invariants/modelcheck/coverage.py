"""What a model check analysed, what it did not and why (:class:`~invariants.modelcheck.report.Coverage`),
and the non-finite parameters it refuses to analyse further.

**Analysed** (counted in the verdict line's share):

- random-role tensors (``weight``, ``embedding``, ``recurrent``) with layer semantics: the copy and
  constant checks, the variance table, and — when their layer has output units — the unit checks and
  the signal profile (a tensor without a node, e.g. a packed QKV, or a Keras ``EinsumDense`` kernel whose
  units are not the output's trailing axes, is listed as *partial*: the unit checks do not read it);
- biases and norm scales/shifts: the constant / conventional-value checks (``unusual-constant``,
  zero-γ) and, for biases, the dead-unit rule (a unit outputs its bias).  A random-valued bias
  (:func:`random_valued`) has a spread those checks do not judge: it counts as analysed only when it passes its layer's
  library default law (:mod:`invariants.modelcheck.bias_spread`: torch's ``U(±1/√fan_in)``); any other is
  listed as *partial* (:data:`BIAS_NOT_JUDGED`) and its values are left out of the analysed share, so the
  verdict never reads 100% over a spread nobody judged;
- a tensor holding NaN or infinite values: the ``non-finite`` error names it.

**Not analysed** (listed with the reason): tensors with 0 elements (a layer with a zero size, legal in
torch: ``nn.Linear(0, 4)``; reason ``"0 elements"``; their layer's node goes too, since its units have
no incoming weights to check), random-role tensors without layer semantics (a weight of a
layer the extractor does not know: only the copy and constant checks read it, no fans, so no variance
test) and ``other``-role tensors (class and position tokens, position tables, LayerScale γ, relative
position bias tables: no layer semantics; only the copy check reads them).

A tensor registered under several names (weight tying) is one parameter: counted once, its other
names listed in :attr:`~invariants.modelcheck.report.Coverage.tied`.
"""
from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np

from invariants.frameworks.dtypes import is_bfloat16
from invariants.frameworks.model import RANDOM_ROLES, ModelView, Param
from invariants.modelcheck.checks import not_a_draw
from invariants.modelcheck.report import ERROR, MIN_COVERAGE, Coverage, Finding, Skipped

#: roles read by the constant / conventional-value checks only
CONSTANT_ROLES = ("bias", "norm_scale", "norm_shift")


def random_valued(p: Param) -> bool:
    """Whether a tensor's values look like a random draw: not constant and not a deterministic pattern
    (:func:`invariants.modelcheck.checks.not_a_draw`: Keras' LSTM bias, zeros with the forget gate's block of
    ones, is no draw); at least 2 values."""
    return p.size >= 2 and not p.is_constant() and not not_a_draw(np.ascontiguousarray(p.value))


def non_finite(view: ModelView) -> list[tuple[Param, Finding]]:
    """Every floating parameter holding NaN or ±inf, each with its ``non-finite`` error.

    The other checks then run without these tensors (a statistic of a NaN is NaN; a probe through
    them is meaningless), so a model with a NaN weight gets a named error, not a crash.
    """
    out = []
    for p in view.params:
        v = p.value
        if (v.dtype.kind not in "fc" and not is_bfloat16(v.dtype)) or v.size == 0:
            continue
        finite = np.isfinite(v)
        if finite.all():
            continue
        n_nan = int(np.isnan(v).sum())
        n_inf = int(v.size - finite.sum()) - n_nan
        first = tuple(int(i) for i in np.argwhere(~finite)[0])
        out.append((p, Finding(
            ERROR, "non-finite", (p.name,),
            f"{p.name} ({p.role}, {'x'.join(map(str, p.shape)) or 'scalar'}) holds {n_nan} NaN and {n_inf} infinite "
            f"values of {p.size} (first at index {list(first)}): the initializer or a helper divided by zero or "
            "overflowed; every output it feeds is NaN. The other checks skip this tensor and the probe.",
            {"nan": n_nan, "inf": n_inf, "n": p.size, "first_index": list(first)})))
    return out


#: the reason a random-valued bias is partly analysed (:mod:`invariants.modelcheck.bias_spread`)
BIAS_NOT_JUDGED = ("random-valued bias: spread not judged (only the constant and dead-unit checks read it; it passes no "
                   "bias law known for its layer (torch's default U(±1/√fan_in) where the layer has one), and no bias law "
                   "holds for every library); its values are not counted as analysed")
#: the reason a weight's layer is partly analysed when the probe ran but did not measure it
NOT_MEASURED = "the probe did not measure its layer's output: not in the signal profile"

#: the reason a tensor with no values is not analysed
EMPTY_REASON = "0 elements"


def empty(view: ModelView) -> tuple[ModelView, list[Skipped]]:
    """``view`` without its 0-element tensors (and the nodes whose weight is one), and those tensors as
    :class:`~invariants.modelcheck.report.Skipped` with reason :data:`EMPTY_REASON`.  The probe is kept
    (it ran through them: a 0-input layer outputs its bias); the original view is unchanged."""
    gone = [p for p in view.params if p.size == 0]
    if not gone:
        return view, []
    names = {p.name for p in gone}
    params = [p for p in view.params if p.name not in names]
    nodes = [n for n in view.nodes if n.weight.name not in names]
    return replace(view, params=params, nodes=nodes), [Skipped(p.name, 0, EMPTY_REASON) for p in gone]


def without(view: ModelView, names: set[str]) -> ModelView:
    """A copy of ``view`` without the parameters ``names``, the nodes that use them and the probe
    (which ran through them); the original is unchanged."""
    params = [p for p in view.params if p.name not in names]
    nodes = [n for n in view.nodes if n.weight.name not in names and (n.bias is None or n.bias.name not in names)]
    return replace(view, params=params, nodes=nodes, probe=None,
                   probe_error=f"not used: non-finite parameters ({', '.join(sorted(names)[:3])}"
                               f"{', ...' if len(names) > 3 else ''})")


def _what(p: Param) -> str:
    """A short description of a tensor without layer semantics, from its name (for the reason)."""
    leaf = p.name.replace("/", ".").rsplit(".", 1)[-1].lower()
    if "token" in leaf:
        return "a learned token"
    if "pos" in leaf or "position" in p.name.lower():
        return "a position table" if "bias" not in leaf else "a relative-position bias table"
    if "gamma" in leaf or "scale" in leaf or leaf.startswith("ls"):
        return "a per-channel scale (LayerScale γ?)"
    return "a parameter"


def reason(p: Param) -> str:
    """Why ``p`` is not analysed (``p`` has no layer semantics)."""
    where = f"{p.owner_type or 'the model'} {'x'.join(map(str, p.shape)) or 'scalar'}"
    if p.role in RANDOM_ROLES:
        return (f"{p.role} of {where} without layer semantics (no fans): no variance or unit checks; only the "
                "copy and constant checks read it")
    return f"{_what(p)} of {where} without layer semantics: no init rule to test; only the copy check reads it"


def coverage(view: ModelView, bad: list[Param] = (), min_share: float = MIN_COVERAGE, probe_requested: bool = True,
             max_values: int | None = None, empty: list[Skipped] = (),  # type: ignore[assignment]
             not_judged: "set[str] | frozenset[str] | None" = None) -> Coverage:
    """The :class:`~invariants.modelcheck.report.Coverage` of a check of ``view`` (see the module docstring).

    Args:
        view: the view the checks ran on (without the non-finite tensors).
        bad: the non-finite tensors taken out of it (analysed: the finding names them).
        min_share: share of values below which the verdict is ``incomplete``.
        probe_requested: ``False`` under ``--no-probe``.
        max_values: the profile's variance sample cap (a larger tensor is tested on a strided sample:
            listed as partial).
        empty: the 0-element tensors taken out of it (:func:`empty`), listed as skipped.
        not_judged: the random-valued biases whose spread was not judged, listed as partial
            (:func:`invariants.modelcheck.bias_spread.bias_judgement`, which read each bias once); ``None``:
            every random-valued bias (:func:`random_valued`), none judged.
    """
    node_weights = {id(n.weight) for n in view.nodes}
    measured = {s.name for s in view.probe.signals} if view.probe is not None else None
    # a module under several names is measured at its call sites only (torch: ``_CallSites``): a name of it
    # that is no call site (the owner's attribute) leaves nothing unmeasured when another name was measured
    # (the same type and weight: the same module; an embedding table tied to an output projection is not)
    def module(n: Any) -> tuple[str, int]:
        return n.owner_type, id(n.weight)

    seen_modules = {module(n) for n in view.nodes if measured is not None and n.name in measured}
    unmeasured = [n for n in view.nodes if measured is not None and n.name not in measured
                  and module(n) not in seen_modules]
    unmeasured_weights = {id(n.weight) for n in unmeasured}
    tensors, values = len(bad), sum(p.size for p in bad)
    skipped: list[Skipped] = list(empty)
    partial: list[Skipped] = []
    for p in view.params:
        if p.role == "bias" and (random_valued(p) if not_judged is None else p.name in not_judged):
            tensors += 1
            partial.append(Skipped(p.name, p.size, BIAS_NOT_JUDGED))
        elif p.role in CONSTANT_ROLES or (p.role in RANDOM_ROLES and p.layer is not None):
            tensors += 1
            values += p.size
            if p.role in RANDOM_ROLES and not p.is_constant():
                left = []
                if id(p) not in node_weights:
                    left.append("no output units: the dead/interchangeable-unit checks and the signal profile "
                                "do not read it")
                elif id(p) in unmeasured_weights:
                    left.append(NOT_MEASURED)
                if max_values and p.size > max_values:
                    left.append(f"variance tested on a strided sample of {max_values:,} of its {p.size:,} values")
                if left:
                    partial.append(Skipped(p.name, p.size, "; ".join(left)))
        else:
            skipped.append(Skipped(p.name, p.size, reason(p)))
    total = view.n_values + sum(p.size for p in bad)
    signal = None
    if view.probe is None:
        signal = f"not checked: {view.probe_error or 'no probe pass'}"
    elif not view.nodes and any(p.role in RANDOM_ROLES for p in view.params):
        # the probe ran, but through no layer whose output it could read (a bare nn.LSTM): nothing was measured
        signal = ("not checked: the probe ran, but no layer with output units was measured (no Linear, Conv, "
                  "Embedding or other node the extractor reads)")
    tied = {p.name: list(p.tied) for p in list(view.params) + list(bad) if p.tied}
    cov = Coverage(tensors, len(view.params) + len(bad) + len(empty), values, total, skipped, signal, min_share,
                   probe_requested, partial, tied)
    if signal is None and unmeasured:
        cov.signal_layers = (len(view.nodes) - len(unmeasured), len(view.nodes))
        cov.unmeasured = [n.name for n in unmeasured]
    return cov


__all__ = ["BIAS_NOT_JUDGED", "CONSTANT_ROLES", "NOT_MEASURED", "EMPTY_REASON", "coverage", "empty", "non_finite", "reason", "without"]
