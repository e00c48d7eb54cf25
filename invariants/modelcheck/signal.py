"""Signal propagation at init: the trend of forward and backward second moments through depth, compared
like with like.

**What is measured: node inputs.**  For every node (a layer with output units), on the probe batch:
``E[x²]`` of the node's (first) input ``x`` and ``E[g²]`` of ``g = ∂L/∂x`` through the node, for the
probe loss ``L = Σ y·r``, ``r ~ N(0, 1)`` (the mean-field backward setting, :mod:`invariants.propagation`;
means over every entry, batch x positions x units).  Inputs, not outputs, because an input is where the
network function is defined: the two function-preserving reparametrisations real architectures are full
of leave them unchanged, while they move the output moments ``E[z²]``, ``E[δ²]`` by any factor:

- a layer that feeds a normalization (BatchNorm, LayerNorm, RMSNorm; ``Node.scale_invariant``) rescaled,
  ``W → cW``, ``b → cb`` (and the norm's ``eps → c²·eps``): its ``z`` scales by ``c`` and its ``δ`` by
  ``1/c``, but the norm's output — the next node's input — and the gradient arriving at this node's own
  input are unchanged;
- a scale moved between a layer and its LayerScale ``γ`` (``W → cW``, ``b → cb``, ``γ → γ/c``): the
  branch function and every node input are unchanged.

Where a framework's probe does not record inputs (the reference network, Equinox) the outputs
``E[z²]``, ``E[δ²]`` are used as before, over the same classes; ``summary["measured"]`` says which.

**Backward: the squared norm per example, above the data.**  The backward trend compares ``|g|²`` per
example (``E[g²]`` times the entries per example), not ``E[g²]`` per entry: under a fan_in scheme the
per-entry gradient picks up ``fan_out/fan_in`` at every layer, a width ratio that is no init fault (a
784-512-256-128 MLP at PyTorch's default lost 6x to it), while the norm moves by ``fan_in·Var(w)`` per
layer as the forward ``E[x²]`` does (:class:`_Measure`; He et al. 2015, Sec. 2.2).  The first node's
input gradient (the gradient with respect to the data, unless the first node is an embedding) is left
out: no parameter's gradient depends on it.

**Like with like.**  Nodes are grouped into sibling classes, :func:`depth_key` (the shared
:func:`invariants.modelcheck.siblings.sibling_key` — the path with block indices replaced by ``#``, plus
the layer type — except that digits glued to a letter in the last path component stay: ``fc1`` and ``fc2``
are two positions in a block, not two blocks): the same position in repeated blocks (``layer#.#.conv1``,
``encoder.layer.#.attention.self.query``, ``stages.#.blocks.#.mlp.fc2``).  In a staged model (a key with
two or more indices: stage and block) a class is further split by input width, because across a stage's
width change the moments move with the width by design under a fixed-std scheme (HF/timm ``std = 0.02`` at
every width: a layer's output variance is ``fan_in·0.02²``), which is not a trend through depth; a CNN or
Swin/ConvNeXt with one block per stage then has no class and no trend (said in the summary), a ResNet
stage does.  A plain sequence (one index: an MLP's ``#``, ``layer#``, ``encoder.layer.#``) is one class
whatever its widths, so a tapering MLP with a wrong gain is still compared end to end.  The trend through depth is
measured within each class of at least :data:`MIN_CLASS` members, first member to last in execution order,
so a branch interior is never compared with the stem, a layer-0 query never with the last FFN output,
an encoder never with a decoder.  A plain ``nn.Sequential`` MLP (``0``, ``2``, ``4`` → ``#``) and the
reference network (``layer1``, ``layer2`` → ``layer#``) are one class: there this is the classic depth
test.  The *stack* that enters the classes is every node except embeddings (input tables) and nodes whose
input is constant on the probe (reported by the structural checks); measured at outputs, the output layer
is left out too (a small or zero head is deliberate and is judged by the constant-tensor check) — its
input, the last hidden representation, is part of the stack when inputs are measured.  A class whose
backward moments are zero in part (a zero-γ branch, a zero head: the structural checks explain zeros) is
skipped for the backward direction, with a summary line — except when the zeros are every member below
the nonzero ones and those decay beyond the band towards them: the gradient underflowed, vanishing below
the floating-point range, an error (figure ``underflow_at``).

**Threshold.**  Per class, ``T = log(m_last / m_first)`` (forward; backward the same on the gradient, first
relative to last, so a negative value is a gradient vanishing towards the input).  An exponential trend
with per-block factor ``ρ`` gives ``|T| = (k−1)|log ρ|`` over ``k`` members.  A finite network fluctuates
around its mean-field curve: to first order ``log`` of a layer's second moment performs a random walk with
per-layer variance ``r² <= 5/N_l`` (``N_l`` units; 5 for ReLU, the largest among the common activations —
identity 2, tanh less; :mod:`invariants.propagation`), plus ``2/(M·N)`` for measuring a moment from ``M``
rows.  The band ``β = 4·sqrt(Σ 5/N_l + 2/(M_1 N_1) + 2/(M_k N_k))`` bounds that noise (4 standard
deviations), the sum over every stack node executed after the class's first member up to its last (the
walk runs through all of them, class members or not); ``N`` are input widths (output widths when
measuring outputs).  A change is reported when ``|T| − β`` exceeds ``log(note_ratio)`` (default 10x: a
note) or ``log(error_ratio)`` (default 100x, two orders of magnitude through depth: an error).  These
ratios are conventions, not theorems: at 100x a block at one end learns 100x faster or slower than one
at the other under SGD, and activations leave the range the nonlinearities were designed for; an
adaptive optimizer rescales gradients per tensor but not the forward signal.  One finding per direction
names the worst class (largest ``|T| − β``) with its figures and counts the other classes beyond the
threshold; ``summary["classes"]`` holds every class's figures.

**Normalized stretches.**  When every node from a class's first member to its last feeds a normalization
(``Node.scale_invariant``: a BatchNorm ResNet; measured at inputs, the last member's own weights are not
between the two measurements and need not), rescaling any of their weights leaves every input moment
unchanged: no weight init can cause or cure the trend (the gradient growth of BatchNorm networks at init,
Yang et al. 2019, "A mean field theory of batch normalization"), so an error there is reported as a note
that says so.

**Batch statistics.**  A BatchNorm the probe runs in training mode normalises by the statistics of the
values its batch holds per channel (batch × positions; :attr:`~invariants.frameworks.model.Probe.batch_stats`).
With few of them the batch's own standard deviation biases the squared gradient norm by about
``(m−2)/(m−3)`` per normalisation, compounding over those the gradient crosses
(:mod:`invariants.modelcheck.batchstats`: ``m_min``): an error-level backward growth across one that saw
fewer than ``m_min`` values (a decay across one that saw 2 or fewer, which passes no gradient) is not
decided — a note that names the normalisation and how to rerun, and ``summary["not_decided"]``, which the
coverage states (the report is incomplete, not healthy).  A probe with any normalisation of 2 or fewer values
per channel (no gradient through it; at 1 value its output is its shift alone) decides neither direction: its
signal findings are notes marked not decided, and the coverage says so.  A Keras EfficientNetV2B0 at 32px with 4 inputs
normalises 4 values per channel in stage 6 (1x1): 5.4e3x growth over 18 such layers, none at 32 inputs.
A per-sample GroupNorm/InstanceNorm over few values per group on a small feature map (``kind="group"``; a
GroupNorm(C, C) on a 1x1 map outputs its shift alone) is treated the same way, and its rerun asks for a larger
input instead of more probe inputs.

A model whose output is the same for every probe input has its signal cut (an error unless a zero
output layer explains it).  For the reference network the report adds the mean-field prediction for
the measured per-layer gains (:func:`invariants.propagation.variance_curve`, ``χ``).
"""
from __future__ import annotations

