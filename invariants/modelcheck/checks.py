"""Structural checks: copies, constants, dead units, interchangeable units, packed orthogonality.

Each check maps a :class:`~invariants.frameworks.model.ModelView` to findings.  The decisions are
exact (bitwise equality, exact zeros) except one tolerance, :data:`TIE_RTOL`, for comparing the
gradients of units with identical incoming weights; see :func:`interchangeable_units`.

Revival of a dead unit (one whose incoming weights are all zero, so it outputs the constant
``c`` = its bias at init): its own parameters get the gradient ``δ·x`` with ``δ = (outgoing signal)·φ'(c)``.
If ``φ'(c) = 0`` (ReLU at ``c <= 0``: torch and JAX both define ``relu'(0) = 0``) nothing ever changes
``c``, so the unit is dead for ever, whatever the optimizer.  If ``φ'(c) ≠ 0`` and the probe shows a
nonzero ``δ`` *and* a nonzero input ``x``, the first step revives it.  A nonzero ``δ`` on an input
that is zero on every probe row (the layers before output 0, e.g. the output layer of a net whose
layers are all zero) moves only the bias: the weight gradient ``δ·xᵀ`` is 0 for as long as ``x = 0``.
With ``δ = 0`` and ``φ'(c) ≠ 0`` (or an activation the extractor cannot see), the outgoing path is zero
at init; whether later steps revive the unit depends on other parameters, and the check says so.
"""
from __future__ import annotations

import hashlib
import math
import re
from typing import Sequence

import numpy as np

from invariants.frameworks.dtypes import all_equal, is_bfloat16, widen
from invariants.frameworks.model import (
    ACTIVATION_DERIVATIVES,
    RANDOM_ROLES,
    ModelView,
    Node,
    Param,
)
from invariants.layers import Embedding
from invariants.layers.experts import module_wise
from invariants.modelcheck.report import ERROR, NOTE, Finding
from invariants.modelcheck.siblings import sibling_key
from invariants.stats.extremes import mantissa_bits
from invariants.stats.structure import orthogonality_error, orthogonality_tolerance

#: Relative tolerance for "identical gradients" of units with bitwise-identical incoming weights.  If
#: their outgoing weights are identical too, their gradients are the same sums of the same products;
#: a BLAS may still add them in a different order per column, which changes a float32 sum of ``N``
#: terms by at most about ``N·2^-24`` relative (1e-4 at N = 1600).  Units whose outgoing weights
#: differ have gradients that differ by O(1) relative on a random probe.  1e-3 separates the two.
TIE_RTOL = 1e-3


def _fmt_units(idx: Sequence[int], limit: int = 8) -> str:
    idx = list(idx)
    if not idx:
        return "none"
    runs, start, prev = [], idx[0], idx[0]
    for i in idx[1:] + [None]:  # type: ignore[list-item]
        if i is not None and i == prev + 1:
            prev = i
            continue
        runs.append(f"{start}" if start == prev else f"{start}-{prev}")
        if i is not None:
            start = prev = i
    text = ", ".join(runs[:limit])
    return text + (f", ... ({len(idx)} in all)" if len(runs) > limit else "")


def _where(node: Node) -> str:
    return f"layer {node.name!r} ({node.layer.describe()})"


def _named(p: Param) -> str:
    """``p.name``, with the other names of a tied parameter (one tensor registered under several names,
    e.g. GPT-2's ``lm_head.weight`` = ``transformer.wte.weight``): a finding on it is a finding on all."""
    tied = tuple(getattr(p, "tied", ()) or ())
    return f"{p.name} (tied: also {', '.join(tied)})" if tied else p.name


def _list(names: Sequence[str], limit: int = 3) -> str:
    return ", ".join(names[:limit]) + (f" and {len(names) - limit} more" if len(names) > limit else "")


def _node_of(view: ModelView, p: Param) -> Node | None:
    return next((n for n in view.nodes if n.weight is p), None)


# ------------------------------------------------------------------------------------------ copies


def _common_suffix(names: Sequence[str]) -> str:
    """The longest common suffix of ``names`` that starts at a path separator (``.`` or ``/``)."""
    import os

    suffix = os.path.commonprefix([n[::-1] for n in names])[::-1]
    cuts = [suffix.find(c) for c in "./" if c in suffix]
    return suffix[min(cuts):] if cuts else ""


def tensor_digests(p: Param) -> list[tuple[str, tuple, str | None]]:
    """``[(label, key, parent)]`` for the tensor ``p`` and each of its packed blocks that is not constant
    (``n >= 2``): ``key = (dtype, shape, sha256 of the bytes)``, ``parent`` the tensor's name for a
    block, ``None`` for the whole tensor.  The per-tensor half of :func:`identical_tensors`, so a
    streamed check (:mod:`invariants.modelcheck.stream`) keeps 32-byte digests, not the tensors.

    A bfloat16 tensor is keyed by its values widened exactly to float32 (:func:`~invariants.frameworks.
    dtypes.widen`), :data:`DIGEST_CHUNK` values at a time: the key of a float32 tensor holding the same
    values, whatever the reader's dtype, with one chunk converted at a time."""
    out = []
    parts = [(p.name, p.value, None)]
    if p.layer is not None and p.layer.blocks:
        parts += [(label, p.value[idx], p.name) for label, idx, _ in p.blocks()]  # type: ignore[index]
    for label, v, parent in parts:
        v = np.ascontiguousarray(v)
        if v.size < 2 or all_equal(v) or not_a_draw(v):
            continue
        out.append((label, _digest_key(v), parent))
    return out


#: values :func:`not_a_draw` counts distinct values among (the first ones of the tensor)
DRAW_SAMPLE = 4096


def not_a_draw(v: np.ndarray) -> bool:
    """Whether ``v`` (C-contiguous, any shape) cannot be one random draw, so that its equality with another tensor
    says nothing about a reused seed: its rows repeat (every slice along axis 0 equals the first), or its first
    :data:`DRAW_SAMPLE` values take at most ``sqrt`` of their count distinct bit patterns.  Deterministic
    initializations are equal across layers by design: Mamba's ``A_log = log(arange(1, N + 1))`` expanded over the
    channels (transformers ``modeling_mamba.py`` ``MambaMixer.__init__``; S4D-real, Gu et al. 2022), the same in
    every layer.  A random draw of 4096 values, even in bfloat16 (about 2,000 patterns within 4 std), has far more
    than 64 distinct values, and its rows repeat with probability 0."""
    if v.ndim >= 2 and v.shape[0] >= 2 and v[0].size > 0 and np.array_equal(v, np.broadcast_to(v[:1], v.shape)):
        return True
    sample = v.reshape(-1)[:DRAW_SAMPLE]
    bits = sample.view(np.dtype(f"u{sample.dtype.itemsize}")) if sample.dtype.itemsize in (1, 2, 4, 8) else sample
    distinct = np.unique(bits).size
    return distinct * distinct <= sample.size


#: values widened at once by :func:`tensor_digests` (16 MiB of float32)
DIGEST_CHUNK = 1 << 22


