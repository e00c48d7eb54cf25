"""JAX adapter: ``jax.nn.initializers.*`` against their documented specs and the textbook fans.

Calling convention of a JAX initializer: ``fn(key, shape, dtype) -> jax.Array`` with ``key`` a PRNG key.
The sampler for seed ``s`` calls ``fn(jax.random.key(s), shape, jnp.float32)`` eagerly: JAX caches the
compiled primitive ops per shape (shared by every initializer drawing that shape), so after the first
draw a call costs ~0.5 ms, about what a jitted call costs, without a ~0.3 s compile per distinct
initializer (whole catalogue on 2 CPU cores: 14.5 s CPU eager vs 23.9 s jitted, jax 0.10.2).  A
``jax.nn.initializers`` factory given where an initializer is expected (``glorot_normal`` rather than
``glorot_normal()``) is called with its defaults first (:func:`resolve_factory`).

Layout (``layers.py``): dense ``(in, out)``, conv ``(*k, C_in/G, C_out)`` (HWIO).  JAX's own fan rule
(``jax._src.nn.initializers._compute_fans``, default ``in_axis=-2, out_axis=-1``) is
``rf = prod(shape[:-2])``, ``(shape[-2]*rf, shape[-1]*rf)``: it cannot see groups, so on a grouped or
depthwise kernel ``(3, 3, C_in/G, C_out)`` fan_out is ``C_out*K`` where the textbook has ``(C_out/G)*K``
(``shared/reference/initializer-conventions.md`` §1.2, §3).

Catalogue findings (jax 0.10.2): the variance-scaling family, ``normal``, ``orthogonal``,
``delta_orthogonal`` and the constants conform; Glorot on grouped/depthwise kernels deviates (fan_out
``C_out*K``); ``uniform(scale)`` is ``U[0, scale)`` (not zero-mean) and ``truncated_normal(stddev)`` is
uncorrected (variance ``0.7737*stddev^2``): both documented in their docstrings, so both are
``documented-deviation``.  ``xavier_*`` / ``kaiming_*`` are the same function objects as ``glorot_*`` /
``he_*`` and are not listed twice; complex dtypes are refused (no complex law), float16/bfloat16/float64
are requested through the initializer's ``dtype`` argument (:func:`jax_dtype`).

The helpers here (:func:`jax_sampler`, :func:`compute_fans`, :func:`jax_expectation`) are shared with
the Flax adapter.
"""
from __future__ import annotations

import inspect
from typing import Any, Callable, Sequence

import jax
import jax.numpy as jnp
import numpy as np

from invariants.core.errors import UsageError
from invariants.frameworks.base import CatalogueBuilder, Framework
from invariants.frameworks.subjects import (
    Block,
    DtypeSampler,
    Documented,
    Expectation,
    Sampler,
    Subject,
    call_initializer,
    check_array,
    seeded_by,
)
from invariants.layers import JAX, Layer, fans_from_shape, parse_layer
from invariants.specs import (
    GLOROT_NORMAL,
    GLOROT_UNIFORM,
    HE_NORMAL,
    HE_UNIFORM,
    LECUN_NORMAL,
    LECUN_UNIFORM,
    ONES,
    ZEROS,
    Constant,
    Normal,
    Orthogonal,
    TruncatedNormal,
    Uniform,
    VarianceScaling,
)

I = jax.nn.initializers

#: where the two documented JAX deviations are stated (docstrings of jax 0.10.2)
REF_UNIFORM = ("jax.nn.initializers.uniform docstring: 'scale: the upper bound of the random distribution'; "
               "returns values 'uniformly distributed in the range [0, scale)'")
REF_TRUNCATED = ("jax.nn.initializers.truncated_normal docstring: 'stddev: the standard deviation of the "
                 "untruncated distribution. Note that this function does not apply the stddev correction as is "
                 "done in the variancescaling initializers'")


def _describe(fn: Any) -> str:
    name = getattr(fn, "__qualname__", None) or getattr(fn, "__name__", None) or type(fn).__name__
    mod = getattr(fn, "__module__", None)
    return f"{mod}.{name}" if mod and "<locals>" not in name else str(name)