import dataclasses
import math
import re
from typing import Any

from invariants.layers import Embedding
from invariants.frameworks.model import ModelView, Signal, varies
from invariants.modelcheck.batchstats import NO_GRADIENT, crossed, per, rerun_all, short_of, too_small
from invariants.modelcheck.report import ERROR, NOTE, Finding
from invariants.modelcheck.siblings import sibling_key

#: noise band multiplier (standard deviations of the first-order log-moment random walk)
BAND_K = 4.0
#: per-layer variance of log E[z²] for ReLU, the largest among the common activations (times 1/N)
WALK_R2 = 5.0
#: smallest sibling class whose trend through depth is measured
MIN_CLASS = 2


_SEP = re.compile(r"[./]")
_GLUED = re.compile(r"(?<=[A-Za-z])\d+")
_LETTER_INDEX = re.compile(r"(?<=#)[a-z](?=_)")


def depth_key(name: str, kind: str = "") -> str:
    """The class a node's trend through depth is measured in: :func:`~invariants.modelcheck.siblings.sibling_key`,
    except that in a hierarchical path (``.`` or ``/``) the digits glued to a letter in the *last*
    component are kept: ``fc1``/``fc2``, ``conv1``/``conv2``, ``pwconv1``/``pwconv2`` are different
    positions in a block (an MLP's input and its hidden layer), not repeats of one; so is a last component
    that is an index inside an already indexed block (torchvision's ``features.5.0.block.3`` is the
    block's fc1, ``block.5`` its fc2), while a lone index (``layers.3``, ``4``) is the depth.

    >>> depth_key("stages.2.blocks.0.mlp.fc2", "Linear")
    'Linear:stages.#.blocks.#.mlp.fc2'
    >>> depth_key("layer3.1.conv1"), depth_key("4"), depth_key("layer4"), depth_key("Dense_3")
    ('layer#.#.conv1', '#', 'layer#', 'Dense')
    >>> depth_key("block6c_expand_conv")
    'block##_expand_conv'
    >>> depth_key("features.5.0.block.3"), depth_key("layers.3"), depth_key("net.2.0")
    ('features.#.#.block.3', 'layers.#', 'net.#.0')
    """
    parts = _SEP.split(name)
    if len(parts) < 2:
        # Keras' EfficientNet names its blocks ``block2a``, ``block2b``: the letter is the block index
        return _LETTER_INDEX.sub("#", sibling_key(name, kind))
    last = parts[-1]
    head = sibling_key(name[:len(name) - len(last)])
    if last.isdigit() and "#" in head:
        tail = last  # a Sequential's k-th layer inside an indexed block (torchvision ``block.3``, ``mlp.0``)
    else:
        keep = {m.start(): m.group() for m in _GLUED.finditer(last)}
        tail = re.sub(r"\d+", lambda m: keep.get(m.start(), "#"), last)
    return f"{kind}:{head}{tail}" if kind else head + tail