def _digest_key(v: np.ndarray) -> tuple:
    """``(dtype, shape, sha256)`` of a C-contiguous array (see :func:`tensor_digests`)."""
    if not is_bfloat16(v.dtype):
        return v.dtype.str, v.shape, hashlib.sha256(raw_bytes(v)).hexdigest()  # no copy
    h, flat = hashlib.sha256(), v.ravel()
    for i in range(0, flat.size, DIGEST_CHUNK):
        h.update(raw_bytes(widen(flat[i:i + DIGEST_CHUNK])))  # sha256 of the concatenation: the float32 tensor's
    return np.dtype(np.float32).str, v.shape, h.hexdigest()


def raw_bytes(v: np.ndarray) -> memoryview:
    """The bytes of ``v`` in C order, as a buffer (no copy when ``v`` is C-contiguous).  Through a ``uint8``
    view: numpy's buffer protocol refuses dtypes it has no format letter for (``ml_dtypes.bfloat16``:
    "cannot include dtype 'E' in a buffer")."""
    return np.ascontiguousarray(v).reshape(-1).view(np.uint8).data


def identical_tensors(view: ModelView) -> list[Finding]:
    """Non-constant tensors (or packed blocks) that are bit-identical to another one.

    Separately initialized tensors coincide with probability at most ``p_cell^n`` (``p_cell`` = the
    largest probability of one float value, ``<= 2^-20`` for the float32 laws in use) — never, for
    ``n >= 2``.  Tied parameters (one tensor used twice) are a single parameter and are not reported.
    Copies that pair up module by module (``layers.0.*`` = ``layers.1.*``, as after ``copy.deepcopy`` of
    an initialized module) are reported as one finding per pair of modules.
    """
    return copies([d for p in view.params for d in tensor_digests(p)])


#: a path segment naming a mixture-of-experts router (Mixtral/DeepSeek/Qwen-MoE ``gate``, Switch/DBRX ``router``);
#: ``gate_proj`` (a gated MLP's projection) is no router
_ROUTER = re.compile(r"(router\w*|gate|gating|routing|switch)", re.IGNORECASE)
_SEGMENTS = re.compile(r"([./])")


def upcycled_router(owners: Sequence[str], labels: Sequence[str]) -> str | None:
    """The router of a sparse-upcycled mixture of experts, or ``None``.

    ``owners`` are the module paths whose tensors are bit-identical module by module (``moe.experts.0``,
    ``moe.experts.1``, ...), ``labels`` every tensor name the check digested.  The copies are upcycled
    experts when the paths differ in one indexed segment only (the experts container ``moe.experts``), they
    are *every* expert the container holds, and the container's parent (``moe``) has a direct child named as
    a router (:data:`_ROUTER`: ``moe.gate.weight``, ``mlp.router.classifier.weight``) outside the container;
    its first tensor's name is returned.  Sparse upcycling (Komatsuzaki et al. 2022, arXiv:2212.05055) copies
    one dense MLP into every expert on purpose; copies with no router in front, or only some experts copied,
    stay an error."""
    parts = [_SEGMENTS.split(o) for o in owners]
    if len(parts) < 2 or len({len(p) for p in parts}) != 1:
        return None
    diff = [i for i in range(len(parts[0])) if len({p[i] for p in parts}) > 1]
    if len(diff) != 1 or not all(re.search(r"\d", p[diff[0]]) for p in parts) \
            or len({re.sub(r"\d+", "#", p[diff[0]]) for p in parts}) != 1:
        return None
    k = diff[0]
    container = "".join(parts[0][:k])  # "moe.experts." (with its separator)
    parent = "".join(parts[0][:k - 2]) if k >= 2 else ""  # "moe." ("" at the top level)
    pattern = re.sub(r"\d+", "#", parts[0][k])
    held = {_SEGMENTS.split(lab[len(container):])[0] for lab in labels if lab.startswith(container)}
    held = {h for h in held if re.sub(r"\d+", "#", h) == pattern}
    if held != {p[k] for p in parts}:
        return None  # only some experts are copies
    for level in dict.fromkeys((container, parent)):  # torch's experts.0 sit in a list; Flax's experts_0 beside the gate
        for lab in labels:
            if not lab.startswith(level):
                continue
            child = _SEGMENTS.split(lab[len(level):])[0]
            if _ROUTER.fullmatch(child) and re.sub(r"\d+", "#", child) != pattern:
                return lab
    return None


_EXPERTS = re.compile(r"experts?(_\d+)?", re.IGNORECASE)


def moe_router(label: str, labels: Sequence[str]) -> bool:
    """Whether tensor ``label`` belongs to a mixture-of-experts router: a path segment named as a router
    (:data:`_ROUTER`: ``mlp.router.classifier.weight`` of HF SwitchTransformers, ``mlp.gate.weight`` of
    Mixtral/Qwen2-MoE, ``params/moe/gate/kernel``) whose parent module also holds experts (a sibling segment
    ``experts``, ``expert_0``, ``experts_0`` among ``labels``).  A router's logits pick experts through a
    softmax/top-k, so its scale is a routing temperature, not a signal-preserving variance: libraries draw it
    on its own rule (modeling_switch_transformers.py ``_init_weights``: ``router.classifier`` normal(0,
    factor·1), the attention projections normal(0, factor·(d_model·d_kv)^-1/2)).  A layer named ``gate``
    with no experts beside it (a GLU's or LSTM's gate) is no router."""
    parts = _SEGMENTS.split(label)
    for i in range(0, len(parts) - 1, 2):
        if not _ROUTER.fullmatch(parts[i]):
            continue
        parent = "".join(parts[:i])
        for other in labels:
            if other.startswith(parent) and other != label:
                seg = _SEGMENTS.split(other[len(parent):])[0]
                if _EXPERTS.fullmatch(seg):
                    return True
    return False


def copies(digests: Sequence[tuple[str, tuple, str | None]]) -> list[Finding]:
    """The ``identical-tensors`` findings from :func:`tensor_digests` rows, in model order."""
    groups: dict[tuple, list[str]] = {}
    shapes: dict[tuple, tuple[int, ...]] = {}
    whole: dict[str, tuple] = {}
    for label, key, parent in digests:
        groups.setdefault(key, []).append(label)
        shapes[key] = key[1]
        if parent is None:
            whole[label] = key
    dup_whole = {n for k, names in groups.items() if len(names) > 1 for n in names if n in whole}
    merged: dict[tuple[str, ...], list[tuple[list[str], tuple[int, ...]]]] = {}
    for key, names in groups.items():
        if len(names) < 2:
            continue
        parents = {n.split("[")[0] for n in names if "[" in n}
        if parents and all(n.split("[")[0] in dup_whole for n in names):
            continue  # blocks of tensors already reported as whole copies
        # stacked experts' blocks are paired as experts kept as modules are (experts.3.gate_up_proj[up])
        paths = [module_wise(n) for n in names]
        parents = {n.split("[")[0] for n in paths if "[" in n}
        suffix = _common_suffix(paths) if len(parents) != 1 else ""
        owners = tuple(n[: len(n) - len(suffix)] if suffix else n for n in paths)
        merged.setdefault(owners, []).append((names, shapes[key]))
    out = []
    labels = [module_wise(label) for label, _, _ in digests]
    for owners, items in merged.items():
        names = [n for ns, _ in items for n in ns]
        n_values = sum(int(np.prod(shp)) for _, shp in items)
        desc = "; ".join(f"{' = '.join(ns)} ({'x'.join(map(str, shp))})" for ns, shp in items[:6])
        more = f"; and {len(items) - 6} more" if len(items) > 6 else ""
        head = (f"{len(items)} tensors of {' and '.join(repr(o) for o in owners)} are bit-identical, module by module"
                if len(items) > 1 else "bit-identical tensors")
        router = upcycled_router(owners, labels) if len(items) > 1 else None
        if router is not None:
            out.append(Finding(
                NOTE, "upcycled-experts", tuple(names),
                f"{head}: {desc}{more} ({n_values} values per copy). They are every expert of a mixture of experts "
                f"with a router ({router}): sparse upcycling (Komatsuzaki et al. 2022, \"Sparse Upcycling\") starts "
                "every expert as a copy of one dense MLP on purpose; the router's different weights per expert send "
                "them different tokens, so training separates them.",
                {"groups": [ns for ns, _ in items], "values_per_copy": n_values, "router": router}))
            continue
        out.append(Finding(
            ERROR, "identical-tensors", tuple(names),
            f"{head}: {desc}{more} ({n_values} values per copy). Independent draws coincide with probability below "
            f"2^-{20 * (n_values - 1)}: one seeded initializer instance was reused (keras.initializers.GlorotUniform("
            "seed=0) given to two layers, one jax.random key for two kernels, torch.manual_seed(s) before each "
            "init), or an initialized module was deep-copied (torch.nn.TransformerEncoder/Decoder clone their "
            "layer, a reported fault: pytorch/pytorch#72253 \"Transformer Initialization\", labelled high priority, "
            "and #86274). The copies start perfectly correlated; re-initialize each, or tie them if one parameter "
            "was meant.", {"groups": [ns for ns, _ in items], "values_per_copy": n_values}))
    return out


