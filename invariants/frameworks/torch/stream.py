"""Meta-device torch models, one module at a time: materialise, read, free.

A model built under ``with torch.device("meta"):`` (or ``init_empty_weights``) has shapes and no values,
so a 7B-parameter config costs no memory until it is initialised.  :func:`pieces` walks
``named_modules()`` and, for each module that owns parameters, in definition order:

1. ``module.to_empty(device="cpu", recurse=False)`` (only that module's own tensors get storage) and
   fills its floating parameters with NaN, a sentinel: values no init function wrote stay NaN;
2. runs the library's own init for that module, with torch's RNG seeded by :func:`module_seed` inside
   ``fork_rng`` (the caller's RNG is untouched): ``module.reset_parameters()`` if it has one (what the
   module's constructor runs off the meta device), then, for a HuggingFace ``PreTrainedModel``, the
   ``_init_weights`` of the nearest ``PreTrainedModel`` at or above each module, applied to the module
   and then to each ancestor, innermost first, as ``PreTrainedModel.initialize_weights`` does with
   ``smart_apply`` (transformers 5, ``modeling_utils.py``: children before parents, each sub-model with
   its own ``_init_weights``; an ancestor's init touching other modules' tensors acts on meta tensors,
   a no-op).  ``_init_weights`` is called directly, not ``_initialize_weights``, so no
   ``_is_hf_initialized`` flag is set or read on the module, and the flag is cleared on fresh tensors;
   the call runs inside ``transformers.initialization.guard_torch_init_functions`` like HF's own;
3. yields the module's :class:`~invariants.frameworks.model.Param` s (:func:`own_params`) as a
   :class:`Piece`; parameters still holding NaN (no init function wrote them) are listed as not analysed
   with the reason, never read;
4. frees the module: ``module.to_empty(device="meta", recurse=False)``.

Peak memory is therefore the largest module (its tensors, their numpy copies and the checks'
temporaries), not the model.  A parameter used by two modules (``lm_head.weight`` tied to
``embed_tokens.weight``; ``to_empty`` unties them while one side is materialised) is read once, under
its first name in ``named_parameters``, and named as tied.

**Seeding.**  Each module draws from its own stream, :func:`module_seed` ``(seed, path)``: the same seed
gives the same values in any walk order, so :func:`materialize` (the whole model at once, for the
in-memory check) and :func:`pieces` give bit-identical tensors.  The values are draws from the library's
own init laws, not the values ``torch.manual_seed(seed)`` followed by an ordinary CPU construction gives.
"""
from __future__ import annotations

import contextlib
import hashlib
import sys
import time
from dataclasses import dataclass, field
from typing import Any, Iterator

import torch
from torch import nn

from invariants.frameworks.model import Node, Param
from invariants.frameworks.torch.model import own_params
from invariants.frameworks.torch.seeding import manual_seed


def is_meta_model(obj: Any) -> bool:
    """Whether ``obj`` is a torch module with at least one parameter on the ``meta`` device."""
    return isinstance(obj, nn.Module) and any(p.is_meta for p in obj.parameters())


def module_seed(seed: int, path: str) -> int:
    """The torch seed of module ``path``'s init: the first 63 bits of ``sha256(f"{seed}:{path}")``."""
    return int.from_bytes(hashlib.sha256(f"{int(seed)}:{path}".encode()).digest()[:8], "big") >> 1


@dataclass
class Piece:
    """One module's own parameters, materialised.

    Attributes:
        path: the module's path in ``named_modules()`` (``""`` for the root).
        module_type: its class name.
        params: its parameters read (tied duplicates and unwritten ones excluded), values on the CPU.
        node: its node (a layer with output units), or ``None``.
        skipped: ``(name, values, reason)`` of its parameters not analysed.
        tied: ``(name, first name)`` of its parameters that are another module's parameter.
        seconds_init: time spent in ``to_empty`` and the init functions.
        signature: what fixes the layer semantics and shapes of its parameters (class, ``extra_repr()``,
            names, shapes, dtypes, tied names); in a placeholder walk a module whose signature came
            before is not materialised and comes with ``repeat=True`` and no parameters.
        repeat: see ``signature``.
    """

    path: str
    module_type: str
    params: list[Param]
    node: Node | None
    skipped: list[tuple[str, int, str]] = field(default_factory=list)
    tied: list[tuple[str, str]] = field(default_factory=list)
    seconds_init: float = 0.0
    signature: tuple = ()
    repeat: bool = False


def signature(module: nn.Module, tied: set[str]) -> tuple:
    """See :attr:`Piece.signature` (``tied``: the module's own parameter names that are tied)."""
    own = tuple((n, tuple(p.shape), str(p.dtype), n in tied) for n, p in module.named_parameters(recurse=False)
                if p is not None)
    return (type(module).__module__, type(module).__qualname__, module.extra_repr(), own)