class _Measure:
    """The moments one profile compares: at node inputs (``E[x²]``, ``|g|²`` per example) or outputs
    (``E[z²]``, ``|δ|²`` per example), with the widths and row counts of the same tensors.

    Forward: the per-entry moment; backward: the squared norm per example, ``E[g²]`` times the entries per
    example (``rows·width/batch``).  Both then move by ``fan_in·Var(w)`` (times the activation's factor)
    per layer whatever the widths: a layer's ``E[z²] = fan_in·Var(w)·E[x²]`` per entry, while each input
    entry's gradient sums ``fan_out`` terms, ``E[g²] = fan_out·Var(w)·E[δ²]`` (entries per position), so per
    entry the gradient picks up the width ratio ``fan_out/fan_in`` at every layer under a fan_in scheme —
    PyTorch's default on a 784-512-256-128 MLP loses 6x to the widths alone — and its sum over the
    ``fan_in``-many entries does not: ``|g|² = fan_in·Var(w)·|δ|²`` (strided convolutions alike, the
    positions cancelling).  He et al. 2015, Sec. 2.2, Eq. 13-16: their backward condition is per entry, and
    under the forward (fan_in) condition the per-entry backward product is ``c_2/d_L``, a width ratio, which
    they call harmless."""

    def __init__(self, inputs: bool, batch: int) -> None:
        self.inputs = inputs
        self.batch = max(int(batch), 1)
        self.fwd_sym, self.bwd_sym = ("x", "g") if inputs else ("z", "delta")
        self.where = "input" if inputs else "output"

    def forward(self, s: Signal) -> float:
        return float(s.input_moment) if self.inputs else s.forward_moment  # type: ignore[arg-type]

    def backward(self, s: Signal) -> float | None:
        m = s.input_grad_moment if self.inputs else s.backward_moment
        return None if m is None else m * self.rows(s) * self.width(s) / self.batch

    def width(self, s: Signal) -> int:
        return int(s.input_width) if self.inputs else int(s.z.shape[1])  # type: ignore[arg-type]

    def rows(self, s: Signal) -> int:
        return int(s.input_rows) if self.inputs else int(s.z.shape[0])  # type: ignore[arg-type]