def jax_sampler(fn: Callable[..., Any], shape: Sequence[int], what: str | None = None,
                dtype: str | None = None) -> DtypeSampler:
    """Sampler for a JAX-convention initializer ``fn(key, shape, dtype)`` on ``shape`` (float32, or the
    requested ``dtype``: its ``at_dtype`` draws the same ``fn`` in another).

    Seed ``s`` -> ``fn(jax.random.key(s), shape, jnp.float32)`` (a new-style typed key; every
    ``jax.nn.initializers`` / ``flax`` initializer accepts it).  Deterministic in ``s``; different seeds
    give independent keys.  The array keeps the dtype JAX returned (bfloat16 is ``ml_dtypes.bfloat16``).

    Raises:
        UsageError: (building the sampler) a dtype JAX cannot give here (complex; float64 without
            ``jax_enable_x64``, where JAX would silently compute in float32).
        BadInitializer: (from the sampler) ``fn`` raised, or returned a wrong shape, a non-float dtype or
            non-finite values.
    """
    shape = tuple(int(s) for s in shape)
    what = what or _describe(fn)
    fn = resolve_factory(fn)

    def make(dt: str | None) -> Sampler:
        jdtype = jax_dtype(dt)

        def sample(seed: int) -> np.ndarray:
            key = jax.random.key(int(seed))
            # check_array converts with np.asarray (a jax.Array becomes a host copy, dtype kept) and turns
            # an unconvertible result (a key array, a tracer) into BadInitializer
            return check_array(call_initializer(fn, what, key, shape, jdtype), shape, what)

        return seeded_by(sample, "a JAX key (jax.random.key(seed))")

    return DtypeSampler(make, dtype)


def jax_dtype(dtype: str | None) -> Any:
    """The JAX dtype of a requested ``--dtype`` name (``None``: float32).

    Raises:
        UsageError: complex, or float64 while ``jax_enable_x64`` is off.
    """
    if dtype is None:
        return jnp.float32
    if dtype not in ("float16", "bfloat16", "float32", "float64"):
        raise UsageError(f"jax: a tensor of dtype {dtype} cannot be audited (real dtypes: float16, bfloat16, "
                         "float32, float64)")
    if dtype == "float64" and not jax.config.jax_enable_x64:
        raise UsageError("jax: float64 needs jax.config.update('jax_enable_x64', True) (without it JAX computes "
                         "in float32)")
    return getattr(jnp, dtype)


def compute_fans(shape: Sequence[int], in_axis: int | Sequence[int] = -2, out_axis: int | Sequence[int] = -1,
                 batch_axis: int | Sequence[int] = ()) -> tuple[int, int]:
    """JAX's own fans (``jax._src.nn.initializers._compute_fans``) as integers.

    Falls back to the documented default rule (:func:`invariants.layers.fans_from_shape`) when the
    private function is not importable and the axes are the defaults.

    Raises:
        ValueError: fewer than 2 dims with default axes.
    """
    shape = tuple(int(s) for s in shape)
    try:
        from jax._src.nn.initializers import _compute_fans
    except ImportError:  # private API moved: the default rule is documented in the module docstring
        if (in_axis, out_axis, batch_axis) != (-2, -1, ()):
            raise
        return fans_from_shape(shape, "jax")
    fi, fo = _compute_fans(shape, in_axis, out_axis, batch_axis)
    return int(round(float(fi))), int(round(float(fo)))


def resolve_factory(fn: Any) -> Any:
    """``fn()`` if ``fn`` is a ``jax.nn.initializers`` *factory* (``glorot_normal``, ``normal``, ...) whose
    arguments all have defaults, else ``fn``: so ``jax.nn.initializers:glorot_normal`` audits
    ``glorot_normal()``.  Initializers themselves (first parameter ``key``) are returned unchanged.
    """
    mod = getattr(fn, "__module__", "") or ""
    if not (inspect.isfunction(fn) and mod.startswith("jax.") and "nn" in mod and "initializers" in mod):
        return fn
    try:
        params = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):
        return fn
    if params and params[0].name == "key":
        return fn
    if all(p.default is not inspect.Parameter.empty or p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) for p in params):
        return fn()
    return fn