# ------------------------------------------------------------------------------------------ revival


def revival(view: ModelView, node: Node, units: Sequence[int]) -> tuple[list[bool | None], str]:
    """Whether each dead unit of ``node`` can be revived by training, with the reason in words.

    Returns ``(flags, text)``: ``True`` revived at the first step (nonzero gradient on the probe and a
    nonzero input), ``False`` dead for ever (``φ'(c) = 0``), ``None`` not decided (zero gradient at init
    with ``φ'(c) ≠ 0`` or an unseen activation; or a nonzero ``δ`` but an input that is zero on the probe,
    so the weight gradient ``δ·xᵀ`` is zero and only the bias moves: :func:`input_is_zero`).
    """
    bias = node.bias_values()
    sig = view.probe.get(node.name) if view.probe is not None else None
    act = node.activation
    dfn = ACTIVATION_DERIVATIVES.get(act) if act else None
    flags: list[bool | None] = []
    got, forever, open_, no_input = [], [], [], []
    x_zero = input_is_zero(view, node)
    for j in units:
        c = float(bias[j]) if bias is not None else 0.0
        d = dfn(c) if dfn is not None else None
        if sig is not None and sig.delta is not None and np.any(sig.delta[:, j] != 0):
            if x_zero:  # dL/dW = delta x^T = 0: only the bias moves
                flags.append(None)
                no_input.append(j)
                continue
            flags.append(True)
            got.append(j)
        elif d == 0.0:
            flags.append(False)
            forever.append((j, c))
        else:
            flags.append(None)
            open_.append((j, c, d))
    parts = []
    if got:
        m = sig.delta.shape[0] if sig is not None and sig.delta is not None else 0
        parts.append(f"{len(got)} of them receive a nonzero gradient dL/dz on the probe ({m} rows), so the first "
                     "training step revives them")
    if no_input:
        parts.append(f"{len(no_input)} of them receive a nonzero gradient dL/dz on the probe, but their input x is zero "
                     "on every probe row (the layers before them output 0), so their incoming weights get the gradient "
                     "dL/dW = delta x^T = 0 and only their bias moves: they stay dead for as long as x = 0, i.e. "
                     "until a layer before them changes its output (never, if those layers are dead for ever)")
    if forever:
        cs = sorted({c for _, c in forever})
        parts.append(f"{len(forever)} are dead for ever: {act}'({', '.join(f'{c:.3g}' for c in cs[:4])}) = 0, so "
                     "neither their incoming weights nor their bias ever receive a gradient, under any optimizer")
    if open_:
        if dfn is None:
            why = "the activation that follows is not visible to the check"
        else:
            why = f"{act}'(c) != 0, but the outgoing path is zero at init"
        where = "no gradient reaches them on the probe" if sig is not None and sig.delta is not None else \
            "no probe ran to show a gradient reaching them"
        parts.append(f"{len(open_)} of them: {where} ({why}); whether later steps revive them depends on the "
                     "other parameters")
    return flags, "; ".join(parts) + "."


def input_is_zero(view: ModelView, node: Node) -> bool:
    """Whether the probe measured ``node``'s input as exactly zero on every row (``mean(x²) = 0``): its
    weight gradient ``δ·xᵀ`` is then zero whatever ``δ`` is.  ``False`` when the probe did not measure it."""
    sig = view.probe.get(node.name) if view.probe is not None else None
    return sig is not None and sig.input_moment is not None and sig.input_moment == 0.0


def _dead_rows(node: Node) -> np.ndarray:
    rows = node.incoming()
    return np.nonzero(~np.any(rows != 0, axis=1))[0]


# ------------------------------------------------------------------------------------------ constants


def _is_branch(view: ModelView, node: Node) -> bool | None:
    """Whether a parallel path carries the signal past ``node`` (the next node's input still varies).

    ``None`` (unknown) when the next node reads the very input ``node`` reads (the same ``E[x²]``, to the
    bit): a parallel projection such as attention's key after its query is no layer downstream, so its
    input says nothing about a path past ``node``."""
    if view.probe is None:
        return None
    nxt = view.probe.next_after(node.name)
    own = next((s for s in view.probe.signals if s.name == node.name), None)
    if nxt is not None and own is not None and own.input_moment is not None and nxt.input_moment == own.input_moment:
        return None
    if nxt is None or nxt.input_varies is None:
        return bool(view.probe.output_varies)
    return bool(nxt.input_varies)


_DIGITS = re.compile(r"\d+")


def _is_zero(p: Param) -> bool:
    return p.size >= 2 and p.is_constant() and float(p.value.ravel()[0]) == 0.0


def _block_axes(name: str) -> set[int]:
    """Which digit runs of ``name`` (numbered as ``_DIGITS.findall`` numbers them) index repeated blocks:
    runs that are a whole path component (``layers.3.mlp``, a ``ModuleList``/``Sequential`` index) with a
    module path below them; not identifier digits (``conv2``, ``fc1``: roles) nor an index that names
    the layer itself (``mlp.2.weight``: a role inside a ``Sequential``)."""
    parts = re.split(r"[./]", name)
    out, k = set(), 0
    for i, part in enumerate(parts):
        for _ in _DIGITS.findall(part):
            if part.isdigit() and i < len(parts) - 2:
                out.add(k)
            k += 1
    return out