def _band(ms: _Measure, stack: list[Signal], first: int, last: int) -> float:
    """``β`` (log units) for a class whose first and last members are ``stack[first]``, ``stack[last]``."""
    s2 = sum(WALK_R2 / ms.width(s) for s in stack[first + 1:last + 1])
    s2 += 2.0 / (ms.rows(stack[first]) * ms.width(stack[first])) + 2.0 / (ms.rows(stack[last]) * ms.width(stack[last]))
    return BAND_K * math.sqrt(s2)


def _trend(key: str, names: list[str], moments: list[float], band: float, ms: _Measure, note_ratio: float,
           error_ratio: float, direction: str) -> tuple[str | None, str, dict[str, Any]]:
    k = len(moments)
    t = math.log(moments[-1] / moments[0])
    if direction == "backward":
        t = -t  # the gradient at the bottom relative to the top
    ratio = math.exp(abs(t))
    per_layer = math.exp(t / (k - 1))
    change = "growth" if t > 0 else "decay"
    at = f"at the {ms.where} of" if ms.inputs else "at"
    # k measurements span k - 1 layers of the class; per_layer is the geometric mean factor over those layers
    # (one layer: the change itself, so no separate per-layer figure)
    span = "through 1 layer" if k == 2 else f"through {k - 1} layers, geometric mean {per_layer:.3g}x per layer"
    if direction == "forward":
        text = (f"forward E[{ms.fwd_sym}^2] {at} {key}: {moments[0]:.4g} at {names[0]} -> {moments[-1]:.4g} at "
                f"{names[-1]} ({ratio:.3g}x {change} {span})")
    else:
        text = (f"backward |{ms.bwd_sym}|^2 per example {at} {key}: {moments[-1]:.4g} at {names[-1]} -> {moments[0]:.4g} at "
                f"{names[0]} going down ({ratio:.3g}x {change} towards the input {span})")
    fig = {"class": key, "measured": ms.where + "s", "ratio": ratio, "per_layer": per_layer, "band_log": band,
           "layers": k, "log_change": t, "first": names[0], "last": names[-1]}
    excess = abs(t) - band
    if excess > math.log(error_ratio):
        return ERROR, text, fig
    if excess > math.log(note_ratio):
        return NOTE, text, fig
    return None, text, fig


def _stack(view: ModelView, sigs: list[Signal], ms: _Measure) -> list[Signal]:
    nodes = {n.name: n for n in view.nodes}
    out_node = view.output_node()
    not_emb = [s for s in sigs if not isinstance(nodes[s.name].layer, Embedding)]
    if ms.inputs:
        return [s for s in not_emb if s.input_moment is not None and s.input_moment > 0 and s.input_varies is not False
                and s.input_width and s.input_rows]
    return [s for s in not_emb if s.name != (out_node.name if out_node else None) and s.forward_moment > 0 and varies(s.z)]


def _data_readers(sigs: list[Signal], nodes: dict) -> set[str]:
    """The node whose input is the model's input (the probe data): the first executed node, unless it is an
    embedding (whose output is no data: its table is trained by that gradient).  ``∂L/∂x`` there is the
    gradient with respect to the data, which no parameter's gradient depends on, so it is left out of the
    backward trend.  (A second node reading the same data, e.g. a second tower, is not recognised: its
    point stays in, as before.)"""
    if not sigs or isinstance(nodes[sigs[0].name].layer, Embedding) or sigs[0].input_moment is None:
        return set()
    return {sigs[0].name}


