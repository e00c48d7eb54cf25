"""Streamed model check: a meta-device model checked one module at a time (``check-model`` on 7B configs).

The in-memory check (:func:`invariants.modelcheck.check.check_view`) reads every tensor as a read-only numpy
view of the model's own memory (bfloat16 too, as ``ml_dtypes.bfloat16``) and runs a probe through the whole model (peak about
the model plus its largest tensor's temporaries, :mod:`invariants.modelcheck.cost`).  For a model built on
the ``meta`` device
:func:`check_streamed` instead takes the modules one at a time from
:func:`invariants.frameworks.torch.stream.pieces` (materialised with the library's own init, read, freed),
runs the per-tensor checks on a one-module :class:`~invariants.frameworks.model.ModelView`, and keeps only
what the whole-model decisions need:

==========================  ========================================================================
check                       what is kept between modules
==========================  ========================================================================
``identical-tensors``       a sha256 digest per tensor and packed block (:func:`checks.tensor_digests`),
                            turned into findings at the end (:func:`checks.copies`)
``constant-tensor`` & co.   each constant tensor as a broadcast scalar (no memory), its node, and a
                            two-value stand-in per random tensor (only counted) and for the last layer
                            defined: :func:`checks.constant_tensors` then runs once on that summary, so
                            a zero output layer is told apart from a zeroed hidden layer as in memory
dead / interchangeable      nothing: decided within the module (no probe: static rules)
units, packed-orthogonal
``variance`` (per tensor)   the table row; for tensors matching no scheme, the strided sample
                            (<= ``Profile.max_values`` values) the cross-layer fit needs
``extreme-values``,         for tensors that match a scheme, a strided sample of ``PEER_SAMPLE``
``fan-swap`` (whole model)  values: the same tests at the same α as in memory, with less power (a 1%
                            clamp at ±8σ still leaves about 40 extreme entries in 4096)
==========================  ========================================================================

**Test budget.**  The per-check ``alpha`` (Bonferroni over every candidate test of the model,
:func:`variance.model_budget`) must be known before the first tensor is tested, so a first pass
materialises each module with NaN placeholders (no init, no RNG) to list the tests from shapes and layer
semantics.  Constant tensors cannot be told apart then and are counted too: the streamed ``alpha`` is at
most the in-memory one (equal when no tensor is constant), so it never raises more false alarms.

**Half precision.**  bfloat16/float16 tensors are materialised in their own dtype; the reader reads one
tensor at a time as a read-only view (bfloat16 as ``ml_dtypes.bfloat16``: numpy has no bfloat16); the
variance tests use a fixed-stride sample of at most ``Profile.max_values`` values (2^20 in ``fast``),
converted to float64 (8 MiB), never the whole tensor.  Cost in power: a tensor of ``N > max_values``
values detects a relative variance error about ``sqrt(N / max_values)`` times larger than all ``N``
would (Llama-7B's 4096x11008 MLP: 6.6x, i.e. about 2% instead of 0.3% at power 0.99; the table's
``detectable_rel_error`` states the figure for the sample).  The exact checks (digests, constants,
dead and tied units) read every value.

**Signal propagation** needs a forward pass through the whole model, which a meta model cannot run:
``coverage.signal`` says so, and the verdict is ``incomplete`` unless the probe was waived (``probe=False``).

**Figures** (``benchmarks/large_models.py``, table in ``benchmarks/README.md``; shared 2-core machine at
load average ~11, so times inflated): Llama-7B config in float32 (6.74B parameters, 25 GiB of values,
291 tensors) checked in 538 s with a peak RSS of 2.36 GiB (0.40 GiB baseline + 4.0x its largest module,
the 500 MiB embedding); the in-memory check would need ~63 GiB.  1.1B (TinyLlama shape): 200 s, 1.75 GiB.
"""
from __future__ import annotations

import dataclasses
import sys
import time
from typing import Any, Iterable

import numpy as np