def jax_expectation(fn: Any) -> Expectation | None:
    """The documented spec of a ``jax.nn.initializers`` product (read from its closure), else ``None``.

    ``variance_scaling`` and its named instances -> :class:`VarianceScaling` (default axes only);
    ``normal`` -> :class:`Normal`; ``uniform`` -> ``Uniform(0, scale)``; ``truncated_normal`` ->
    uncorrected :class:`TruncatedNormal` in std units; ``orthogonal`` -> :class:`Orthogonal` (columns =
    last axis); ``constant``/``zeros``/``ones`` -> :class:`Constant`.  A factory is resolved first
    (:func:`resolve_factory`).
    """
    fn = resolve_factory(fn)
    if fn is I.zeros:
        return Expectation(ZEROS, label="zeros")
    if fn is I.ones:
        return Expectation(ONES, label="ones")
    qual = getattr(fn, "__qualname__", "")
    mod = getattr(fn, "__module__", "") or ""
    if not qual.endswith("<locals>.init") or not mod.startswith("jax."):
        return None
    try:
        nl = inspect.getclosurevars(fn).nonlocals
    except (TypeError, ValueError):
        return None
    factory = qual.split(".")[0]
    try:
        if factory == "variance_scaling":
            if (nl.get("in_axis"), nl.get("out_axis"), nl.get("batch_axis")) != (-2, -1, ()):
                return None
            spec = VarianceScaling(float(nl["scale"]), nl["mode"], nl["distribution"])
            for named in (GLOROT_NORMAL, GLOROT_UNIFORM, HE_NORMAL, HE_UNIFORM, LECUN_NORMAL, LECUN_UNIFORM):
                if (named.scale, named.mode, named.distribution) == (spec.scale, spec.mode, spec.distribution):
                    spec = named
            return Expectation(spec)
        if factory == "normal":
            return Expectation(Normal(0.0, float(nl["stddev"])))
        if factory == "uniform":
            return Expectation(Uniform(0.0, float(nl["scale"])), label=f"U[0, {float(nl['scale']):g}) (documented)")
        if factory == "truncated_normal":
            return Expectation(TruncatedNormal(0.0, float(nl["stddev"]), float(nl["lower"]), float(nl["upper"]),
                                               bounds="std", corrected=False))
        if factory == "orthogonal" and nl.get("column_axis") == -1:
            return Expectation(Orthogonal(float(nl["scale"])).for_unit_axis(JAX.unit_axis))
        if factory == "constant":
            value = np.asarray(nl["value"])
            if value.ndim == 0:
                return Expectation(Constant(float(value)))
    except (KeyError, TypeError, ValueError):
        return None
    return None


