"""Keras 3 adapter: ``keras.initializers.*`` and the default initialization of ``keras.layers``.

**Backend.** If ``KERAS_BACKEND`` is not set and JAX is installed, this module sets it to ``"jax"``
before importing Keras (Keras' own default is TensorFlow, which this project does not install).  A
user's ``KERAS_BACKEND`` is respected, and if Keras was already imported its backend stays; the backend
in use is named in every subject's ``call``.  The reference figures
(``shared/reference/initializer-conventions.md`` §1.3, §2.3) were measured on the jax, numpy and torch
backends; with torch, truncated normals put ~4.3 per 10^6 values beyond the support (§5 point 7).

**Calling convention** of a user callable: ``fn(shape, dtype="float32")``.  A Keras initializer built with
``seed=None`` draws its seed once at construction (the same instance returns the same tensor every
call), so :meth:`KerasAdapter.wrap` rebuilds an instance per seed,
``type(fn).from_config({**fn.get_config(), "seed": seed})``; an initializer *class* is instantiated with
``seed=seed``.  Other callables run inside :func:`global_seed`, which seeds Python's ``random``, numpy's
global RNG and Keras' global seed (``keras.utils.set_random_seed``) and restores all three afterwards.

**Layer defaults** are sampled by constructing and building the real layer.  A Keras layer draws the
seeds of its default initializers from Python's ``random`` at construction
(``keras.random.make_default_seed``), so the layer is built inside
:func:`~invariants.frameworks.global_rng.python_random_seeded` (save, seed, restore Python's ``random`` state).

**Global RNG** (:func:`global_rngs`, for the determinism checks): Keras' global ``SeedGenerator``, which
``keras.random`` functions called without a seed draw from (:func:`keras_global_seeded`).

**Fans.** Keras' own ``compute_fans`` (rank >= 3: ``rf = prod(shape[:-2])``) is the framework fan rule;
EinsumDense (MultiHeadAttention) passes the kernel's input/output axes to it from Keras 3.15.

Findings (keras 3.15.1): the initializers conform except ``VarianceScaling(distribution="normal")``,
silently rewritten to a truncated normal (deviates; the docstring lists only ``truncated_normal``,
``untruncated_normal`` and ``uniform``) and ``TruncatedNormal`` (uncorrected, variance ``0.7737 stddev^2``:
documented); layer defaults: Dense, Conv2D, Conv2DTranspose (Glorot is symmetric in the swapped fans),
Embedding, SimpleRNN, MultiHeadAttention and the norms conform; grouped Conv2D (fan_out ``filters*K``),
DepthwiseConv2D (fan_in ``C_in*K``), Conv2DTranspose with a fan-dependent initializer (swapped fans),
and every LSTM/GRU gate block (Glorot over the packed ``(in, 4u)`` fans; one orthogonal matrix over the
packed ``(u, 4u)`` recurrent kernel, so no gate block is orthogonal) deviate.
"""
from __future__ import annotations

import contextlib
import math
from typing import Any, Callable, Iterator, Sequence

import numpy as np

from invariants.frameworks.keras import choose_backend  # noqa: E402

choose_backend()  # before keras is imported: Keras' default backend (tensorflow) is not installed here

import keras  # noqa: E402  (this module is imported only when keras is installed)

from invariants.core.errors import UsageError  # noqa: E402
from invariants.frameworks.base import CatalogueBuilder, Framework  # noqa: E402
from invariants.frameworks.subjects import (  # noqa: E402
    Block,
    Documented,
    Expectation,
    Sampler,
    Subject,
    call_initializer,
    check_array,
    seeded_by,
)
from invariants.frameworks.global_rng import (  # noqa: E402
    GlobalRNG,
    numpy_global_seeded,
    python_random_seeded,
)
from invariants.frameworks.keras.model import param_layer  # noqa: E402
from invariants.layers import KERAS, Layer, fans_from_shape, parse_layer  # noqa: E402
from invariants.specs import (  # noqa: E402
    GLOROT_NORMAL,
    GLOROT_UNIFORM,
    HE_NORMAL,
    HE_UNIFORM,
    LECUN_NORMAL,
    LECUN_UNIFORM,
    ONES,
    ZEROS,
    Constant,
    Eye,
    Normal,
    Orthogonal,
    TruncatedNormal,
    Uniform,
    VarianceScaling,
)