@dataclass
class Plan:
    """What a streamed walk will materialise, known before any value is drawn.

    Attributes:
        modules: ``(path, values, bytes)`` per module that owns untied parameters, in walk order.
        ties: ``{name: first name}`` of every tied parameter.
        values, bytes: totals over the untied parameters (bytes in their own dtype).
    """

    modules: list[tuple[str, int, int]]
    ties: dict[str, str]
    values: int
    bytes: int

    @property
    def largest(self) -> tuple[str, int, int]:
        """``(path, values, bytes)`` of the largest module (by bytes)."""
        return max(self.modules, key=lambda m: m[2]) if self.modules else ("", 0, 0)


def _full(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def plan(model: nn.Module) -> Plan:
    """The :class:`Plan` of ``model`` (reads shapes only; nothing is allocated)."""
    first: dict[int, str] = {}
    ties: dict[str, str] = {}
    modules = []
    for path, m in model.named_modules():
        n_vals = n_bytes = 0
        for n, p in m.named_parameters(recurse=False):
            if p is None:
                continue
            name = _full(path, n)
            if id(p) in first:
                ties[name] = first[id(p)]
                continue
            first[id(p)] = name
            n_vals += p.numel()
            n_bytes += p.numel() * p.element_size()
        if n_vals:
            modules.append((path, n_vals, n_bytes))
    return Plan(modules, ties, sum(m[1] for m in modules), sum(m[2] for m in modules))


def _is_hf_pretrained(m: Any) -> bool:
    return any(c.__name__ == "PreTrainedModel" and c.__module__.startswith("transformers")
               for c in type(m).__mro__)


def _hf_guard() -> Any:
    init = sys.modules.get("transformers.initialization")
    guard = getattr(init, "guard_torch_init_functions", None)
    return guard() if guard is not None else contextlib.nullcontext()


def _has_nan(p: torch.Tensor) -> bool:
    """Whether ``p`` holds a NaN: one reduction in the tensor's own dtype (no boolean or float64 copy; torch
    accumulates half precision in float32).  A NaN makes the sum NaN; an overflow makes it inf, not NaN."""
    return p.is_floating_point() and bool(torch.isnan(p.sum()))


def _unset(module: nn.Module) -> bool:
    return any(_has_nan(p) for p in module.parameters(recurse=False))


def _hf_chain(chain: list[tuple[str, nn.Module]], module: nn.Module) -> bool:
    """HF ``_init_weights`` on ``module`` then each ancestor, innermost first, each by the nearest
    ``PreTrainedModel`` at or above it (``smart_apply``); whether any ran."""
    lineage = [m for _, m in chain] + [module]
    if not any(_is_hf_pretrained(m) for m in lineage):
        return False
    with _hf_guard():
        for depth in range(len(lineage) - 1, -1, -1):
            owner = next((a for a in reversed(lineage[: depth + 1]) if _is_hf_pretrained(a)), None)
            if owner is not None:
                owner._init_weights(lineage[depth])
    return True


def _init_module(chain: list[tuple[str, nn.Module]], module: nn.Module) -> str | None:
    """Run the library's init for ``module`` (``chain``: its ancestors, root first); ``None``, or why none ran.

    Off the meta device the constructor's ``reset_parameters()`` runs first and HF's ``_init_weights``
    overwrites what it covers.  Drawing the constructor's values only to overwrite them doubles the
    time on a Llama, so the HF chain runs first and ``reset_parameters()`` (then the chain again, which
    keeps HF's values where it writes) only where values are still unset: the same laws.
    """
    reset = getattr(module, "reset_parameters", None)
    hf = _hf_chain(chain, module)
    if callable(reset) and (not hf or _unset(module)):
        reset()
        if hf:
            _hf_chain(chain, module)
    if not hf and not callable(reset):
        return (f"no init function: {type(module).__name__} has no reset_parameters() and no library init "
                "(HuggingFace _init_weights) covers it, so a meta-device parameter has no defined value")
    return None


def _materialise(chain: list[tuple[str, nn.Module]], module: nn.Module, seed: int, path: str,
                 placeholder: bool) -> dict[str, str]:
    """Give ``module``'s own tensors storage and initialise them; ``{param name: reason}`` for those not written."""
    module.to_empty(device="cpu", recurse=False)
    own = [(n, p) for n, p in module.named_parameters(recurse=False) if p is not None]
    with torch.no_grad():
        for _, p in own:
            if hasattr(p, "_is_hf_initialized"):
                del p._is_hf_initialized
            if p.is_floating_point():
                p.fill_(float("nan"))
    if placeholder:
        return {}
    with torch.random.fork_rng(devices=[]), torch.no_grad():
        manual_seed(module_seed(seed, path))
        try:
            why = _init_module(chain, module)
        except Exception as exc:  # noqa: BLE001  a library init that fails is reported, not fatal
            why = f"the init function raised {type(exc).__name__}: {' '.join(str(exc).split())[:160]}"
    out = {}
    for n, p in own:
        if why is not None:
            out[n] = why
        elif _has_nan(p):
            unset = int(torch.isnan(p).sum())
            out[n] = (f"no init function wrote it: {unset} of {p.numel()} values left unset by "
                      f"{type(module).__name__}'s init (reset_parameters() / the library's _init_weights)")
    return out


def _walk(model: nn.Module) -> Iterator[tuple[str, nn.Module, list[tuple[str, nn.Module]]]]:
    """``(path, module, ancestors root first)`` for every module, in ``named_modules()`` order."""
    by_path = dict(model.named_modules())
    for path, m in by_path.items():
        parts = path.split(".") if path else []
        chain = [(".".join(parts[:i]), by_path[".".join(parts[:i])]) for i in range(len(parts))]
        yield path, m, chain


def _retie(model: nn.Module, ties: dict[str, str]) -> None:
    """Point each tied parameter at its first name's (current) tensor again: ``to_empty`` replaces tensors."""
    for name, first in ties.items():
        owner, _, attr = name.rpartition(".")
        setattr(model.get_submodule(owner), attr, model.get_parameter(first))


def pieces(model: nn.Module, seed: int = 0, placeholder: bool = False) -> Iterator[Piece]:
    """Materialise, yield and free each module that owns untied parameters (see the module docstring).

    Args:
        model: a module whose parameters are on the ``meta`` device (others are read as they are).
        seed: the seed of :func:`module_seed`.
        placeholder: skip the init (values are NaN): shapes and layer semantics only, e.g. to count the
            tests before any value is drawn; a module whose :func:`signature` came before is then not
            materialised (``Piece.repeat``): the 32 blocks of a Llama cost one.

    The module is freed when the consumer asks for the next piece: drop the piece's references first.
    At the end the model is back on the meta device with its ties restored.
    """
    ties = plan(model).ties
    try:
        yield from _pieces(model, seed, placeholder, ties)
    finally:
        _retie(model, ties)


def _pieces(model: nn.Module, seed: int, placeholder: bool, ties: dict[str, str]) -> Iterator[Piece]:
    seen_signatures: set[tuple] = set()
    for path, m, chain in _walk(model):
        own = [(n, p) for n, p in m.named_parameters(recurse=False) if p is not None]
        tied = [(_full(path, n), ties[_full(path, n)]) for n, _ in own if _full(path, n) in ties]
        if not own or len(tied) == len(own):
            if tied:
                yield Piece(path, type(m).__name__, [], None, tied=tied)
            continue
        sig = signature(m, {n for n, _ in own if _full(path, n) in ties})
        if placeholder and sig in seen_signatures:
            yield Piece(path, type(m).__name__, [], None, tied=tied, signature=sig, repeat=True)
            continue
        seen_signatures.add(sig)
        meta = any(p.is_meta for _, p in own)
        t0 = time.perf_counter()
        unset = _materialise(chain, m, seed, path, placeholder) if meta else {}
        seconds = time.perf_counter() - t0
        tied_names = {t for t, _ in tied}
        seen = {id(p): _full(path, n) for n, p in m.named_parameters(recurse=False)
                if p is not None and (n in unset or _full(path, n) in tied_names)}
        params, node = own_params(path, m, seen)
        skipped = [(_full(path, n), p.numel(), unset[n]) for n, p in own if n in unset]
        try:
            yield Piece(path, type(m).__name__, params, node, skipped, tied, seconds, sig)
        finally:
            del params, node
            if meta:
                m.to_empty(device="meta", recurse=False)


def materialize(model: nn.Module, seed: int = 0) -> list[tuple[str, int, str]]:
    """Materialise every meta-device module of ``model`` in place on the CPU, with the same init and
    the same values as :func:`pieces` (nothing is freed: the whole model in memory).

    Returns:
        ``(name, values, reason)`` of the parameters no init function wrote (their values are NaN).
    """
    ties = plan(model).ties
    out = []
    for path, m, chain in _walk(model):
        own = [(n, p) for n, p in m.named_parameters(recurse=False) if p is not None]
        if own and any(p.is_meta for _, p in own) and not all(_full(path, n) in ties for n, _ in own):
            unset = _materialise(chain, m, seed, path, False)
            out += [(_full(path, n), p.numel(), unset[n]) for n, p in own if n in unset]
    _retie(model, ties)
    return out


__all__ = ["Piece", "Plan", "is_meta_model", "materialize", "module_seed", "pieces", "plan", "signature"]