def _underflow(key: str, members: list[Signal], back: list[float | None], stack: list[Signal], pos: dict[str, int],
               ms: _Measure, note_ratio: float, error_ratio: float) -> tuple[str, str, dict[str, Any]] | None:
    """The backward trend of a class whose gradient decays beyond the noise band and then is exactly 0 in
    every member below (towards the input) the nonzero ones: it vanished below the floating-point range,
    an error (issue 17: a 200-layer tanh MLP whose gradients fall by 10^95 was called healthy because the
    zeros skipped the trend).  ``None`` when the zeros have another shape (scattered zeros come from
    structure, e.g. zero-initialized branches, which the structural checks report) or the nonzero members
    show no decay beyond the band."""
    live = [(s, b) for s, b in zip(members, back) if b is not None and b > 0]
    zeros = [s.name for s, b in zip(members, back) if b == 0]
    if len(live) < MIN_CLASS or len(zeros) + len(live) != len(members):
        return None
    if max(pos[z] for z in zeros) > pos[live[0][0].name]:
        return None
    names = [s.name for s, _ in live]
    band = _band(ms, stack, pos[names[0]], pos[names[-1]])
    sev, text, fig = _trend(key, names, [b for _, b in live], band, ms, note_ratio, error_ratio, "backward")
    if sev is None or fig["log_change"] > 0:
        return None
    text += (f", then exactly 0 at the {len(zeros)} layer{'s' if len(zeros) > 1 else ''} below ({zeros[0]}"
             f"{' ... ' + zeros[-1] if len(zeros) > 1 else ''}): the gradient underflows, it vanishes below the "
             "floating-point range")
    return ERROR, text, {**fig, "underflow_at": zeros}


def signal(view: ModelView, note_ratio: float = 10.0, error_ratio: float = 100.0) -> tuple[list[Finding], dict | None]:
    """Findings and the per-layer profile (``None`` without a probe); see the module docstring.

    Returns:
        ``(findings, summary)``: ``summary`` holds the per-layer output moments (``layers``, ``forward``,
        ``backward``), the input moments when measured (``input_forward``, ``input_backward``), what the
        trends compare (``measured``: ``"inputs"`` or ``"outputs"``), the ``stack``, per sibling class its
        figures (``classes``: ``{key: {"layers", "forward", "backward"}}``), one-line summaries and, when the
        probe batch cannot decide, ``not_decided`` (the coverage's reason).
    """
    out, summary = _trends(view, note_ratio, error_ratio)
    probe = view.probe
    tiny = [b for b in (probe.batch_stats if probe is not None else ()) if b.values <= NO_GRADIENT]
    if summary is None or not tiny:
        return out, summary
    # a normalisation of m <= 2 values per channel passes no gradient, and of m = 1 outputs its shift alone:
    # neither direction's profile says anything about the init, wherever the trend was measured
    least = min(tiny, key=lambda b: b.values)
    head, _ = short_of(probe, least)
    reason = (f"{head}), which passes no gradient (2 or fewer values per {per(least)}) and outputs its shift alone "
              f"at 1; {rerun_all(probe, tiny, NO_GRADIENT + 1, or_larger=False)}")
    summary.setdefault("not_decided", reason)
    return [f if f.kind not in ("signal-forward", "signal-backward") or f.figures.get("not_decided") else
            dataclasses.replace(f, severity=NOTE, message=f"{f.message} Not decided: {reason.removeprefix('not decided: ')}.",
                                figures={**(f.figures or {}), "not_decided": True}) for f in out], summary


