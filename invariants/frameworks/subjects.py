"""What a framework gives the auditor: weight tensors to audit (:class:`Subject`) and their samplers.

A :class:`Subject` is a named weight tensor with a *sampler* ``seed -> np.ndarray`` that returns an
independent fresh draw for each seed, the expectation to test it against, the framework's documented
behaviour (when it differs from the textbook), the fans the framework itself computes, and the packed
blocks to audit separately.  Frameworks (:mod:`invariants.frameworks`) build them; the auditor
(:mod:`invariants.audit.auditor`) tests them.

Samplers must be deterministic in the seed, use no global RNG state that leaks (seed an explicit
generator / key; where a framework offers none, seed inside a save/restore context and say so), and
return a numpy array of the subject's ``shape`` and a real floating dtype (:func:`check_array`).
"""
from __future__ import annotations

import inspect
import math
from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numpy as np

from invariants.core import timeout
from invariants.core.errors import BadInput
from invariants.core.imports import import_attribute
from invariants.frameworks.dtypes import is_bfloat16, widen
from invariants.frameworks.errors import BadInitializer, InitializerTimedOut, NotImplementedByFramework
from invariants.layers import Kernel, Layer, Layout
from invariants.specs import Spec

#: A sampler: ``seed -> array``; a different seed gives an independent draw, the same seed the same one.
Sampler = Callable[[int], np.ndarray]


def seeded_by(sampler: Sampler, how: str) -> Sampler:
    """Record on ``sampler`` how it hands its seed to the initializer, as a noun phrase (``"a torch.Generator
    as generator="``, ``"a JAX key (jax.random.key(seed))"``; ``"... seeded inside ..."`` where the sampler
    seeds a global RNG itself), for the determinism checks' messages
    (:mod:`invariants.audit.determinism`); returns ``sampler``."""
    sampler.seeding = how  # type: ignore[attr-defined]
    return sampler


def seeding_of(sampler: Sampler) -> str:
    """What :func:`seeded_by` recorded on ``sampler``; ``""`` when nothing was."""
    return str(getattr(sampler, "seeding", "") or "")
class DtypeSampler:
    """A sampler that can draw the same initializer in another dtype (``--dtype``).

    ``make(dtype)`` builds the plain sampler for a dtype name of :data:`invariants.frameworks.dtypes.DTYPES`
    (``None``: the framework's default, float32); calling the object draws with the current one.

    Attributes:
        dtype: the requested dtype name, or ``None`` (the default, not checked).
        accepts_dtype: whether the initializer itself is asked for the dtype (``False``: a numpy callable
            without a ``dtype`` parameter, whose result is taken as it comes).
    """

    def __init__(self, make: Callable[[str | None], Sampler], dtype: str | None = None,
                 accepts_dtype: bool = True) -> None:
        self._make = make
        self.dtype = dtype
        self.accepts_dtype = accepts_dtype
        self._draw = make(dtype)
        # how the inner sampler seeds (seeded_by), for the determinism checks' messages
        self.seeding = seeding_of(self._draw)

    def __call__(self, seed: int) -> np.ndarray:
        return self._draw(seed)

    def at_dtype(self, dtype: str | None) -> "DtypeSampler":
        """The same initializer drawn in ``dtype``."""
        return DtypeSampler(self._make, dtype, self.accepts_dtype)


class _Labelled:
    """``describe()`` for the spec-with-label records below: the label, else the spec's own text."""

    spec: Spec
    label: str

    def describe(self) -> str:
        return self.label or self.spec.text()


@dataclass(frozen=True)
class Expectation(_Labelled):
    """A spec to test a tensor against.

    Attributes:
        spec: any spec of :mod:`invariants.specs` (``VarianceScaling``, ``Normal``, ``Uniform``,
            ``TruncatedNormal``, ``Constant``, ``Orthogonal``).
        fans: ``(fan_in, fan_out)`` to resolve a fan-dependent spec with; ``None`` means the subject's
            textbook fans.
        label: short human description, e.g. ``"He uniform (kaiming_uniform_ defaults)"``; defaults to
            ``spec.text()``.
    """

    spec: Spec
    fans: tuple[int, int] | None = None
    label: str = ""


@dataclass(frozen=True)
class Documented(_Labelled):
    """The framework's documented behaviour where it departs from the textbook expectation.

    A subject that fails its textbook expectation but matches this one gets the verdict
    ``documented-deviation`` (a convention, not a fault).

    Attributes:
        spec: the documented distribution.
        reference: where the framework documents it, e.g.
            ``"torch.nn.Linear docs: U(-sqrt(k), sqrt(k)), k = 1/in_features"``.
        fans: the fans the documentation uses (``None``: the subject's framework fans, else textbook).
        label: short description of the documented rule.
    """

    spec: Spec
    reference: str
    fans: tuple[int, int] | None = None
    label: str = ""