def zero_siblings(view: ModelView, p: Param) -> tuple[bool | None, list[str], list[str]]:
    """Whether all-zero ``p`` follows a zero pattern its siblings share (a scheme), breaks one (a fault),
    or cannot be told apart.

    Siblings: the other parameters of the same role in the class :func:`~invariants.modelcheck.siblings.
    sibling_key` of ``p``'s path and layer type.  The class key replaces *every* run of digits, so it
    holds both block indices (``layers.0`` / ``layers.1``) and numbered roles (``conv1`` / ``conv2``,
    ``mlp.0`` / ``mlp.2`` of a Sequential).  A zero-init scheme zeros one role in every block (Fixup,
    SkipInit: every branch's last layer), so the pattern is *shared* when along some digit position the
    members that agree with ``p`` there (at least one besides ``p``) are mostly zero: ``conv2`` of every
    block.  It is *broken* when a random sibling differs from ``p`` only in block indices
    (:func:`_block_axes`: the same layer of another block, ``layers.1.mlp.down_proj`` for
    ``layers.0.mlp.down_proj``): one block's projection zeroed.  Otherwise (a random ``fc1`` next to a
    zero ``fc2`` in a single block) nothing says which, and the zero layer is given the benefit of the
    doubt.

    Returns:
        ``(shared, zero sibling names, random sibling names)``, the same layer in other blocks first, then
        by fewest differing indices; ``shared`` is ``True`` (a shared pattern), ``False`` (broken) or
        ``None`` (no siblings, or nothing decides).
    """
    key = sibling_key(p.name, p.owner_type)
    sibs = [q for q in view.params if q is not p and q.role == p.role and sibling_key(q.name, q.owner_type) == key]
    mine = _DIGITS.findall(p.name)

    def differ(q: Param) -> set[int]:
        return {i for i, (a, b) in enumerate(zip(_DIGITS.findall(q.name), mine)) if a != b}

    blocks = _block_axes(p.name)
    sibs.sort(key=lambda q: (not differ(q) <= blocks, len(differ(q))))  # the same layer in other blocks first
    zero = [q.name for q in sibs if _is_zero(q)]
    rand = [q for q in sibs if not q.is_constant()]
    names = [q.name for q in rand]
    if not sibs:
        return None, zero, names
    for i, d in enumerate(mine):
        same = [q for q in sibs if _DIGITS.findall(q.name)[i] == d]
        n_zero = sum(_is_zero(q) for q in same) + 1  # + p itself
        if same and n_zero > len(same) + 1 - n_zero:
            return True, zero, names
    if not rand:
        return True, zero, names
    if any(differ(q) <= blocks for q in rand):
        return False, zero, names
    return None, zero, names


def constant_tensors(view: ModelView) -> list[Finding]:
    """All-zero / all-constant tensors where the role expects random values, and unusual norm scales.

    Severity: a zero *output layer* (the last layer executed) while some other weight is random is a
    note (known good practice: the model outputs 0 at init and the layer gets the gradient ``hᵀδ``);
    so is a zero layer whose skip path still carries the signal (a zero-initialized residual branch:
    Goyal et al. 2017 zero-γ; Zhang et al. 2019 Fixup; De & Smith 2020 SkipInit).  Any other constant
    weight, embedding or recurrent tensor is an error.  Biases and norm shifts may be any constant;
    norm scales 1 (and 0, the zero-γ pattern) are conventional, other constants get a note.  Which reading a
    zero scale has is the norm module's own behaviour (:attr:`~invariants.frameworks.model.Param.zero_scale_passes`):
    ``γ·x̂ + β`` outputs its shift (the note says so), ``x̂·(1 + γ)`` (Gemma's RMSNorm) is the identity (nothing to
    say), and a norm that was not run gets the note with the reading stated as conditional.
    """
    out: list[Finding] = []
    randoms = [p for p in view.params if p.role in RANDOM_ROLES and p.size >= 2]
    out_node = view.output_node()
    for p in view.params:
        if p.size < 2 or not p.is_constant():
            if p.role in RANDOM_ROLES and p.layer is not None and p.layer.blocks and not p.is_constant():
                out += _constant_blocks(p)
            if p.padding_rows and p.size >= 2:
                out += _padding_rows(p)
            continue
        value = float(p.value.ravel()[0])
        if p.role == "norm_scale":
            if value == 1.0:
                continue
            if value == 0.0 and p.zero_scale_passes:
                continue  # x̂·(1 + γ) (Gemma's RMSNorm): run, the norm passed its input on; zero is the identity
            if value == 0.0:
                reading = ("the normalized output is its shift at init" if p.zero_scale_passes is False else
                           "if the norm computes γ·x̂ + β its output is its shift at init (the module was not run to "
                           "tell; one computing x̂·(1 + γ), as Gemma's RMSNorm, is the identity at a zero scale)")
                out.append(Finding(NOTE, "zero-residual-branch", (p.name,),
                                   f"{p.name} (norm scale, {p.size} values) is all zero: {reading}. At the end of a "
                                   "residual branch this is the zero-gamma practice (Goyal et al. 2017); on the main "
                                   "path it would cut the signal, which the signal check reports.",
                                   {"value": 0.0, "n": p.size}))
            else:
                out.append(Finding(NOTE, "unusual-constant", (p.name,),
                                   f"{p.name} (norm scale, {p.size} values) is the constant {value:.6g}, not the "
                                   "conventional 1 (a layer-scale factor?).", {"value": value, "n": p.size}))
            continue
        if p.role not in RANDOM_ROLES:
            continue
        node = _node_of(view, p)
        others = [q for q in randoms if q is not p and not q.is_constant()]
        what = "all zero" if value == 0 else f"the constant {value:.6g}"
        fig = {"value": value, "n": p.size, "shape": list(p.shape), "random_tensors_elsewhere": len(others)}
        rev_text, flags = "", []
        if node is not None and value == 0:
            units = list(range(node.n_units))
            flags, rev_text = revival(view, node, units)
            b = node.bias_values()
            outs = "0" if b is None or not np.any(b != 0) else "their biases"
            rev_text = f"All {node.n_units} {node.layer.unit_word} output {outs} whatever the input: {rev_text}"
            fig["revived_at_first_step"] = sum(f is True for f in flags)
            fig["dead_for_ever"] = sum(f is False for f in flags)
        dead_forever = any(f is False for f in flags)
        if node is not None and value == 0 and others and not dead_forever:
            if node is out_node and not input_is_zero(view, node):  # h = 0: h^T delta = 0, it cannot learn
                guess = "" if view.probe is not None else " (the last layer defined; no probe ran to confirm it is " \
                    "the output layer)"
                out.append(Finding(NOTE, "zero-output-layer", (p.name,),
                                   f"{_named(p)} (output layer {node.layer.describe()}){guess} is all zero while "
                                   f"{len(others)} other weight tensors are random: a known good practice (the "
                                   "model outputs its bias at init and the layer learns from the gradient h^T delta "
                                   "at once). Below it the backward signal is zero until the first step. " + rev_text,
                                   fig))
                continue
            branch = _is_branch(view, node)
            shared, zero_sibs, rand_sibs = zero_siblings(view, p) if branch else (None, [], [])
            if branch:
                fig.update(zero_siblings=len(zero_sibs), random_siblings=len(rand_sibs))
            if branch and shared is False:
                out.append(Finding(
                    ERROR, "constant-tensor", (p.name,),
                    f"{_named(p)} ({node.layer.describe()}) is all zero inside a residual branch while "
                    f"{len(rand_sibs)} of its {len(rand_sibs) + len(zero_sibs)} siblings (the same position in the "
                    f"other blocks, nearest first: {_list(rand_sibs)}) {'is' if len(rand_sibs) == 1 else 'are'} "
                    "random: a zero-init scheme (Fixup, SkipInit) zeros "
                    "that position in every block, so this one projection was zeroed by a helper or left "
                    "uninitialized. The skip path hides it from the signal, but this block's branch starts "
                    "without the function its siblings have. " + rev_text, fig))
                continue
            if branch:
                pattern = (f" {len(zero_sibs)} of its siblings are zero too: the pattern is shared across blocks."
                           if shared else " No sibling in another block shows this position random.")
                out.append(Finding(NOTE, "zero-residual-branch", (p.name,),
                                   f"{_named(p)} ({node.layer.describe()}) is all zero, yet the input of the next "
                                   "layer still varies across the probe: a skip connection carries the signal past "
                                   "it, so this is a zero-initialized residual branch (Fixup, SkipInit: known good "
                                   "practice)." + pattern + " " + rev_text, fig))
                continue
        place = ""
        if node is not None and node is out_node:
            place = " (the output layer)"
        elif node is not None and value == 0 and _is_branch(view, node) is False:
            place = " (a hidden layer on the main path: the signal is cut there at init)"
        out.append(Finding(
            ERROR, "constant-tensor", (p.name,),
            f"{_named(p)} ({p.role}{', ' + p.layer.describe() if p.layer else ''}{place}) is {what} over all "
            f"{p.size} values, where this layer type expects random values"
            f"{' (e.g. a helper that zeroed it)' if value == 0 else ''}. "
            + (rev_text if rev_text else "Every unit it feeds starts with identical incoming weights."), fig))
    return out