KI = keras.initializers
BACKEND = keras.backend.backend()

REF_TRUNCATED = ("keras.initializers.TruncatedNormal docstring (keras 3.15): 'values more than two standard "
                 "deviations from the mean are discarded and re-drawn'; stddev is the untruncated normal's "
                 "(no variance correction)")

ORTHO = Orthogonal(1.0).for_unit_axis(KERAS.unit_axis)


def compute_fans(shape: Sequence[int], input_axes: Sequence[int] | None = None,
                 output_axes: Sequence[int] | None = None) -> tuple[int, int]:
    """Keras' own fans (``keras.src.initializers.random_initializers.compute_fans``).

    Falls back to the documented rule (:func:`invariants.layers.fans_from_shape`, layout
    ``keras``) when the private function is not importable.
    """
    shape = tuple(int(s) for s in shape)
    try:
        from keras.src.initializers.random_initializers import compute_fans as _cf
    except ImportError:  # private module moved
        if input_axes is not None and output_axes is not None:
            return math.prod(shape[a] for a in input_axes), math.prod(shape[a] for a in output_axes)
        return fans_from_shape(shape, "keras")
    fi, fo = _cf(shape, input_axes, output_axes)
    return int(fi), int(fo)


@contextlib.contextmanager
def keras_global_seeded(seed: int) -> Iterator[None]:
    """Keras' own global random state seeded with ``seed`` inside, restored on exit: the global seed
    attribute ``keras.utils.set_random_seed`` writes and the global ``SeedGenerator`` that ``keras.random``
    functions (and ``seed=None`` draws) use (``keras.src.random.seed_generator.global_seed_generator``).

    Private ``global_state`` attributes (keras 3.15); if they move, nothing is seeded or restored.
    """
    try:
        from keras.src.backend.common import global_state
        from keras.src.random import seed_generator
        from keras.src.utils import rng_utils

        keys: tuple[str, ...] = (rng_utils.GLOBAL_RANDOM_SEED, seed_generator.GLOBAL_SEED_GENERATOR)
        saved = [global_state.get_global_attribute(k) for k in keys]
        global_state.set_global_attribute(keys[0], int(seed))
        global_state.set_global_attribute(keys[1], keras.random.SeedGenerator(int(seed)))
    except (ImportError, AttributeError):
        global_state, keys, saved = None, (), []
    try:
        yield
    finally:
        if global_state is not None:
            for k, v in zip(keys, saved):
                global_state.set_global_attribute(k, v)


@contextlib.contextmanager
def global_seed(seed: int) -> Iterator[None]:
    """``keras.utils.set_random_seed(seed)`` for a callable that takes no seed; restores the global state.

    Restores Python's ``random``, numpy's global RNG and Keras' global seed / global ``SeedGenerator``
    (:func:`keras_global_seeded`).  With the torch backend ``set_random_seed`` also reseeds torch's
    global generator, which is not restored.
    """
    with python_random_seeded(seed), numpy_global_seeded(seed), keras_global_seeded(seed):
        keras.utils.set_random_seed(int(seed))
        yield


def global_rngs() -> list[GlobalRNG]:
    """Keras' process-wide RNG, which an initializer given ``seed=`` must not draw from (Python's
    ``random`` and numpy's are listed for every process by :func:`invariants.frameworks.global_rng.global_rngs`)."""
    return [GlobalRNG("Keras' global SeedGenerator (keras.utils.set_random_seed)", keras_global_seeded)]