@dataclass(frozen=True)
class Block:
    """One block of a packed tensor (a q/k/v projection, an RNN gate), audited as its own matrix.

    Attributes:
        name: block name (``"q"``, ``"i"``, ...), appended to the parameter name as ``param[name]``.
        index: numpy index of the block in the full tensor (a tuple of slices).
        layer: the layer the block represents (its textbook fans); ``None``: the subject's layer.
    """

    name: str
    index: tuple[slice, ...]
    layer: Layer | None = None


@dataclass(frozen=True)
class Subject:
    """One weight tensor to audit.

    Attributes:
        target: what produced it, e.g. ``"torch.nn.init.xavier_uniform_"`` or ``"torch.nn.Linear"``.
        param: parameter name (``"weight"``, ``"bias"``, ``"in_proj_weight"``).
        layer: the layer the tensor belongs to (gives the textbook fans); ``None`` for a tensor with no
            fan semantics (biases, norm scales).
        shape: the tensor shape in the framework's layout.
        sampler: ``seed -> np.ndarray`` of ``shape``; independent fresh draw per seed.
        expect: the textbook expectation (what the name promises, on the textbook fans).
        documented: the framework's documented rule if it differs from ``expect``, else ``None``.
        framework_fans: fans the framework's own fan function computes on the whole tensor (``None``
            when it computes none).
        blocks: packed blocks; if non-empty each block is audited instead of the whole tensor.
        fan_candidates: extra labelled fans that might explain a deviation, e.g.
            ``(("hidden size H", 64),)``; shape-derived and textbook/framework fans are added
            automatically.
        call: how the target was called, e.g. ``"kaiming_normal_(w, mode='fan_out', nonlinearity='relu')"``.
    """

    target: str
    param: str
    layer: Layer | None
    shape: tuple[int, ...]
    sampler: Sampler
    expect: Expectation
    documented: Documented | None = None
    framework_fans: tuple[int, int] | None = None
    blocks: tuple[Block, ...] = ()
    fan_candidates: tuple[tuple[str, int], ...] = ()
    call: str = ""

    @property
    def name(self) -> str:
        """``target.param`` (or ``target`` alone when ``param`` is empty)."""
        return f"{self.target}.{self.param}" if self.param else self.target

    def textbook_fans(self) -> tuple[int, int] | None:
        return self.layer.textbook_fans() if self.layer is not None else None


# ---------------------------------------------------------------------------------------- fan rules


def shape_rule(layer: Layer, expect: Expectation, layout: Layout, framework_fans: tuple[int, int] | None,
               computes_fans: bool = True) -> Documented | None:
    """What a framework's own fan rule means for a fan-based ``expect`` on ``layer`` (a user callable's audit).

    - A layer without textbook fans (:class:`~invariants.layers.Vector`, :class:`~invariants.layers.Scalar`)
      is held to the fans the framework computes on its shape (Keras: ``(n, n)``); where it computes none
      (torch, JAX/Flax, MLX refuse below 2 dims) no fan-based spec applies, and the audit is refused.
    - A :class:`~invariants.layers.Kernel` whose framework fans differ from its textbook fans: a bare call
      of a framework initializer reads the shape, not the kernel's axes (``layout.fan_rule``), so that
      is a documented deviation (``Documented`` on the framework fans), not a fault.  Only for a framework
      whose initializers compute fans themselves (``computes_fans``; not ``numpy``, whose callables are
      the user's own).

    Returns:
        the :class:`Documented` rule, or ``None``.

    Raises:
        BadInput: a fan-based spec, no fans given, none from the layer and none from the framework; one
            line naming the framework's reason, e.g. ``torch computes no fans for a tensor with fewer than
            2 dims (torch.nn.init._calculate_fan_in_and_fan_out raises ValueError)``.
    """
    if not getattr(expect.spec, "uses_fans", False) or expect.fans is not None:
        return None
    textbook = layer.textbook_fans()
    if textbook is None and framework_fans is None:
        why = layout.no_fans if computes_fans else "the framework computes none"
        raise BadInput(f"{expect.describe()} is fan-based and {layer} has no fans: a {len(layer.shape(layout))}-D "
                       f"tensor connects nothing (no textbook fans) and {why}; expect a fixed law instead "
                       "(zeros, ones, normal(std=...), uniform(a,b))")
    if (isinstance(layer, Kernel) and computes_fans and framework_fans is not None and textbook is not None
            and tuple(framework_fans) != tuple(textbook) and layout.fan_rule):
        return Documented(expect.spec, layout.fan_rule, fans=tuple(framework_fans),  # type: ignore[arg-type]
                          label=f"{expect.describe()} on the {layout.name} shape-rule fans {tuple(framework_fans)}")
    return None