def _padding_rows(p: Param) -> list[Finding]:
    rows = p.zero_padding_rows()
    if not rows:
        return []
    return [Finding(NOTE, "padding-row", (p.name,),
                    f"{_named(p)} ({p.layer.describe() if p.layer else p.role}): row{'s' if len(rows) > 1 else ''} "
                    f"{', '.join(map(str, rows))} (the declared padding_idx) {'are' if len(rows) > 1 else 'is'} zero, "
                    "as the framework leaves a padding row on purpose (the pad token's vector, never updated); "
                    f"the other {p.shape[0] - len(rows)} rows are tested as the table's random values.",
                    {"rows": rows, "n_rows": p.shape[0]})]


def _constant_blocks(p: Param) -> list[Finding]:
    out = []
    for label, idx, _ in p.blocks():
        v = p.value[idx]  # type: ignore[index]
        if v.size >= 2 and np.all(v == v.ravel()[0]):
            out.append(Finding(ERROR, "constant-tensor", (label,),
                               f"packed block {label} of {p.name} ({'x'.join(map(str, v.shape))}) is the constant "
                               f"{float(v.ravel()[0]):.6g} while the other blocks are random: one gate/projection was "
                               "left uninitialized or zeroed.", {"value": float(v.ravel()[0]), "n": int(v.size)}))
    return out


# ------------------------------------------------------------------------------------------ dead units


def dead_units(view: ModelView) -> list[Finding]:
    """Output units with all-zero incoming weights in a tensor that is not constant as a whole.

    Such a unit outputs the constant ``c`` = its bias at init (identity-style inits such as
    ``torch.nn.init.dirac_`` on a grouped or channel-expanding conv leave most channels like this).
    Error unless every dead unit is revived at the first step (then a note); see :func:`revival`.
    """
    out = []
    for node in view.nodes:
        if node.weight.is_constant():
            continue
        try:
            dead = _dead_rows(node)
        except ValueError:
            continue
        if dead.size == 0:
            continue
        flags, text = revival(view, node, dead.tolist())
        bias = node.bias_values()
        consts = sorted({float(bias[j]) if bias is not None else 0.0 for j in dead})
        sev = NOTE if all(f is True for f in flags) else ERROR
        word = node.layer.unit_word
        cdesc = (f"the constant {consts[0]:.4g}" if len(consts) == 1 else
                 f"constants in [{consts[0]:.4g}, {consts[-1]:.4g}] (their biases)")
        out.append(Finding(
            sev, "dead-units", (node.weight.name,),
            f"{dead.size} of {node.n_units} {word} of {_where(node)} have all-zero incoming "
            f"weights ({word} {_fmt_units(dead.tolist())}): they output {cdesc} at init, whatever the input. {text}",
            {"dead": int(dead.size), "units": int(node.n_units), "indices": dead.tolist()[:64],
             "revived_at_first_step": sum(f is True for f in flags), "dead_for_ever": sum(f is False for f in flags),
             "activation": node.activation}))
    return out


# ------------------------------------------------------------------------------------------ ties


#: rows fingerprinted per block in :func:`row_candidates` (elements; bounds its widened copy to 8 MB)
FINGERPRINT_BLOCK = 2**20
_UINT = {1: np.uint8, 2: np.uint16, 4: np.uint32, 8: np.uint64}