from invariants.frameworks.model import RANDOM_ROLES, ModelView, Node, Param, unpack_model
from invariants.modelcheck import checks as C
from invariants.modelcheck.bias_spread import bias_judgement
from invariants.modelcheck.coverage import BIAS_NOT_JUDGED, EMPTY_REASON
from invariants.modelcheck.profiles import Profile, get_profile
from invariants.modelcheck.report import (ERROR, MIN_COVERAGE, Coverage, Finding, ModelReport, Skipped, TensorRow,
                                          dtype_counts)
from invariants.modelcheck.variance import Match, Unit, constant_row, match, model_budget, units, variance_findings

#: ``coverage.signal`` of a streamed check
SIGNAL_NOT_CHECKED = "not checked: model on the meta device (analysed per tensor, streamed)"


#: values of a matched tensor kept for the whole-model findings of a streamed check (32 KiB each)
PEER_SAMPLE = 4096


def _light(p: Param, value: np.ndarray) -> Param:
    """``p`` with ``value`` in place of its values (the names, role, layer and layout kept)."""
    return dataclasses.replace(p, value=value)


def _constant_stand_in(p: Param) -> Param:
    """A constant tensor as a read-only broadcast of its one value: the full shape, no memory."""
    return _light(p, np.broadcast_to(np.array(p.value.ravel()[:1]), p.shape))


def _random_stand_in(p: Param) -> Param:
    """A non-constant two-value stand-in: :func:`checks.constant_tensors` only counts these."""
    return _light(p, np.array([0, 1], dtype=p.value.dtype))