# ---------------------------------------------------------------------------------------- helpers


def check_array(value: Any, shape: Sequence[int], what: str) -> np.ndarray:
    """Validate an initializer's output and return it as a numpy array (dtype kept).

    A bfloat16 array (``ml_dtypes.bfloat16``, :mod:`invariants.frameworks.dtypes`) counts as real floating.

    Raises:
        BadInitializer: not array-like, wrong shape, not a real floating dtype (complex included), NaN or
            inf entries.
    """
    shape = tuple(int(s) for s in shape)
    try:
        arr = np.asarray(value)
    except Exception as exc:  # noqa: BLE001  anything unconvertible is the initializer's fault
        raise BadInitializer(f"{what} returned {type(value).__name__}, not an array ({exc})") from None
    if arr.ndim == 0 and shape:
        # None, a string, a dict, a generator, a bare number: say what came back, not "shape ()"
        got = "None" if value is None else f"a {type(value).__name__}"
        raise BadInitializer(f"{what} returned {got}, not an array of shape {shape}")
    if arr.shape != shape:
        raise BadInitializer(f"{what} returned shape {arr.shape}, expected {shape}")
    if arr.dtype.kind != "f" and not is_bfloat16(arr.dtype):
        raise BadInitializer(f"{what} returned dtype {arr.dtype}, expected a real floating dtype")
    bad = int(np.count_nonzero(~np.isfinite(widen(arr))))
    if bad:
        raise BadInitializer(f"{what} returned {bad} non-finite value(s) (NaN or inf) in a tensor of shape {shape}")
    return arr


def call_initializer(fn: Callable[..., Any], what: str, *args: Any, **kwargs: Any) -> Any:
    """Call ``fn`` under the per-call time limit in force (:func:`invariants.core.timeout.per_call`); turn any
    exception it raises (``SystemExit`` too) into :class:`BadInitializer` (``NotImplementedError``: its subclass
    :class:`~invariants.frameworks.errors.NotImplementedByFramework`; a call past the limit:
    :class:`~invariants.frameworks.errors.InitializerTimedOut`).  ``KeyboardInterrupt`` passes: it is the
    user's Ctrl-C."""
    try:
        with timeout.limited(what):
            return fn(*args, **kwargs)
    except BadInitializer:
        raise
    except timeout.TimedOut as exc:
        raise InitializerTimedOut(str(exc), exc.seconds) from None
    except (Exception, SystemExit) as exc:  # noqa: BLE001  the initializer under audit may raise anything, even exit
        if isinstance(exc, SystemExit):  # sys.exit(3) inside the initializer is its fault, not the end of the audit
            raise BadInitializer(f"{what} raised SystemExit({exc.code!r}) (it called sys.exit)") from None
        message = " ".join(str(exc).split()) or "(no message)"
        kind = NotImplementedByFramework if isinstance(exc, NotImplementedError) else BadInitializer
        raise kind(f"{what} raised {type(exc).__name__}: {message}") from None


def accepts_keyword(fn: Callable[..., Any], name: str) -> bool:
    """Whether ``fn`` takes the keyword ``name`` (its signature names it, or takes ``**kwargs``); ``False``
    when the signature cannot be read."""
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False
    return name in params or any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())


def load_callable(target: str) -> Callable[..., Any]:
    """Import ``module:attr`` (``attr`` may be dotted) and return the callable.

    Raises:
        BadInitializer: malformed target, import failure, missing attribute, not callable.
    """
    if not isinstance(target, str) or target.count(":") != 1:
        raise BadInitializer(f"target {target!r} is not MODULE:ATTR (e.g. mypkg.init:he_normal)")
    mod_name, attr = target.split(":")
    if not mod_name or not attr:
        raise BadInitializer(f"target {target!r} is not MODULE:ATTR (e.g. mypkg.init:he_normal)")
    obj = import_attribute(mod_name, attr, BadInitializer)
    if not callable(obj):
        raise BadInitializer(f"{target} is not callable")
    return obj


def seed_sequence(base_seed: int, count: int) -> list[int]:
    """``count`` distinct 32-bit seeds derived from ``base_seed`` (numpy ``SeedSequence``)."""
    if count <= 0:
        return []
    state = np.random.SeedSequence(int(base_seed)).generate_state(count, dtype=np.uint64)
    seeds = [int(s) % (2**32) for s in state]
    # distinctness matters (identical draws are a finding): resolve the rare 32-bit collision
    seen: set[int] = set()
    out = []
    for s in seeds:
        while s in seen:
            s = (s + 1) % (2**32)
        seen.add(s)
        out.append(s)
    return out


def numel(shape: Sequence[int]) -> int:
    return int(math.prod(int(s) for s in shape))