def _trends(view: ModelView, note_ratio: float, error_ratio: float) -> tuple[list[Finding], dict | None]:
    """:func:`signal` before the check for normalisations of 2 or fewer values per channel."""
    probe = view.probe
    if probe is None or not probe.signals:
        return [], None
    nodes = {n.name: n for n in view.nodes}
    sigs = [s for s in probe.signals if s.name in nodes]
    ms = _Measure(any(s.input_moment is not None for s in sigs), probe.batch)
    summary: dict[str, Any] = {"batch": probe.batch, "layers": [s.name for s in sigs],
                               "forward": [s.forward_moment for s in sigs],
                               "backward": [s.backward_moment for s in sigs],
                               "measured": ms.where + "s"}
    if ms.inputs:
        summary["input_forward"] = [s.input_moment for s in sigs]
        summary["input_backward"] = [s.input_grad_moment for s in sigs]
    out: list[Finding] = []
    out_node = view.output_node()
    if not probe.output_varies and probe.input_varies:
        zero_head = out_node is not None and out_node.weight.is_constant()
        cut = next((s.name for s in sigs if not varies(s.z)), None)
        if not zero_head:
            out.append(Finding(
                ERROR, "signal-forward", tuple(s.name for s in sigs[-1:]),
                f"the model output is the same for all {probe.batch} probe inputs: the signal is cut at init"
                + (f" (from {cut} on, layer outputs no longer depend on the input)" if cut else "") + ".",
                {"cut_at": cut}))
    stack = _stack(view, sigs, ms)
    summary["stack"] = [s.name for s in stack]
    pos = {s.name: i for i, s in enumerate(stack)}
    grouped: dict[str, list[Signal]] = {}
    for s in stack:
        # one width per class in staged models: across a stage's width change the moments move with the
        # width by design under a fixed-std scheme (std 0.02 at every width), not a trend through depth
        key = depth_key(s.name, nodes[s.name].owner_type)
        grouped.setdefault(f"{key} [width {ms.width(s)}]" if key.count("#") >= 2 else key, []).append(s)
    classes = {k: v for k, v in grouped.items() if len(v) >= MIN_CLASS}
    if not classes:
        summary["forward_summary"] = (f"hidden stack of {len(stack)} layer(s), no sibling class of {MIN_CLASS} or more "
                                      "layers at one width: no trend to measure")
        return out, summary
    data = _data_readers(sigs, nodes) if ms.inputs else set()
    per_class: dict[str, dict[str, Any]] = {}
    results: dict[str, list[tuple[str | None, str, dict[str, Any]]]] = {"forward": [], "backward": []}
    zero_back: list[str] = []
    for key, members in classes.items():
        names = [s.name for s in members]
        band = _band(ms, stack, pos[names[0]], pos[names[-1]])
        fwd = _trend(key, names, [ms.forward(s) for s in members], band, ms, note_ratio, error_ratio, "forward")
        results["forward"].append(fwd)
        entry: dict[str, Any] = {"layers": names, "forward": fwd[2], "backward": None}
        # the gradient at the model's own input is no parameter's gradient: the backward trend starts above it
        members = [s for s in members if s.name not in data]
        if len(members) < MIN_CLASS:
            per_class[key] = entry
            continue
        names = entry["backward_layers"] = [s.name for s in members]
        band = _band(ms, stack, pos[names[0]], pos[names[-1]])
        back = [ms.backward(s) for s in members]
        if all(b is not None and b > 0 for b in back):
            bwd = _trend(key, names, back, band, ms, note_ratio, error_ratio, "backward")  # type: ignore[arg-type]
            results["backward"].append(bwd)
            entry["backward"] = bwd[2]
        elif any(b == 0 for b in back):
            underflow = _underflow(key, members, back, stack, pos, ms, note_ratio, error_ratio)
            if underflow is None:
                zero_back.append(key)
            else:
                results["backward"].append(underflow)
                entry["backward"] = underflow[2]
        per_class[key] = entry
    summary["classes"] = per_class

    def is_normalized(fig: dict[str, Any], direction: str) -> bool:
        """Whether every layer whose weights act between the class's two end measurements feeds a normalization
        (measured at inputs, the last member's own weights act on neither: its input, and the gradient there,
        are upstream of them)."""
        members = per_class[fig["class"]]["layers" if direction == "forward" else "backward_layers"]
        between = stack[pos[members[0]]:pos[members[-1]] + (0 if ms.inputs else 1)]
        return all(nodes[s.name].scale_invariant is True for s in between)

    # a normalized stretch's error is a note whatever the batch (below): only the others can be undecided
    results["backward"], undecided = _split_undecided(probe, results["backward"], note_ratio,
                                                      lambda fig: is_normalized(fig, "backward"))
    if undecided:
        finding, summary["not_decided"] = _undecided_finding(probe, undecided, per_class)
        summary["backward_summary" if not results["backward"] else "backward_not_decided"] = finding.message
        out.append(finding)
    for direction, kind in (("forward", "signal-forward"), ("backward", "signal-backward")):
        res = results[direction]
        if not res:
            continue
        worst = max(res, key=lambda r: abs(r[2]["log_change"]) - r[2]["band_log"])
        sev, text, fig = worst
        also = sum(1 for r in res if r[0] is not None and r is not worst)
        of = f"worst of {len(res)} sibling class{'es' if len(res) > 1 else ''}"
        summary[f"{direction}_summary"] = f"{text} (noise band {math.exp(fig['band_log']):.3g}x; {of})"
        if direction == "forward":
            mf = _mean_field(view, per_class[fig["class"]]["layers"])
            if mf:
                summary["mean_field"] = mf
        if sev is None:
            continue
        members = per_class[fig["class"]]["layers" if direction == "forward" else "backward_layers"]
        normalized = is_normalized(fig, direction)
        if normalized and sev == ERROR:
            sev = NOTE  # the weights' scales cannot move this trend: see the docstring
        thr = error_ratio if sev == ERROR else note_ratio
        tail = (f"exponential {'growth' if fig['log_change'] > 0 else 'decay'} through depth at init."
                if direction == "forward" else
                f"gradients {'explode' if fig['log_change'] > 0 else 'vanish'} through depth at init.")
        beyond = math.exp(abs(fig["log_change"]) - fig["band_log"])
        # the change divided by the band is what the thresholds bound: say it, and where a note would become an error
        rule = f"more than {thr:g}x" + (f"; an error from {error_ratio:g}x" if sev == NOTE and not normalized else "")
        msg = (f"{text}, beyond the sampling band ({math.exp(fig['band_log']):.3g}x) by {beyond:.3g}x ({rule}): {tail}"
               + (f" ({of}; {also} other{'s' if also != 1 else ''} beyond the note threshold)" if len(res) > 1 else ""))
        if direction == "forward" and summary.get("mean_field"):
            msg += f" {summary['mean_field']}."
        if normalized:
            fig = {**fig, "normalized": True}
            msg += (" Every layer whose weights act between these two measurements feeds a normalization, so the weights' "
                    "init scales cannot change this trend (a note, not an error): it is the architecture's, at its "
                    "norm init (a zero-initialized last norm scale in each residual branch starts the blocks at "
                    "identity).")
        out.append(Finding(sev, kind, tuple(members), msg, fig))
    if zero_back:
        zero = (f"backward signal is zero in part of {len(zero_back)} sibling class{'es' if len(zero_back) > 1 else ''} "
                f"at init ({', '.join(zero_back[:4])}{', ...' if len(zero_back) > 4 else ''}): not compared (see the "
                "structural findings)")
        summary["backward_zero" if results["backward"] or undecided else "backward_summary"] = zero
    return out, summary