def to_numpy(value: Any) -> np.ndarray:
    """A Keras variable or backend tensor as a numpy array (dtype kept)."""
    if hasattr(value, "value") and not isinstance(value, np.ndarray):
        value = value.value
    return np.asarray(keras.ops.convert_to_numpy(value))


def _seeded_instance(fn: Any, seed: int) -> Any:
    if isinstance(fn, type):
        try:
            return fn(seed=int(seed))
        except TypeError:  # an initializer class without a seed argument (Zeros, Ones, Constant)
            return fn()
    return type(fn).from_config({**fn.get_config(), "seed": int(seed)})


def keras_expectation(fn: Any) -> Expectation | None:
    """The spec a ``keras.initializers`` instance (or class) documents, else ``None``.

    ``VarianceScaling`` family -> :class:`VarianceScaling` (``"truncated_normal"`` corrected,
    ``"untruncated_normal"`` normal; Keras' silent ``"normal"`` -> ``"truncated_normal"`` rewrite is what
    the object holds); ``RandomNormal`` / ``RandomUniform`` / ``TruncatedNormal`` (uncorrected, +-2 std);
    ``Orthogonal`` (columns = last axis); ``Zeros`` / ``Ones`` / ``Constant``.
    """
    if isinstance(fn, type):
        try:
            with python_random_seeded(0):  # a seed=None instance draws its seed from Python's random
                fn = fn()
        except TypeError:
            return None
    try:
        if isinstance(fn, KI.VarianceScaling):
            if fn.input_axes is not None or fn.output_axes is not None:
                return None
            dist = {"truncated_normal": "truncated_normal", "untruncated_normal": "normal",
                    "uniform": "uniform"}.get(fn.distribution)
            if dist is None:
                return None
            spec = VarianceScaling(float(fn.scale), fn.mode, dist)  # type: ignore[arg-type]
            for named in (GLOROT_NORMAL, GLOROT_UNIFORM, HE_NORMAL, HE_UNIFORM, LECUN_NORMAL, LECUN_UNIFORM):
                if (named.scale, named.mode, named.distribution) == (spec.scale, spec.mode, spec.distribution):
                    spec = named
            return Expectation(spec)
        if isinstance(fn, KI.TruncatedNormal):
            return Expectation(TruncatedNormal(float(fn.mean), float(fn.stddev), -2.0, 2.0, bounds="std",
                                               corrected=False))
        if isinstance(fn, KI.RandomNormal):
            return Expectation(Normal(float(fn.mean), float(fn.stddev)))
        if isinstance(fn, KI.RandomUniform):
            return Expectation(Uniform(float(fn.minval), float(fn.maxval)))
        if isinstance(fn, KI.Orthogonal):
            return Expectation(Orthogonal(float(fn.gain)).for_unit_axis(KERAS.unit_axis))
        if isinstance(fn, KI.Identity):
            return Expectation(Eye(float(fn.gain)))
        if isinstance(fn, KI.Zeros):
            return Expectation(ZEROS)
        if isinstance(fn, KI.Ones):
            return Expectation(ONES)
        if isinstance(fn, KI.Constant):
            return Expectation(Constant(float(fn.value)))
    except (TypeError, ValueError):
        return None
    return None


def _get(obj: Any, path: Sequence[str]) -> Any:
    """``obj.a.b`` for ``path = ("a", "b")``."""
    for part in path:
        obj = getattr(obj, part)
    return obj


def _gate_blocks(layer: Layer, names: Sequence[str]) -> tuple[Block, ...]:
    h = layer.out_features
    sub = layer.block_layer()
    return tuple(Block(n, (slice(None), slice(i * h, (i + 1) * h)), sub) for i, n in enumerate(names))


def _bias_blocks(h: int, names: Sequence[str], keep: Sequence[str]) -> tuple[Block, ...]:
    return tuple(Block(n, (slice(i * h, (i + 1) * h),)) for i, n in enumerate(names) if n in keep)