def row_candidates(rows: np.ndarray) -> np.ndarray:
    """Indices (ascending) of the rows of ``rows`` (``(n, k)``) whose bytes may equal another row's: every row
    that shares a 64-bit fingerprint of its bit pattern with another.  A superset of the rows that have a
    bit-identical twin (equal bytes give equal fingerprints), usually empty for random weights; callers
    compare the candidates' bytes exactly.

    The fingerprint is ``Σ_i bits_i · c_i mod 2⁶⁴`` over a row's entries read as unsigned integers of the
    dtype's width, with fixed odd multipliers ``c_i``: one vectorised pass over blocks of rows
    (:data:`FINGERPRINT_BLOCK` elements), where a digest per row costs a Python call per unit (issue 17:
    keras ResNet50's 54 tensors 0.25 → 0.14 CPU-s, torchvision's 0.11 → 0.07).  All rows are candidates for
    a dtype of another width.
    """
    n = rows.shape[0]
    if n < 2:
        return np.arange(0)
    k = int(np.prod(rows.shape[1:], dtype=np.int64))
    uint = _UINT.get(rows.dtype.itemsize)
    if uint is None or k == 0:
        return np.arange(n)
    mult = np.random.default_rng(0).integers(0, 2**63, size=k, dtype=np.uint64) * np.uint64(2) + np.uint64(1)
    fps = np.empty(n, dtype=np.uint64)
    step = max(1, FINGERPRINT_BLOCK // max(k, 1))
    for i in range(0, n, step):
        bits = np.ascontiguousarray(rows[i:i + step]).view(uint).reshape(-1, k).astype(np.uint64)
        with np.errstate(over="ignore"):
            fps[i:i + step] = (bits * mult).sum(axis=1, dtype=np.uint64)
    _, inverse, counts = np.unique(fps, return_inverse=True, return_counts=True)
    return np.flatnonzero(counts[inverse.ravel()] > 1)


def row_classes(rows: np.ndarray) -> list[list[int]]:
    """Groups (``>= 2`` units) of output units whose incoming weights (``rows``, ``(n_units, k)``,
    :meth:`Node.incoming`) are bitwise identical, ordered by their first unit.

    Only the rows :func:`row_candidates` finds (those sharing a fingerprint) are compared, keyed by a
    sha256 digest of their bytes rather than by the bytes themselves: 32 bytes per unit instead of a
    second copy of the tensor.  Rows are compared in their own dtype (two bfloat16 rows have equal bytes
    exactly when their float32 widenings do), read as raw bytes (:func:`raw_bytes`: numpy's buffer
    protocol refuses ``ml_dtypes.bfloat16``)."""
    groups: dict[bytes, list[int]] = {}
    for j in row_candidates(rows).tolist():
        groups.setdefault(hashlib.sha256(raw_bytes(rows[j])).digest(), []).append(j)
    return [g for g in groups.values() if len(g) > 1]


def bias_classes(node: Node, rows: np.ndarray, classes: list[list[int]]) -> list[list[int]]:
    """The refinement of ``classes`` (:func:`row_classes` of ``rows``) into groups (``>= 2`` units) whose
    bias is bitwise identical too (compared cast to the rows' dtype; to float32 for bfloat16 rows, as a
    float32 reader of the same values would), ordered by their first unit.  ``classes`` itself for a
    layer without bias."""
    bias = node.bias_values()
    if bias is None:
        return classes
    tail = bias.astype(widen(rows[:0]).dtype)
    out = []
    for cls in classes:
        sub: dict[bytes, list[int]] = {}
        for j in cls:
            sub.setdefault(tail[j:j + 1].tobytes(), []).append(j)
        out += [g for g in sub.values() if len(g) > 1]
    return sorted(out, key=lambda g: g[0])


def identity_structure(rows: np.ndarray) -> float | None:
    """The common value ``v`` when ``rows`` (``(n_units, k)``, every unit's incoming weights) is an identity
    pattern scaled by ``v``: each unit has at most one nonzero incoming weight, all of them equal, at least
    one unit nonzero (``torch.nn.init.dirac_`` / ``eye_``, Keras ``Identity``: a unit passes one input
    channel through, at the kernel centre).  ``None`` otherwise."""
    nz = rows[rows != 0]
    if nz.size == 0 or np.any(np.count_nonzero(rows, axis=1) > 1) or np.any(nz != nz[0]):
        return None
    return float(nz[0])


def cell_log2(rows: np.ndarray) -> float:
    """``log2`` of ``p_cell``, an upper bound on the probability of any one value for an entry of ``rows``
    (``(n_units, k)``, every unit's incoming weights): for a continuous law at most ``x·f(x)·2^-bits <=
    2^-(bits-3)`` (a float cell at ``x`` is ``<= |x|·2^-bits`` wide and ``x·f(x) <= 0.5`` for the normal,
    uniform and truncated normal laws in use; ``bits`` from
    :func:`~invariants.stats.extremes.mantissa_bits`: 23 float32, 10 float16, 7 bfloat16), or the share of
    repeats of the most repeated value among the distinct rows when the values are discrete.  At most 0."""
    distinct = np.unique(rows, axis=0)  # the copies under test must not count as evidence of a discrete law
    if distinct.size == 0:
        return 0.0
    _, counts = np.unique(distinct, return_counts=True)
    p_cell = max(2.0 ** -(mantissa_bits(rows) - 3), float(counts.max() - 1) / distinct.size)
    return math.log2(p_cell) if p_cell > 0 else -math.inf


def informative_entries(row: np.ndarray) -> int:
    """How many entries of ``row`` (one unit's incoming weights, any shape) differ from its most frequent
    value: the entries that carry evidence of a random draw.  A constant row has none, an identity (dirac /
    eye) row or a one-hot row one, a dense random row all but one; so rows built on purpose from few
    distinct values are never mistaken for coinciding random draws."""
    _, counts = np.unique(np.asarray(row).ravel(), return_counts=True)
    return int(row.size - counts.max()) if counts.size else 0


def chance_of_duplicates(rows: np.ndarray, n_units: int) -> float:
    """``log2`` of an upper bound on the probability that some two of ``n_units`` rows drawn like ``rows``
    coincide.

    For rows of ``k`` independent entries (``rows``: ``(n_units, k)``, every unit's incoming weights), two rows
    agree with probability ``Π_i Σ_v p_v² <= p_cell^k``, ``p_cell`` from :func:`cell_log2`.  A union bound over
    the ``C(n, 2)`` pairs gives the result.  At most 0.  (The checks bound each class of coinciding rows by its
    own :func:`informative_entries` instead: :func:`copied_classes`.)
    """
    return pairs_coincide_log2(cell_log2(rows), n_units, rows.shape[1])


def copied_classes(rows: np.ndarray, same: list[list[int]], n_units: int) -> tuple[list[list[int]], float | None]:
    """The classes of bit-identical rows ``same`` (:func:`row_classes` of ``rows``, ``(n_units, k)``) that
    random draws do not explain, and the largest ``log2`` chance bound among them (``None`` if none): a class
    is copied when :func:`pairs_coincide_log2` over the ``n_units`` rows, at the cell probability of the whole
    tensor (:func:`cell_log2`) and the class's own :func:`informative_entries`, is below
    :data:`DUPLICATE_LOG2`, so low-entropy rows (zero, constant, one-hot, identity) never count as random
    draws however random the rest of the tensor is."""
    lp = cell_log2(rows)
    chances = {c[0]: pairs_coincide_log2(lp, n_units, informative_entries(rows[c[0]])) for c in same}
    copied = [c for c in same if chances[c[0]] < DUPLICATE_LOG2]
    return copied, max((chances[c[0]] for c in copied), default=None)


def pairs_coincide_log2(lp: float, n_units: int, k: int) -> float:
    """``log2`` of the union bound ``C(n, 2)·p_cell^k`` (``lp = log2 p_cell``, :func:`cell_log2`) on some two
    of ``n_units`` rows of ``k`` independent entries coinciding; at most 0 (0 for ``k = 0``)."""
    if k == 0:
        return 0.0
    return min(0.0, math.log2(max(n_units * (n_units - 1) / 2, 1.0)) + k * lp)


#: duplicated units in a random tensor are a wiring fault when chance explains them with probability below
#: ``2^DUPLICATE_LOG2`` (about 1e-9)
DUPLICATE_LOG2 = -30.0


def interchangeable_units(view: ModelView) -> list[Finding]:
    """Units of one layer with bitwise-identical incoming weights and bias, and what becomes of them.

    Interchangeable for ever (error) needs identical *outgoing* weights too; then their gradients are
    identical at every step, under any permutation-equivariant optimizer.  The reference network is
    checked exactly (:func:`invariants.symmetry.unit_classes`); for framework models the outgoing side
    is judged from the probe: the members' gradients ``∂L/∂z`` must agree within :data:`TIE_RTOL`
    relative on every probe row, and be nonzero (a zero gradient at init, e.g. behind a zero-γ
    BatchNorm, proves nothing about the outgoing weights).

    Units whose identical rows are random values (a random tensor with duplicated rows: channel 0's
    filter copied into channels 1-4) are an error ``duplicated-units`` even when training separates
    them: no initializer draws them (chance explains them with probability below ``2^``:data:`DUPLICATE_LOG2`,
    :func:`chance_of_duplicates`), so a helper copied them, the within-tensor case of
    :func:`identical_tensors` (in an output projection tied to an embedding table, the rows are token vectors:
    :func:`copied_embedding_rows`' note).  Copies are judged on the incoming weights alone, whatever the biases:
    units with copied rows and different biases compute different functions (no symmetry, nothing
    ``interchangeable``), but their rows were still not drawn independently (the finding says "biases
    differ").  Rows that chance could explain (few entries, coarse dtype) get the note
    ``tied-units`` when training separates them.  A constant tensor's units are all identical: that is
    :func:`constant_tensors`' finding (an error, or the zero output layer / zero residual branch
    practice), so nothing more is said unless the probe shows them tied for ever.  Units dead for ever
    are left to :func:`dead_units`.
    """
    out = []
    for node in view.nodes:
        constant = node.weight.is_constant()
        if view.exact_ties is not None and node.name in view.exact_ties:
            classes = [list(c) for c in view.exact_ties[node.name] if len(c) > 1]
            same_rows: list[list[int]] = []
            exact = True
        else:
            try:
                rows = node.incoming()
            except ValueError:  # a layout without unit rows: nothing to compare (the coverage says partial)
                continue
            same_rows = row_classes(rows)
            classes = bias_classes(node, rows, same_rows)
            exact = False
        if not same_rows and not classes:
            continue
        sig = view.probe.get(node.name) if view.probe is not None else None
        forever, separate, undecided, silent = [], [], [], []
        worst_sep = math.inf
        incoming = node.incoming()
        # copies are judged on the incoming weights alone: whatever the biases, bit-identical random rows
        # are not independent draws (units with equal rows but different biases are distinct functions, so
        # no symmetry ties them, but the initializer's draw was still overwritten).  The chance is bounded
        # per class from the copied row's own informative entries, so low-entropy rows (constant, one-hot,
        # identity) never count as random draws however random the rest of the tensor is
        copied, chance = ([], None) if constant or exact or not same_rows else \
            copied_classes(incoming, same_rows, node.n_units)
        copied_units = {u for c in copied for u in c}
        for cls in classes:
            rows = incoming[cls]
            is_dead = not np.any(rows != 0)
            if exact:
                forever.append(cls)
                continue
            if sig is None or sig.delta is None:
                if not constant and cls[0] not in copied_units:
                    undecided.append(cls)
                continue
            d = sig.delta[:, cls].astype(np.float64)
            scale = float(np.max(np.abs(d)))
            if scale == 0:
                if not is_dead:
                    silent.append(cls)
                continue
            diff = float(np.max(np.abs(d - d[:, :1]))) / scale
            if diff <= TIE_RTOL:
                forever.append(cls)
            else:
                separate.append(cls)
                worst_sep = min(worst_sep, diff)
        word = node.layer.unit_word
        n_tied = sum(len(c) for c in forever)
        if forever:
            how = ("their incoming weights, bias, norm parameters and outgoing weights are bit-identical "
                   "(exact check)" if exact else
                   f"identical incoming weights and bias, and gradients dL/dz that agree on all {sig.delta.shape[0]} "
                   f"probe rows to {TIE_RTOL:g} relative, so their outgoing weights are identical too")
            out.append(Finding(
                ERROR, "interchangeable-units", (node.weight.name,),
                f"{_where(node)}: {n_tied} of {node.n_units} {word} fall in {len(forever)} "
                f"class(es) of interchangeable units (largest {max(len(c) for c in forever)}: "
                f"{_fmt_units(sorted(max(forever, key=len)))}): {how}. Every step then updates them identically, so "
                "they stay copies for ever and the layer has the capacity of "
                f"{node.n_units - n_tied + len(forever)} units.",
                {"classes": [list(map(int, c)) for c in forever][:16], "units": int(node.n_units), "exact": exact}))
        if undecided:
            n_u = sum(len(c) for c in undecided)
            out.append(Finding(
                ERROR, "interchangeable-units", (node.weight.name,),
                f"{_where(node)}: {n_u} {word} in {len(undecided)} class(es) have identical "
                "incoming weights and bias; without a probe the check cannot compare their outgoing weights, so they "
                "may stay interchangeable for ever.", {"classes": [list(map(int, c)) for c in undecided][:16]}))
        tied_units = {u for c in forever for u in c}
        copied = [k for k in ([u for u in c if u not in tied_units] for c in copied) if len(k) > 1]
        if copied and isinstance(node.weight.layer, Embedding):
            copied = []  # an output projection tied to a token table: its rows are token vectors, whose copies
            # are copied_embedding_rows' note (a vocabulary extended by copying), not a wiring fault
        if copied:
            n_c = sum(len(c) for c in copied)
            kept = {u for c in copied for u in c}
            same_bias = [c for c in classes if c[0] in kept and c not in forever]
            # a class of copied rows whose biases are not all equal: its units are distinct functions
            split = sum(1 for c in copied if not any(set(c) == set(b) for b in same_bias))
            if not same_bias:
                fate = ("their biases differ, so they compute different functions from the start and no symmetry "
                        "ties them, but their weights start as copies")
            elif all(c in separate for c in same_bias):
                fate = "their gradients differ on the probe, so training separates them, but they start as copies"
            elif any(c in silent for c in same_bias):
                fate = ("their gradients are zero at init on the probe (nothing reaches them yet), so whether "
                        "training separates them depends on the parameters after them")
            else:
                fate = "no probe ran to show whether training separates them"
            if same_bias and split:
                fate += f" ({split} of the {len(copied)} class(es) have different biases)"
            start = (f"the layer starts with the capacity of {node.n_units - n_c + len(copied)} {word}"
                     if not split else f"the layer starts with {node.n_units - n_c + len(copied)} distinct random weight rows for "
                     f"{node.n_units} {word}")
            out.append(Finding(
                ERROR, "duplicated-units", (node.weight.name,),
                f"{_where(node)}: {n_c} of {node.n_units} {word} in {len(copied)} class(es) have bit-identical random "
                f"incoming weights{' (biases differ)' if split and not same_bias else ''} (largest: {word} "
                f"{_fmt_units(sorted(max(copied, key=len)))}, "
                f"{incoming.shape[1]} weights each): independent draws coincide with probability below 2^{chance:.0f}, "
                "so a helper copied one unit's weights into the others (e.g. w[1:5] = w[0]); no initializer does "
                f"this. {fate[0].upper() + fate[1:]}; {start}.",
                {"classes": [list(map(int, c)) for c in copied][:16], "units": int(node.n_units),
                 "weights_per_unit": int(incoming.shape[1]), "log2_chance": chance,
                 "classes_with_different_biases": split}))
        # dead rows are dead_units' finding
        loose = [c for c in separate + silent if c[0] not in copied_units and np.any(incoming[c[0]] != 0)]
        if loose and not constant:
            n_s = sum(len(c) for c in loose)
            ident = identity_structure(incoming)
            why = ("duplicated rows in a random tensor, few enough values that chance may explain them"
                   if ident is None else
                   f"not a random tensor: an identity (dirac/eye) kernel, every {word[:-1] if word.endswith('s') else word} "
                   f"has at most one nonzero incoming weight, all equal to {ident:.4g}, so {word} that pass the same "
                   f"input position of their own group (grouped or depthwise convolution) have identical rows")
            out.append(Finding(
                NOTE, "tied-units", (node.weight.name,),
                f"{_where(node)}: {n_s} {word} in {len(loose)} class(es) have identical "
                f"incoming weights and bias ({why})" + (f", but their gradients differ (by at least {worst_sep:.3g} relative on the "
                                    "probe): their outgoing weights differ, so training separates them."
                                    if worst_sep < math.inf else
                                    "; their gradients are zero at init on the probe, so the probe cannot tell "
                                    "whether training separates them."),
                {"classes": [list(map(int, c)) for c in loose][:16], "identity_value": ident}))
    return out


def copied_embedding_rows(view: ModelView) -> list[Finding]:
    """Token vectors of an embedding table that are bit-identical random rows: a note ``copied-embedding-rows``.

    The table is ``(V, D)`` with the token on axis 0 (torch ``nn.Embedding``, Keras ``Embedding``, Flax
    ``Embed``, Equinox and MLX alike).  Rows are compared as :func:`row_classes` compares a layer's units, and
    judged copies as :func:`interchangeable_units` judges them: independent draws coincide with probability
    below ``2^``:data:`DUPLICATE_LOG2` (:func:`pairs_coincide_log2` over the copied row's
    :func:`informative_entries`), so all-zero rows (a ``padding_idx`` row, rows zeroed on purpose) and
    constant or one-hot rows never count; a tied table is one tensor, read once.  The copied tokens look the
    same to the model at init (the same input vector; under a tied output projection, the same logit) until
    their gradients differ, which they do as soon as the tokens occur in different contexts: a note, as new
    tokens initialized to one existing vector (a vocabulary extended by copying) are a known practice.
    """
    out = []
    for p in view.params:
        lay = p.layer
        v = p.value
        if not isinstance(lay, Embedding) or v.ndim != 2 or v.shape[0] < 2 or v.shape[0] != lay.in_features \
                or p.is_constant():
            continue
        same = row_classes(v)
        if not same:
            continue
        copied, worst = copied_classes(v, same, v.shape[0])
        if not copied:
            continue
        n_c = sum(len(c) for c in copied)
        out.append(Finding(
            NOTE, "copied-embedding-rows", (p.name,),
            f"{_named(p)} ({lay.describe()}): {n_c} of {v.shape[0]} token vectors in {len(copied)} class(es) are "
            f"bit-identical (largest: rows {_fmt_units(sorted(max(copied, key=len)))}, {v.shape[1]} values each; "
            f"independent draws coincide with probability below 2^{worst:.0f}), so they were copied (e.g. new tokens "
            "initialized to one existing token's vector): those tokens are indistinguishable to the model at init, "
            "until training separates them by their different contexts.",
            {"classes": [list(map(int, c)) for c in copied][:16], "rows": int(v.shape[0]),
             "values_per_row": int(v.shape[1]), "log2_chance": worst}))
    return out


# ------------------------------------------------------------------------------------------ packed




def may_be_orthogonal(m: np.ndarray) -> bool:
    """``False`` when ``m`` (rows x cols) certainly fails
    :func:`~invariants.stats.structure.orthogonality_error` (``err > tol``), from the diagonal of its smaller
    Gram matrix alone: ``O(rows·cols)`` instead of the Gram product's ``O(min² · max)``.

    The diagonal entries are squared row (rows <= cols) or column norms; ``err >= max_i |G_ii - g²| / g²``
    with ``g²`` their mean, so a diagonal spread beyond ``2·tol`` (twice: the norms are summed here in
    another order than BLAS sums the Gram product; plus both sums' rounding) proves the full test fails.
    ``True``: run that test.  A random (non-orthogonal) matrix spreads its norms by about ``sqrt(2 / cols)``, far beyond ``tol``.
    """
    if m.ndim != 2 or m.size == 0:
        return True
    r, c = m.shape
    rows_first = r <= c  # the Gram matrix gram_error uses: M M^T (row norms) or M^T M (column norms)
    diag = np.zeros(r if rows_first else c)
    step = max(1, (1 << 22) // c)  # rows per chunk: bounded float64 temporaries
    for i in range(0, r, step):
        part = m[i:i + step].astype(np.float64)
        if rows_first:
            diag[i:i + step] = np.einsum("ij,ij->i", part, part)
        else:
            diag += np.einsum("ij,ij->j", part, part)
    g2 = float(np.mean(diag))
    if not g2 > 0 or not np.isfinite(g2):
        return True
    tol = orthogonality_tolerance(r, c, mantissa_bits(m))
    # slack: both sums carry at most max(r, c)·2^-53 relative rounding each (Higham 2002, eq. 3.5)
    return float(np.max(np.abs(diag - g2))) / g2 <= 2 * tol + 8 * max(r, c) * 2.0**-52


def packed_orthogonal(view: ModelView) -> list[Finding]:
    """Orthogonal init applied to a whole packed matrix (gates, q/k/v) so that no block is orthogonal.

    The whole matrix passes the orthogonality test (Gram error within
    :func:`invariants.stats.structure.orthogonality_tolerance`, gain fitted) while no block does.  A
    note: it trains, but no gate gets the norm-preserving recurrent map that orthogonal init is chosen
    for (Keras' own LSTM/GRU default does this on ``recurrent_kernel``).
    """
    out = []
    for p in view.params:
        if p.layer is None or len(p.layer.blocks) < 2 or p.is_constant():
            continue
        if p.layer.kind == "experts":
            # a stack of experts is no matrix anyone orthogonalizes whole: its out_matrix has one row per expert,
            # and the test's tolerance (~n 2^-21) outgrows a Gaussian stack's Gram error (~n^-1/2) as the
            # experts widen (stop 28's trial: every Mixtral at hidden 128 got this note)
            continue
        if not may_be_orthogonal(p.layout.out_matrix(p.value)):
            continue
        err, g, tol = orthogonality_error(p.layout.out_matrix(p.value))
        if err > tol:
            continue
        blocks = []
        for label, idx, _ in p.blocks():
            b = p.layout.out_matrix(p.value[idx])  # type: ignore[index]
            e, gb, t = orthogonality_error(b)
            sv = np.linalg.svd(b.astype(np.float64), compute_uv=False)
            blocks.append((label, e, t, float(sv.min()), float(sv.max())))
        if any(e <= t for _, e, t, _, _ in blocks):
            continue
        lo = min(b[3] for b in blocks)
        hi = max(b[4] for b in blocks)
        out.append(Finding(
            NOTE, "packed-orthogonal", (p.name,),
            f"{p.name} ({p.layer.describe()}, {'x'.join(map(str, p.shape))}) is orthogonal as a whole (max "
            f"|G - g^2 I|/g^2 = {err:.2g}, gain {g:.4g}) but none of its {len(blocks)} blocks is (Gram errors "
            f"{', '.join(f'{b[1]:.2f}' for b in blocks)}): orthogonal init was applied to the packed matrix, so each "
            f"gate's map has singular values spread over [{lo:.3g}, {hi:.3g}] instead of all equal. It trains, but if "
            "per-gate orthogonality was intended, initialize each block separately.",
            {"whole_error": err, "gain": g, "block_errors": [b[1] for b in blocks], "singular_values": [lo, hi]}))
    return out


__all__ = ["DIGEST_CHUNK", "DUPLICATE_LOG2", "FINGERPRINT_BLOCK", "TIE_RTOL", "bias_classes", "cell_log2",
           "chance_of_duplicates", "constant_tensors", "copied_classes", "copied_embedding_rows", "copies",
           "dead_units", "identical_tensors",
           "identity_structure", "informative_entries", "input_is_zero", "interchangeable_units", "not_a_draw",
           "packed_orthogonal",
           "pairs_coincide_log2", "raw_bytes", "revival", "row_candidates", "row_classes", "tensor_digests",
           "moe_router", "upcycled_router",
           "zero_siblings"]