class JaxCatalogue(CatalogueBuilder):
    """``jax.nn.initializers``: user callables ``fn(key, shape, dtype)`` and the catalogue."""


    # ------------------------------------------------------------------ protocol
    # ------------------------------------------------------------------ catalogue
    def _subject(self, fname: str, fn: Callable[..., Any], args: str, layer: Layer | None, expect: Expectation,
                 *, documented: Documented | None = None, shape: tuple[int, ...] | None = None,
                 blocks: tuple[Block, ...] = (), suffix: str = "", sampler: Sampler | None = None) -> Subject:
        """A ``jax.nn.initializers.<fname>(<args>)`` subject on ``layer``'s kernel (HWIO layout)."""
        # zeros / ones are initializers themselves, the others are factories called with args
        target = f"jax.nn.initializers.{fname}" + ("" if fname in ("zeros", "ones") else f"({args})")
        shape = tuple(shape if shape is not None else layer.shape(self.layout))  # type: ignore[union-attr]
        ffans = self.framework_fans(shape) if len(shape) >= 2 and sampler is None else None
        where = f" on {layer.describe()}" if layer is not None else ""
        return Subject(target=target + suffix, param="", layer=layer, shape=shape,
                       sampler=sampler or jax_sampler(fn, shape, target),
                       expect=expect, documented=documented, framework_fans=ffans, blocks=blocks,
                       call=f"{target}(key, {shape}, float32){where}")

    def catalogue(self) -> list[Subject]:
        """The ``jax.nn.initializers`` catalogue (see the module docstring for the findings)."""
        dense = parse_layer("dense(300,100)")
        conv = parse_layer("conv2d(32,64,k=3)")  # HWIO (3, 3, 32, 64): fans (288, 576) differ
        grouped = parse_layer("conv2d(32,64,k=3,groups=4)")  # (3, 3, 8, 64): textbook (72, 144), jax (72, 576)
        depthwise = parse_layer("depthwise_conv2d(32,k=3,m=2)")  # (3, 3, 1, 64): textbook (9, 18), jax (9, 576)
        s = self._subject
        out: list[Subject] = []
        named = (("glorot_normal", GLOROT_NORMAL), ("glorot_uniform", GLOROT_UNIFORM), ("he_normal", HE_NORMAL),
                 ("he_uniform", HE_UNIFORM), ("lecun_normal", LECUN_NORMAL), ("lecun_uniform", LECUN_UNIFORM))
        # (xavier_* and kaiming_* are the same function objects as glorot_* and he_*: not repeated)
        for layer in (dense, conv):
            for fname, spec in named:
                out.append(s(fname, getattr(I, fname)(), "", layer, Expectation(spec)))
        # the general primitive: every mode x distribution, on a kernel whose fans differ
        for dist in ("truncated_normal", "normal", "uniform"):
            for mode in ("fan_in", "fan_out", "fan_avg", "fan_geo_avg"):
                spec = VarianceScaling(2.0, mode, dist)  # type: ignore[arg-type]
                out.append(s("variance_scaling", I.variance_scaling(2.0, mode, dist), f"2.0, {mode!r}, {dist!r}", conv,
                             Expectation(spec)))
        # layer semantics the shape cannot carry: groups (fan_out C_out*K instead of (C_out/G)*K)
        out.append(s("glorot_normal", I.glorot_normal(), "", depthwise, Expectation(GLOROT_NORMAL)))
        out.append(s("glorot_uniform", I.glorot_uniform(), "", grouped, Expectation(GLOROT_UNIFORM)))
        out.append(s("he_normal", I.he_normal(), "", grouped, Expectation(HE_NORMAL)))  # fan_in is right
        # plain distributions at their defaults
        out.append(s("normal", I.normal(), "stddev=0.01", dense, Expectation(Normal(0.0, 0.01))))
        out.append(s("uniform", I.uniform(), "scale=0.01", dense,
                     Expectation(Uniform(-0.01, 0.01), label="zero-mean U(-scale, scale) = U(-0.01, 0.01) (weight laws "
                                                             "are zero-mean in the Glorot/He analyses)"),
                     documented=Documented(Uniform(0.0, 0.01), REF_UNIFORM, label="U[0, scale) = U[0, 0.01)")))
        out.append(s("truncated_normal", I.truncated_normal(), "stddev=0.01", dense,
                     Expectation(TruncatedNormal(0.0, 0.01, -2.0, 2.0, bounds="std", corrected=True),
                                 label="std 0.01, truncated at +-2 std (corrected, as in variance_scaling)"),
                     documented=Documented(TruncatedNormal(0.0, 0.01, -2.0, 2.0, bounds="std", corrected=False),
                                           REF_TRUNCATED, label="N(0, 0.01^2) cut at +-2 std, uncorrected "
                                                                "(variance 0.7737e-4)")))
        # orthogonal: columns = last axis; wide (64, 256) has orthonormal rows, (3, 3, 32, 64) -> (288, 64)
        # orthonormal columns.  (64 columns: LAPACK's blocked QR of a 100-column matrix is ~100x slower on a
        # busy 2-core machine)
        out.append(s("orthogonal", I.orthogonal(), "", parse_layer("dense(64,256)"),
                     Expectation(Orthogonal(1.0).for_unit_axis(JAX.unit_axis))))
        out.append(s("orthogonal", I.orthogonal(scale=2.0), "scale=2.0", conv,
                     Expectation(Orthogonal(2.0).for_unit_axis(JAX.unit_axis))))
        # delta_orthogonal (Xiao et al. 2018, Algorithm 2): an orthogonal (C_in, C_out) matrix at the centre
        # tap (k-1)//2, zeros at every other tap
        out.append(s("delta_orthogonal", I.delta_orthogonal(), "", conv,
                     Expectation(Orthogonal(1.0).for_unit_axis(JAX.unit_axis), label="orthogonal centre tap"),
                     blocks=(Block("centre", (1, 1, slice(None), slice(None)), parse_layer("dense(32,64)")),)))
        full = jax_sampler(I.delta_orthogonal(), conv.shape(self.layout), "jax.nn.initializers.delta_orthogonal()")
        out.append(s("delta_orthogonal", I.delta_orthogonal(), "", None,
                     Expectation(ZEROS, label="zeros at the 8 off-centre taps"), shape=(8, 32, 64),
                     suffix="[off-centre taps]",
                     sampler=lambda seed: np.delete(full(seed).reshape(9, 32, 64), 4, axis=0)))
        out.append(s("zeros", I.zeros, "", dense, Expectation(ZEROS)))
        out.append(s("ones", I.ones, "", dense, Expectation(ONES)))
        out.append(s("constant", I.constant(0.5), "0.5", dense, Expectation(Constant(0.5))))
        return out


def wrap(fn: Callable[..., Any], shape: tuple[int, ...], dtype: str | None = None) -> Sampler:
    """JAX's convention ``fn(key, shape, dtype)`` in ``dtype`` (``None``: float32; :func:`jax_sampler`)."""
    return jax_sampler(fn, shape, dtype=dtype)

def framework_fans(shape: tuple[int, ...]) -> tuple[int, int] | None:
    return compute_fans(shape) if len(shape) >= 2 else None

def known_expectation(fn: Callable[..., Any]) -> Expectation | None:
    return jax_expectation(fn)


def catalogue(framework: Framework) -> list[Subject]:
    """The framework's initializers and layer defaults as audit subjects (see the module docstring)."""
    return JaxCatalogue(framework).catalogue()



def examples() -> list[Callable[..., Any]]:
    """A few ``jax.nn.initializers`` (the conformance checks wrap them)."""
    return [I.glorot_normal(), I.he_uniform(), I.orthogonal()]