class KerasCatalogue(CatalogueBuilder):
    """Keras 3 initializers and layer defaults (backend: see the module docstring)."""


    # ------------------------------------------------------------------ protocol
    # ------------------------------------------------------------------ catalogue
    def catalogue(self) -> list[Subject]:
        return self._initializers() + self._layer_defaults()

    def _init_subject(self, cls: str, kwargs: dict[str, Any], layer: Layer, expect: Expectation,
                      documented: Documented | None = None) -> Subject:
        args = ", ".join(f"{k}={v!r}" for k, v in kwargs.items())
        with python_random_seeded(0):  # a seed=None initializer draws its seed from Python's random: leave it untouched
            fn = getattr(KI, cls)(**kwargs)
        shape = self.shape(layer)
        return Subject(target=f"keras.initializers.{cls}({args})", param="", layer=layer, shape=shape,
                       sampler=self.wrap(fn, shape), expect=expect, documented=documented,
                       framework_fans=self.framework_fans(shape),
                       call=f"keras.initializers.{cls}({args}{', ' if args else ''}seed=seed)({shape}, "
                            f"dtype='float32') on {layer.describe()} [{BACKEND} backend]")

    def _initializers(self) -> list[Subject]:
        dense = parse_layer("dense(300,100)")
        conv = parse_layer("conv2d(32,64,k=3)")  # (3, 3, 32, 64): fans (288, 576)
        s = self._init_subject
        out = [s(cls, {}, dense, Expectation(spec)) for cls, spec in (
            ("GlorotUniform", GLOROT_UNIFORM), ("GlorotNormal", GLOROT_NORMAL), ("HeUniform", HE_UNIFORM),
            ("HeNormal", HE_NORMAL), ("LecunUniform", LECUN_UNIFORM), ("LecunNormal", LECUN_NORMAL))]
        out.append(s("GlorotUniform", {}, conv, Expectation(GLOROT_UNIFORM)))
        out.append(s("HeNormal", {}, conv, Expectation(HE_NORMAL)))
        out.append(s("VarianceScaling", {"scale": 2.0, "mode": "fan_out", "distribution": "truncated_normal"}, conv,
                     Expectation(VarianceScaling(2.0, "fan_out", "truncated_normal"))))
        out.append(s("VarianceScaling", {"scale": 2.0, "mode": "fan_in", "distribution": "untruncated_normal"}, conv,
                     Expectation(VarianceScaling(2.0, "fan_in", "normal"))))
        out.append(s("VarianceScaling", {"scale": 0.5, "mode": "fan_avg", "distribution": "uniform"}, dense,
                     Expectation(VarianceScaling(0.5, "fan_avg", "uniform"))))
        # "normal" is not among the documented distributions; VarianceScaling.__init__ rewrites it
        out.append(s("VarianceScaling", {"scale": 1.0, "mode": "fan_in", "distribution": "normal"}, dense,
                     Expectation(VarianceScaling(1.0, "fan_in", "normal"))))
        out.append(s("RandomNormal", {}, dense, Expectation(Normal(0.0, 0.05), label="N(0, 0.05^2) (defaults)")))
        out.append(s("RandomUniform", {}, dense, Expectation(Uniform(-0.05, 0.05), label="U(-0.05, 0.05) (defaults)")))
        out.append(s("TruncatedNormal", {}, dense,
                     Expectation(TruncatedNormal(0.0, 0.05, -2.0, 2.0, bounds="std", corrected=True),
                                 label="std 0.05, truncated at +-2 std (corrected, as in VarianceScaling)"),
                     Documented(TruncatedNormal(0.0, 0.05, -2.0, 2.0, bounds="std", corrected=False), REF_TRUNCATED,
                                label="N(0, 0.05^2) with values beyond 2 std re-drawn, uncorrected (variance "
                                      "0.7737 x 0.05^2)")))
        # wide (64, 256): orthonormal rows; (3, 3, 32, 64) -> (288, 64): orthonormal columns (64-column QRs:
        # LAPACK's blocked QR of a 100-column matrix is ~100x slower on a busy 2-core machine)
        out.append(s("Orthogonal", {}, parse_layer("dense(64,256)"), Expectation(ORTHO)))
        out.append(s("Orthogonal", {"gain": 2.0}, conv, Expectation(Orthogonal(2.0).for_unit_axis(KERAS.unit_axis))))
        out.append(s("Zeros", {}, dense, Expectation(ZEROS)))
        out.append(s("Ones", {}, dense, Expectation(ONES)))
        out.append(s("Constant", {"value": 0.5}, dense, Expectation(Constant(0.5))))
        # gain * eye(*shape): (300, 100) -> ones at (i, i), i < 100
        out.append(s("Identity", {}, dense, Expectation(Eye(1.0))))
        out.append(s("Identity", {"gain": 2.0}, dense, Expectation(Eye(2.0))))
        return out

    def _layer_subject(self, call: str, ctor: Callable[[], Any], build: Sequence[Any], param: str,
                       expect: Expectation, *, layer: Layer | None | str = "extracted",
                       shape: tuple[int, ...] | None = None, gates: Sequence[str] = (),
                       framework_fans: tuple[int, int] | None | str = "shape", blocks: tuple[Block, ...] = (),
                       fan_candidates: tuple[tuple[str, int], ...] = (),
                       documented: Documented | None = None) -> Subject:
        """``keras.layers.<call>``: construct with ``ctor()`` and ``build(*build)`` per seed, read ``param``.

        The layer is the one the model extractor gives that variable
        (:func:`invariants.frameworks.keras.model.param_layer`), not restated here; ``layer`` overrides it
        only where the extractor knows none.  ``gates`` names the packed gate blocks of a recurrent
        kernel.  ``shape`` (default ``layer.shape("keras")``) is stated, not probed; every draw is checked
        against it.
        """
        path = param.split(".")
        what = f"keras.layers.{call}.{param}"
        if layer == "extracted":
            with python_random_seeded(0):
                built = call_initializer(ctor, what)
                call_initializer(built.build, what, *build)
            layer = param_layer(built, _get(built, path).path)
        assert not isinstance(layer, str)
        if gates:
            assert layer is not None
            blocks = _gate_blocks(layer, gates)
        if shape is None:
            assert layer is not None
            shape = self.shape(layer)
        shape = tuple(int(d) for d in shape)

        def sample(seed: int) -> np.ndarray:
            with python_random_seeded(seed):
                lay = call_initializer(ctor, what)
                call_initializer(lay.build, what, *build)
            return check_array(to_numpy(_get(lay, path)), shape, what)

        if framework_fans == "shape":
            framework_fans = self.framework_fans(shape)
        built = ", ".join(str(b) for b in build)
        return Subject(target=f"keras.layers.{call}", param=param, layer=layer, shape=shape,
                       sampler=seeded_by(sample, "Python's random, seeded inside the call (Keras layers draw their "
                                                 "initializers' seeds from it)"),
                       expect=expect, documented=documented, framework_fans=framework_fans,  # type: ignore[arg-type]
                       blocks=blocks, fan_candidates=fan_candidates,
                       call=f"keras.layers.{call}.build({built}) with Python's random seeded [{BACKEND} backend]")

    def _layer_defaults(self) -> list[Subject]:
        kl = keras.layers
        m = self._layer_subject
        glorot = Expectation(GLOROT_UNIFORM)
        zeros = Expectation(ZEROS)
        img = ((None, 8, 8, 32),)
        out: list[Subject] = []
        out.append(m("Dense(100)", lambda: kl.Dense(100), ((None, 300),), "kernel", glorot))
        out.append(m("Dense(100)", lambda: kl.Dense(100), ((None, 300),), "bias", zeros, shape=(100,)))
        out.append(m("Conv2D(64, 3)", lambda: kl.Conv2D(64, 3), img, "kernel", glorot))
        out.append(m("Conv2D(64, 3)", lambda: kl.Conv2D(64, 3), img, "bias", zeros, shape=(64,)))
        # groups: kernel (3, 3, 8, 64); Keras fans (72, 576), textbook (72, 144)
        out.append(m("Conv2D(64, 3, groups=4)", lambda: kl.Conv2D(64, 3, groups=4), img, "kernel", glorot))
        # depthwise: kernel (3, 3, 32, 2); Keras fans (C_in*K, m*K) = (288, 18), textbook (9, 18)
        out.append(m("DepthwiseConv2D(3, depth_multiplier=2)", lambda: kl.DepthwiseConv2D(3, depth_multiplier=2), img,
                     "kernel", glorot))
        # transposed: kernel (3, 3, filters, C_in) = (3, 3, 64, 32); Keras fans (576, 288) are swapped
        out.append(m("Conv2DTranspose(64, 3)", lambda: kl.Conv2DTranspose(64, 3), img, "kernel", glorot))
        out.append(m("Conv2DTranspose(64, 3, kernel_initializer='he_normal')",
                     lambda: kl.Conv2DTranspose(64, 3, kernel_initializer="he_normal"), img, "kernel",
                     Expectation(HE_NORMAL)))
        out.append(m("Embedding(1000, 64)", lambda: kl.Embedding(1000, 64), ((None, 5),), "embeddings",
                     Expectation(Uniform(-0.05, 0.05), label="U(-0.05, 0.05) (embeddings_initializer='uniform')")))
        # recurrent layers, input 128, 64 units: kernel (128, g*64), recurrent (64, g*64), gates packed.
        # (input 128, not 256: a (256, 256) LSTM kernel's packed fan_avg would equal the textbook fan_in)
        seq = ((None, 5, 128),)
        for cls, gates in (("LSTM", ("i", "f", "c", "o")), ("GRU", ("z", "r", "h"))):
            ctor = (lambda c: (lambda: getattr(kl, c)(64)))(cls)
            out.append(m(f"{cls}(64)", ctor, seq, "cell.kernel", Expectation(GLOROT_UNIFORM, label="Glorot "
                         "uniform per gate"), gates=gates))
            out.append(m(f"{cls}(64)", ctor, seq, "cell.recurrent_kernel", Expectation(ORTHO, label="orthogonal "
                         "per gate"), gates=gates))
        # LSTM bias: zeros, forget gate ones (unit_forget_bias=True); GRU bias (2, 3u) zeros (reset_after)
        out.append(m("LSTM(64)", lambda: kl.LSTM(64), seq, "cell.bias", zeros, shape=(256,),
                     blocks=_bias_blocks(64, "ifco", "ico")))
        out.append(m("LSTM(64)", lambda: kl.LSTM(64), seq, "cell.bias",
                     Expectation(ONES, label="ones (unit_forget_bias=True)"), shape=(256,),
                     blocks=_bias_blocks(64, "ifco", "f")))
        out.append(m("GRU(64)", lambda: kl.GRU(64), seq, "cell.bias", zeros, shape=(2, 192)))
        out.append(m("SimpleRNN(64)", lambda: kl.SimpleRNN(64), seq, "cell.kernel", glorot))
        out.append(m("SimpleRNN(64)", lambda: kl.SimpleRNN(64), seq, "cell.recurrent_kernel", Expectation(ORTHO)))
        # MultiHeadAttention: EinsumDense kernels, whose layer the model extractor reads from the equation
        # (kernel(shape=(512,8,64),in_axes=(0,),out_axes=(1,2)): textbook fans (512, 512)).
        # From 3.15 the fans use the einsum input/output axes.
        mha = "MultiHeadAttention(num_heads=8, key_dim=64)"
        mk = lambda: kl.MultiHeadAttention(num_heads=8, key_dim=64)  # noqa: E731
        qv = ((None, 4, 512), (None, 4, 512))
        for proj in ("_query_dense", "_key_dense", "_value_dense"):
            out.append(m(mha, mk, qv, f"{proj}.kernel", glorot, framework_fans=compute_fans((512, 8, 64), [0], [1, 2]),
                         fan_candidates=(("fan_avg 18432 of the conv-style rank-3 fans (4096, 32768) (keras <= "
                                          "3.14)", 18432),)))
        out.append(m(mha, mk, qv, "_output_dense.kernel", glorot, framework_fans=compute_fans((8, 64, 512), [0, 1], [2])))
        out.append(m(mha, mk, qv, "_query_dense.bias", zeros, layer=None, shape=(8, 64)))
        out.append(m("LayerNormalization()", lambda: kl.LayerNormalization(), ((None, 32),), "gamma",
                     Expectation(ONES), shape=(32,)))
        out.append(m("LayerNormalization()", lambda: kl.LayerNormalization(), ((None, 32),), "beta", zeros,
                     shape=(32,)))
        return out