def _split_undecided(probe: Any, res: list[tuple[str | None, str, dict[str, Any]]], note_ratio: float,
                     normalized: Any = lambda fig: False) -> tuple[
        list[tuple[str | None, str, dict[str, Any]]], list[tuple[tuple[str | None, str, dict[str, Any]], Any]]]:
    """``res`` without the backward errors the probe batch cannot decide, and those with what
    :func:`~invariants.modelcheck.batchstats.too_small` said: a growth across a batch-statistics normalisation
    that saw fewer than ``m_min`` values (the batch's sampling error alone can make it), a decay across one that
    saw 2 or fewer (it passes no gradient).  Notes stay notes: they accuse nothing (the batch's bias only adds to
    a growth); so do errors of a class for which ``normalized(fig)`` holds (a normalized stretch: its error is
    reported as a note whatever the batch, so the check decides it)."""
    keep, undecided = [], []
    for r in res:
        sev, _, fig = r
        small = (too_small(probe, fig["first"], fig["last"], note_ratio, growth=fig["log_change"] > 0)
                 if sev == ERROR and probe.batch_stats and not normalized(fig) else None)
        if small is None:
            keep.append(r)
        else:
            undecided.append((r, small))
    return keep, undecided


def _undecided_finding(probe: Any, undecided: list, per_class: dict[str, dict[str, Any]]) -> tuple[Finding, str]:
    """The note for the worst undecided backward growth (:func:`_split_undecided`) and the coverage's reason."""
    (sev, text, fig), (small, need) = max(undecided, key=lambda u: u[0][2]["log_change"] - u[0][2]["band_log"])
    least = min(small, key=lambda b: b.values)
    head, _ = short_of(probe, least)
    n_cross = len(crossed(probe, fig["first"], fig["last"]))
    reason = f"{head}; m_min = {need})"
    again = rerun_all(probe, small, need)
    others = len(undecided) - 1
    # a per-sample group statistic has the same sampling bias as a batch one (m values, mean and scale removed)
    unit = "channel" if all(b.kind == "batch" for b in small) else "channel or group"
    why = (f"each multiplies the squared gradient norm by about (m-2)/(m-3) for m values per {unit} (the "
           f"{'batch' if unit == 'channel' else 'sample'}'s own standard deviation, not the init)"
           if fig["log_change"] > 0 else
           f"one that normalises 2 or fewer values per {unit} passes no gradient (the "
           f"{'batch ' if unit == 'channel' else ''}mean and the normalised values span them all)")
    msg = (f"{text}, beyond the sampling band ({math.exp(fig['band_log']):.3g}x) by "
           f"{math.exp(abs(fig['log_change']) - fig['band_log']):.3g}x: {reason}. This gradient crosses {n_cross} "
           f"{'batch' if unit == 'channel' else 'sampled'}-statistics normalisation{'s' if n_cross != 1 else ''}, "
           f"{len(small)} of them below m_min; {why}, so this {'growth' if fig['log_change'] > 0 else 'decay'} may be "
           f"the {'batch' if unit == 'channel' else 'probe input'}'s: {again}."
           + (f" ({others} other sibling class{'es' if others != 1 else ''} not decided for the same reason)"
              if others else ""))
    figs = {**fig, "not_decided": True, "m_min": need, "crossed": n_cross,
            "batch_stats": [{"name": b.name, "values": b.values} for b in small]}
    members = per_class[fig["class"]]["backward_layers"]
    return Finding(NOTE, "signal-backward", tuple(members), msg, figs), f"{reason}; {again}"