class Streamer:
    """Accumulates the checks over a stream of one-module pieces (see the module docstring).

    Args:
        name: display name.
        profile: the statistical profile.
        alpha: the per-test level (:func:`variance.model_budget` over the whole model).
        framework: the framework name of the report.
    """

    def __init__(self, name: str, profile: Profile, alpha: float, framework: str = "torch") -> None:
        self.name, self.profile, self.alpha, self.framework = name, profile, alpha, framework
        self.order: dict[str, int] = {}
        self.digests: list[tuple[str, tuple, str | None]] = []
        self.constant_findings: list[Finding] = []
        self.summary_params: list[Param] = []
        self.summary_nodes: list[Node] = []
        self.last_node: Node | None = None
        self.dead: list[Finding] = []
        self.ties: list[Finding] = []
        self.packed: list[Finding] = []
        self.rows: list[TensorRow] = []
        self.results: list[tuple[Unit, Match]] = []
        self.skipped: list[Skipped] = []
        self.partial: list[Skipped] = []  # random-valued biases whose spread no check judged (coverage module)
        self.tied: list[tuple[str, str]] = []
        self.n_params = self.n_values = self.analysed_params = self.analysed_values = 0
        self.seconds_init = 0.0
        self.dtypes_read: list[str] = []  # one dtype name per tensor read (the report's ``dtypes``)

    def add(self, params: list[Param], node: Node | None, skipped: Iterable[tuple[str, int, str]] = (),
            tied: Iterable[tuple[str, str]] = ()) -> None:
        """Check one module's parameters (``node``: its layer with output units, if any); a 0-element
        tensor is skipped (:data:`~invariants.modelcheck.coverage.EMPTY_REASON`) with its node."""
        if any(p.size == 0 for p in params):
            skipped = list(skipped) + [(p.name, 0, EMPTY_REASON) for p in params if p.size == 0]
            params = [p for p in params if p.size]
            node = None if node is not None and node.weight.size == 0 else node
        for name, n, reason in skipped:
            self.skipped.append(Skipped(name, n, reason))
            self.n_params += 1
            self.n_values += n
        self.tied += list(tied)
        view = ModelView(self.framework, self.name, params, [node] if node is not None else [])
        stand_ins: dict[int, Param] = {}
        constant: set[int] = set()
        not_judged = bias_judgement(view, self.alpha, self.profile.power, self.profile.max_values)[1]
        for p in params:
            self.order[p.name] = len(self.order)
            self.n_params += 1
            self.n_values += p.size
            self.analysed_params += 1
            if p.role == "bias" and p.name in not_judged:
                self.partial.append(Skipped(p.name, p.size, BIAS_NOT_JUDGED))  # as the in-memory coverage does
            else:
                self.analysed_values += p.size
            self.dtypes_read.append(p.value.dtype.name)
            self.digests += C.tensor_digests(p)
            if p.size >= 2 and p.is_constant():
                stand_ins[id(p)] = _constant_stand_in(p)
                constant.add(id(p))
                self.summary_params.append(stand_ins[id(p)])
                if p.role in RANDOM_ROLES:
                    self.rows.append(constant_row(p))
            else:
                # a non-constant tensor's constant-tensor findings (constant packed blocks) need no context
                self.constant_findings += C.constant_tensors(ModelView(self.framework, self.name, [p]))
                if p.role in RANDOM_ROLES and p.size >= 2:
                    stand_ins[id(p)] = _random_stand_in(p)
                    self.summary_params.append(stand_ins[id(p)])
        if node is not None:
            weight = stand_ins.get(id(node.weight), _random_stand_in(node.weight))
            bias = None if node.bias is None else _light(node.bias, np.array(node.bias.value))
            light = dataclasses.replace(node, weight=weight, bias=bias)
            if id(node.weight) in constant:
                self.summary_nodes.append(light)
            self.last_node = light
        self.dead += C.dead_units(view)
        self.ties += C.interchangeable_units(view)
        self.ties += C.copied_embedding_rows(view)
        self.packed += C.packed_orthogonal(view)
        for u in units(view, self.profile.max_values):
            m = match(u, view, self.alpha, self.profile.power)
            self.rows.append(m.row)
            # kept for the whole-model findings (variance.variance_findings), detached from the module: an
            # unmatched tensor's whole sample (the cross-layer fit), a matched one's strided PEER_SAMPLE values
            # (extreme values, the sibling-scheme test: a smaller sample only lowers their power, never their α)
            v = u.values if not m.matched else u.values.ravel()[:: max(1, -(-u.values.size // PEER_SAMPLE))]
            self.results.append((dataclasses.replace(u, values=np.array(v),
                                                     param=_light(u.param, np.zeros(0, u.values.dtype))), m))

    def report(self, signal: str | None, probe: str, seconds: float, min_coverage: float = MIN_COVERAGE,
               probe_requested: bool = True) -> ModelReport:
        """The :class:`ModelReport` (with ``coverage``) of everything added."""
        nodes = list(self.summary_nodes)
        if self.last_node is not None and (not nodes or nodes[-1].name != self.last_node.name):
            nodes.append(self.last_node)
        summary = ModelView(self.framework, self.name, self.summary_params, nodes)
        constant = self.constant_findings + C.constant_tensors(summary)
        constant.sort(key=lambda f: self.order.get(f.params[0].split("[")[0], len(self.order)) if f.params else 0)
        prof = self.profile
        findings = C.copies(self.digests) + constant + self.dead + self.ties + self.packed
        findings += variance_findings(ModelView(self.framework, self.name, []), self.results, self.alpha,
                                      prof.power, prof.total_alpha)
        findings.sort(key=lambda f: 0 if f.severity == ERROR else 1)
        rows = sorted(self.rows, key=lambda r: self.order.get(r.name.split("[")[0], len(self.order)))
        report = ModelReport(self.name, self.framework, prof.name, findings, rows, None, probe, self.n_params,
                             self.n_values, seconds, dtypes=dtype_counts(self.dtypes_read))
        tied: dict[str, list[str]] = {}
        for other, first in self.tied:
            tied.setdefault(first, []).append(other)
        report.coverage = Coverage(self.analysed_params, self.n_params, self.analysed_values, self.n_values,
                                   list(self.skipped), signal, min_coverage, probe_requested, list(self.partial),
                                   tied=tied)
        return report


def _progress(total: int, enabled: bool | None, desc: str) -> Any:
    """A tqdm bar on stderr when enabled (``None``: when stderr is a terminal) and tqdm is installed."""
    if enabled is None:
        enabled = sys.stderr.isatty()
    if enabled:
        try:
            from tqdm import tqdm

            return tqdm(total=total, desc=desc, unit="module", file=sys.stderr, leave=False)
        except ImportError:
            pass
    return None


def streams(model: Any) -> bool:
    """Whether :func:`check_model` should stream ``model`` (a torch module with parameters on ``meta``, bare
    or packed with an input, :func:`invariants.frameworks.model.unpack_model`); never imports torch."""
    if "torch" not in sys.modules:
        return False
    from invariants.frameworks.torch.stream import is_meta_model

    return is_meta_model(unpack_model(model).model)


def check_streamed(model: Any, *, profile: "str | Profile | None" = None, seed: int = 0, name: str | None = None,
                   probe: bool = True, progress: bool | None = None, min_coverage: float = MIN_COVERAGE) -> ModelReport:
    """Check a meta-device torch model one module at a time (see the module docstring).

    Args:
        model: a torch ``nn.Module`` whose parameters are on the ``meta`` device (left there, ties kept), bare
            or packed with an example input (unused).
        profile: ``"fast"``, ``"thorough"``, a :class:`Profile`, or ``None`` (the current one).
        seed: each module's init draws from :func:`invariants.frameworks.torch.stream.module_seed`
            ``(seed, path)``: the same seed gives the same report.
        name: display name (default: the class name).
        probe: ``False`` when the user waived signal propagation (``--no-probe``): then its absence does
            not make the verdict incomplete.
        progress: a tqdm bar on stderr (``None``: when stderr is a terminal).
        min_coverage: the share of parameter values below which the verdict is incomplete.

    Returns:
        a :class:`ModelReport` with ``coverage`` (tensors not analysed, with the reason; ``signal``).
    """
    from invariants.frameworks.torch import stream as T

    model = unpack_model(model).model  # an example input packed with it is not used: no probe
    prof = get_profile(profile)
    name = name or type(model).__name__
    t0 = time.perf_counter()
    plan = T.plan(model)
    bar = _progress(2 * len(plan.modules), progress, f"check-model {name} (streamed)")
    budget_units: list[Unit] = []
    by_signature: dict[tuple, list[Unit]] = {}
    for piece in T.pieces(model, seed, placeholder=True):
        if not piece.repeat:  # a repeated module (same class, shapes, dtypes) has the same tests
            view = ModelView("torch", name, piece.params, [])
            by_signature[piece.signature] = [
                dataclasses.replace(u, values=np.broadcast_to(np.float32(0), u.values.shape),
                                    param=_light(u.param, np.zeros(0, np.float32)))
                for u in units(view, prof.max_values)]
            del view
        budget_units += by_signature.get(piece.signature, [])
        del piece
        if bar is not None:
            bar.update(1)
    alpha = model_budget(budget_units, prof.total_alpha).per_check
    acc = Streamer(name, prof, alpha)
    for piece in T.pieces(model, seed):
        acc.add(piece.params, piece.node, piece.skipped, piece.tied)
        acc.seconds_init += piece.seconds_init
        del piece
        if bar is not None:
            bar.update(1)
    if bar is not None:
        bar.close()
    tied = "; ".join(f"{a} = {b}" for a, b in acc.tied)
    text = "none: signal propagation not checked (model on the meta device, materialised and checked one module " \
        "at a time)" + \
        (f" (tied, read once: {tied})" if tied else "")
    return acc.report(SIGNAL_NOT_CHECKED, text, time.perf_counter() - t0, min_coverage, probe_requested=probe)


__all__ = ["SIGNAL_NOT_CHECKED", "Streamer", "check_streamed", "streams"]