def _config(fn: Any) -> dict[str, Any]:
    try:
        return dict(fn.get_config())
    except Exception:  # noqa: BLE001  a custom initializer without a config
        return {}


def wrap(fn: Callable[..., Any], shape: tuple[int, ...], dtype: str | None = None) -> Sampler:
    """``fn(shape, dtype=...)`` with ``dtype`` the requested name (``None``: ``"float32"``); the array keeps
    the dtype the backend returned (bfloat16 as ``ml_dtypes.bfloat16``).

    Raises:
        UsageError: a complex ``dtype`` (Keras initializers draw real tensors).
    """
    shape = tuple(int(s) for s in shape)
    what = getattr(fn, "__qualname__", None) or type(fn).__name__
    is_class = isinstance(fn, type) and issubclass(fn, KI.Initializer)
    reseed = is_class or (isinstance(fn, KI.Initializer) and "seed" in _config(fn))
    if dtype is not None and dtype not in ("float16", "bfloat16", "float32", "float64"):
        raise UsageError(f"keras: a tensor of dtype {dtype} cannot be audited (real dtypes: float16, bfloat16, "
                         "float32, float64)")
    kdtype = dtype or "float32"

    def sample(seed: int) -> np.ndarray:
        if reseed:
            init = call_initializer(_seeded_instance, what, fn, seed)
            out = call_initializer(init, what, shape, dtype=kdtype)
        else:
            with global_seed(seed):
                out = call_initializer(fn, what, shape, dtype=kdtype)
        try:
            arr = to_numpy(out)
        except Exception:  # noqa: BLE001  not a tensor: let check_array name the problem
            arr = out
        return check_array(arr, shape, what)

    return seeded_by(sample, "seed=seed (one initializer instance per seed)" if reseed
                     else "Keras' global seed, set inside the call (keras.utils.set_random_seed)")

def framework_fans(shape: tuple[int, ...]) -> tuple[int, int] | None:
    """Keras' ``compute_fans`` on ``shape``: defined for every rank ((1, 1) for 0-D, (n, n) for 1-D)."""
    return compute_fans(shape)

def known_expectation(fn: Callable[..., Any]) -> Expectation | None:
    return keras_expectation(fn)


def catalogue(framework: Framework) -> list[Subject]:
    """The framework's initializers and layer defaults as audit subjects (see the module docstring)."""
    return KerasCatalogue(framework).catalogue()



def examples() -> list[Callable[..., Any]]:
    """A few ``keras.initializers`` (the conformance checks wrap them)."""
    return [KI.GlorotUniform(), KI.HeNormal, KI.Orthogonal()]