#: smallest forward and backward gain between a node's output and the next node's input read as an amplifier
MIN_AMPLIFICATION = 4.0


def output_amplification(view: ModelView) -> dict[str, tuple[float, float]]:
    """Per weight name, ``(F, B)`` where the probe saw the node's output amplified before the next executed
    node in both directions: ``F = E[x'²]/E[z²]`` (the next node's input over this node's output) and
    ``B = E[δ²]/E[g'²]`` (the gradient at this output over the one at the next node's input), both at least
    :data:`MIN_AMPLIFICATION`.  An elementwise ``φ(c·z)`` between them (SIREN's ``sin(ω0·z)``, Sitzmann et
    al. 2020, Sec. 3.2: ω0 = 30 multiplied in forward) multiplies the forward signal by about ``c²·E[φ²]/…``
    and the gradient by ``c²·E[φ'²]``, so the stored weights understate the scale the network uses by about
    ``min(F, B)``; a normalization right after the node does the same (its scale is then irrelevant).  A
    residual stream normalized after the sum amplifies the forward direction only (the gradient at the
    branch output is the stream's), and so does a node whose output the next node does not read: neither
    is listed.  Empty without a probe that measured inputs."""
    probe = view.probe
    if probe is None:
        return {}
    nodes = {n.name: n for n in view.nodes}
    out: dict[str, tuple[float, float]] = {}
    for s, nxt in zip(probe.signals, probe.signals[1:]):
        node = nodes.get(s.name)
        if node is None or nxt.input_moment is None or not nxt.input_grad_moment or s.delta is None:
            continue
        z2, d2 = s.forward_moment, s.backward_moment
        if not z2 or not d2:
            continue
        f, b = float(nxt.input_moment) / z2, d2 / float(nxt.input_grad_moment)
        if f >= MIN_AMPLIFICATION and b >= MIN_AMPLIFICATION:
            out[node.weight.name] = (f, b)
    return out


_LAYER = re.compile(r"layer(\d+)$")


def _mean_field(view: ModelView, names: list[str]) -> str:
    if view.mean_field is None or not all(_LAYER.match(n) for n in names):
        return ""
    try:
        mf = view.mean_field()
    except (ValueError, OverflowError):
        return ""
    idx = [int(_LAYER.match(n).group(1)) - 1 for n in names]  # type: ignore[union-attr]
    q = [mf["q"][i] for i in idx]
    chis = mf["chi"]
    if not q or q[0] <= 0:
        return ""
    chi_txt = ", ".join(f"{c:.3g}" for c in chis[:6]) + (", ..." if len(chis) > 6 else "")
    return (f"mean field for the measured gains sigma_w^2 = Var(W)*fan_in "
            f"({', '.join(f'{v:.3g}' for v in mf['sigma_w2'][:6])}) predicts E[z^2] {q[0]:.4g} -> {q[-1]:.4g} "
            f"({q[-1] / q[0]:.3g}x) and gradient factors chi = {chi_txt} per layer")


__all__ = ["BAND_K", "MIN_AMPLIFICATION", "MIN_CLASS", "WALK_R2", "depth_key", "output_amplification", "signal"]
