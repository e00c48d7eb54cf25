"""Flax adapter: the default initialization of ``flax.linen`` and ``flax.nnx`` layers.

User callables follow JAX's convention ``fn(key, shape, dtype)`` (``flax.linen.initializers`` re-exports
``jax.nn.initializers``), so ``wrap``, ``known_expectation`` and ``framework_fans`` here are the JAX framework's.

Layer defaults are sampled by building the real layer with the seed: linen ``Module.init(
jax.random.key(seed), *inputs)["params"]``, nnx ``Module(..., rngs=nnx.Rngs(seed))``; both are explicit
keys, no global state.  Calls are eager (JAX caches compiled ops per shape, shared across layers): on 2
CPU cores the test-size catalogue took 19-24 s CPU eager vs 28 s with one jitted ``init`` per linen layer.
Shapes are stated (the layer's jax layout, or given) or traced with ``jax.eval_shape``, not probed, so
building the catalogue compiles nothing; the auditor checks every draw against them.

Layers: a linen kernel the model extractor knows (``Dense``, ``Conv``, ``ConvTranspose``, ``Embed``) takes
its layer from it (:func:`invariants.frameworks.flax.model.kernel_layer`), so it is described once.  The
rest are stated here: ``DenseGeneral`` kernels with batch dims and the attention projections (rank-3
kernels the extractor gives no layer), the recurrent cells (packed views this catalogue builds from
per-gate kernels) and every nnx layer (the model check reads linen models only).

Framework fans are JAX's ``_compute_fans`` on the shape the initializer is actually called with: Flax
``DenseGeneral``/``LinearGeneral`` (and the attention projections built on them) flatten the kernel to
``(prod(batch) * prod(in), prod(out))`` first, so batch dims enter fan_in; ``Embed`` calls
``variance_scaling(1, 'fan_in', 'normal', out_axis=0)`` on ``(V, D)``, whose fan_in is ``D``.

Packed views: the linen LSTM/GRU cells and nnx ``LSTMCell`` store one kernel per gate (``ii``, ``if``
(nnx ``if_``), ... ``hn``); a subject concatenates them along the last axis in gate order (``(in, 4H)``
like one packed matrix) and audits each gate as its own block, so every gate's real ``(in, H)`` /
``(H, H)`` kernel is tested separately (its framework fans are the per-gate kernel's).
nnx ``OptimizedLSTMCell`` / ``GRUCell`` store the packed matrix itself (``dense_h.kernel`` ``(H, 4H)``).

Findings (flax 0.12.8): Dense/Linear, Conv (any groups), ConvTranspose, attention, linen cells, nnx
LSTMCell and the norms conform; ``DenseGeneral``/``LinearGeneral`` with batch dims deviate (fan_in x
batch); ``ConvTranspose(transpose_kernel=True)`` deviates (fan_in = C_out*K); ``Embed`` is a documented
deviation (N(0, 1/D)); nnx ``OptimizedLSTMCell`` and ``GRUCell`` apply ``orthogonal`` to the packed
``(H, 4H)`` / ``(H, 3H)`` recurrent matrix, so no gate block is orthogonal (linen's cells and nnx
``LSTMCell`` draw one orthogonal matrix per gate).  Reference numbers:
``shared/reference/initializer-conventions.md`` §2.2.
"""
from __future__ import annotations

from typing import Any, Callable, Sequence

import jax
import jax.numpy as jnp
import numpy as np
from flax import linen as nn
from flax import nnx

from invariants.frameworks.base import Framework
from invariants.frameworks.flax.model import kernel_layer
from invariants.frameworks.jax.initializers import JaxCatalogue, compute_fans
from invariants.frameworks.jax.initializers import framework_fans, known_expectation, wrap  # noqa: F401  JAX's convention
from invariants.frameworks.subjects import Block, Documented, Expectation, Subject, check_array, seeded_by
from invariants.layers import JAX, Layer, parse_layer
from invariants.specs import LECUN_NORMAL, ONES, ZEROS, Orthogonal, VarianceScaling

REF_EMBED = ("flax.linen.Embed / flax.nnx.Embed: embedding_init defaults to default_embed_init = "
             "variance_scaling(1.0, 'fan_in', 'normal', out_axis=0) (flax/linen/linear.py), whose fan_in on "
             "(num_embeddings, features) is features: N(0, 1/features)")

ORTHO = Orthogonal(1.0).for_unit_axis(JAX.unit_axis)
LECUN = Expectation(LECUN_NORMAL)


def _np(x: Any) -> np.ndarray:
    if isinstance(x, nnx.Variable):
        x = x[...]
    return np.asarray(x)


def _pack(parts: Sequence[Any]) -> np.ndarray:
    arrs = [_np(p) for p in parts]
    return arrs[0] if len(arrs) == 1 else np.concatenate(arrs, axis=-1)


def _getter(paths: Sequence[str], step: Callable[[Any, str], Any]) -> Callable[[Any], Sequence[Any]]:
    """``root -> [the value at each dotted path]``, walking each part with ``step(obj, part)``."""
    def get(root: Any) -> list[Any]:
        out = []
        for path in paths:
            obj = root
            for part in path.split("."):
                obj = step(obj, part)
            out.append(obj)
        return out

    return get


def _linen_getter(paths: Sequence[str]) -> Callable[[Any], Sequence[Any]]:
    """Values at dotted paths of a Linen params tree (dict keys)."""
    return _getter(paths, lambda obj, part: obj[part])


def _nnx_getter(paths: Sequence[str]) -> Callable[[Any], Sequence[Any]]:
    """Values at dotted paths of an NNX module (attributes)."""
    return _getter(paths, getattr)


def _gate_blocks(layer: Layer, names: Sequence[str]) -> tuple[Block, ...]:
    """One block per gate of a packed ``(in, g*H)`` view, in the given gate order."""
    h = layer.out_features
    sub = layer.block_layer()
    return tuple(Block(n, (slice(None), slice(i * h, (i + 1) * h)), sub) for i, n in enumerate(names))


class FlaxCatalogue(JaxCatalogue):
    """Flax linen/nnx layer defaults.  User callables follow JAX's ``fn(key, shape, dtype)`` convention
    (``flax.linen.initializers`` re-exports ``jax.nn.initializers``), so wrapping, fans and known
    expectations are :class:`JaxAdapter`'s; only the catalogue differs."""


    # ------------------------------------------------------------------ subjects
    def _subject(self, target: str, param: str, draw: Callable[[int], Any], get: Callable[[Any], Sequence[Any]],
                 layer: Layer | None, expect: Expectation, *, documented: Documented | None = None,
                 framework_fans: tuple[int, int] | None | str = "shape", blocks: tuple[Block, ...] = (),
                 call: str = "", shape: tuple[int, ...] | None = None) -> Subject:
        """A subject whose draw is ``_pack(get(draw(seed)))``.

        ``shape`` (default: ``layer.shape("jax")``) is stated, not probed, so building the catalogue costs
        no compilation; every draw is checked against it (a mismatch is a ``BadInitializer``, reported as
        verdict ``error``), and the tests assert it on real draws.
        """
        if shape is None:
            if layer is None:
                raise ValueError(f"{target}.{param}: give the shape of a tensor without a layer")
            shape = layer.shape(self.layout)
        shape = tuple(int(d) for d in shape)
        what = f"{target}.{param}"

        def sample(seed: int) -> np.ndarray:
            return check_array(_pack(get(draw(int(seed)))), shape, what)

        if framework_fans == "shape":
            framework_fans = self.framework_fans(shape)
        return Subject(target=target, param=param, layer=layer, shape=shape,
                       sampler=seeded_by(sample, "a JAX key (linen Module.init(jax.random.key(seed)) / nnx.Rngs(seed))"),
                       expect=expect,
                       documented=documented, framework_fans=framework_fans,  # type: ignore[arg-type]
                       blocks=blocks, call=call)

    def _linen(self, target: str, module: Any, inputs: Sequence[Any], param: str, paths: Sequence[str],
               layer: Layer | None | str, expect: Expectation, **kw: Any) -> Subject:
        """A linen layer default.  ``layer="extracted"``: the one the model extractor gives the kernel
        (:func:`invariants.frameworks.flax.model.kernel_layer`, on the shape ``init`` would give, traced
        with :func:`jax.eval_shape`: nothing is compiled), so a layer it knows is not restated here."""
        if layer == "extracted":
            shapes = jax.eval_shape(module.init, jax.random.key(0), *inputs)["params"]
            shape = tuple(_linen_getter(paths)(shapes)[0].shape)
            layer = kernel_layer(module, shape)
            kw.setdefault("shape", shape)
        assert not isinstance(layer, str)

        def draw(seed: int) -> Any:
            return module.init(jax.random.key(seed), *inputs)["params"]

        kw.setdefault("call", f"{target}.init(jax.random.key(seed), ...)['params']")
        return self._subject(target, param, draw, _linen_getter(paths), layer, expect, **kw)

    def _nnx(self, target: str, ctor: Callable[[Any], Any], param: str, paths: Sequence[str], layer: Layer | None,
             expect: Expectation, **kw: Any) -> Subject:
        def draw(seed: int) -> Any:
            return ctor(nnx.Rngs(seed))

        kw.setdefault("call", f"{target} built with rngs=nnx.Rngs(seed)")
        return self._subject(target, param, draw, _nnx_getter(paths), layer, expect, **kw)

    # ------------------------------------------------------------------ catalogue
    def catalogue(self) -> list[Subject]:
        return self._linen_defaults() + self._nnx_defaults()

    def _linen_defaults(self) -> list[Subject]:
        L = parse_layer
        s = self._linen
        x300 = jnp.ones((1, 300))
        img32 = jnp.ones((1, 8, 8, 32))
        out: list[Subject] = []
        dense = nn.Dense(100)
        out.append(s("flax.linen.Dense(100)", dense, [x300], "kernel", ["kernel"], "extracted", LECUN))
        out.append(s("flax.linen.Dense(100)", dense, [x300], "bias", ["bias"], None, Expectation(ZEROS),
                     shape=(100,)))
        # batch dims: the kernel (8, 300, 100) is initialized as the flat (2400, 100) matrix
        out.append(s("flax.linen.DenseGeneral(100, batch_dims=(0,))", nn.DenseGeneral(100, batch_dims=(0,)),
                     [jnp.ones((8, 300))], "kernel", ["kernel"], L("dense(300,100)"), LECUN, shape=(8, 300, 100),
                     framework_fans=compute_fans((8 * 300, 100)),
                     call="DenseGeneral(100, batch_dims=(0,)) on inputs (8, 300): kernel_init on the flattened "
                          "(8*300, 100) shape"))
        for g in (1, 4, 32):  # 32: depthwise, m = 2
            args = "64, (3, 3)" + (f", feature_group_count={g}" if g != 1 else "")
            out.append(s(f"flax.linen.Conv({args})", nn.Conv(64, (3, 3), feature_group_count=g), [img32], "kernel",
                         ["kernel"], "extracted", LECUN))
        out.append(s("flax.linen.Conv(64, (3, 3))", nn.Conv(64, (3, 3)), [img32], "bias", ["bias"], None,
                     Expectation(ZEROS), shape=(64,)))
        out.append(s("flax.linen.ConvTranspose(64, (3, 3))", nn.ConvTranspose(64, (3, 3)), [img32], "kernel",
                     ["kernel"], "extracted", LECUN))
        # transpose_kernel=True stores (*k, C_out, C_in): lecun's fan_in becomes C_out*K = 576
        out.append(s("flax.linen.ConvTranspose(64, (3, 3), transpose_kernel=True)",
                     nn.ConvTranspose(64, (3, 3), transpose_kernel=True), [img32], "kernel", ["kernel"], "extracted",
                     LECUN))
        out.append(s("flax.linen.Embed(1000, 64)", nn.Embed(1000, 64), [jnp.zeros((1,), jnp.int32)], "embedding",
                     ["embedding"], "extracted", **self._embed(1000, 64)))
        mha = nn.MultiHeadDotProductAttention(num_heads=8, qkv_features=512)
        xq = jnp.ones((1, 4, 256))
        for proj in ("query", "key", "value"):
            out.append(s("flax.linen.MultiHeadDotProductAttention(num_heads=8, qkv_features=512)", mha, [xq],
                         f"{proj}.kernel", [f"{proj}.kernel"], L("dense(256,512)"), LECUN, shape=(256, 8, 64),
                         framework_fans=compute_fans((256, 512)),
                         call="MultiHeadDotProductAttention on inputs (1, 4, 256): (256, 8, 64) kernel "
                              "initialized as the flat (256, 512) matrix"))
        out.append(s("flax.linen.MultiHeadDotProductAttention(num_heads=8, qkv_features=512)", mha, [xq], "out.kernel",
                     ["out.kernel"], L("dense(512,256)"), LECUN, framework_fans=compute_fans((512, 256)),
                     shape=(8, 64, 256),
                     call="MultiHeadDotProductAttention: out kernel (8, 64, 256) initialized as the flat (512, 256) "
                          "matrix"))
        out.append(s("flax.linen.MultiHeadDotProductAttention(num_heads=8, qkv_features=512)", mha, [xq], "query.bias",
                     ["query.bias"], None, Expectation(ZEROS), shape=(8, 64)))
        # recurrent cells: per-gate kernels, packed in gate order for the audit
        # input size 256: each (256, 64) gate block has 16k values, so few cell builds reach the sample size
        x256 = jnp.ones((1, 256))
        x32 = jnp.ones((1, 32))
        key = jax.random.key(0)
        for cls, gates in ((nn.LSTMCell, "ifgo"), (nn.OptimizedLSTMCell, "ifgo"), (nn.GRUCell, "rzn")):
            cell = cls(64)
            carry = cell.initialize_carry(key, (1, 256))
            tgt = f"flax.linen.{cls.__name__}(64)"
            pk = "lstm" if len(gates) == 4 else "gru"
            names = tuple(gates)
            out.append(s(tgt, cell, [carry, x256], "i*.kernel", [f"i{g}.kernel" for g in gates], L(f"{pk}(256,64)"),
                         LECUN, blocks=_gate_blocks(L(f"{pk}(256,64)"), names),
                         framework_fans=compute_fans((256, 64)),
                         call=f"{tgt} on inputs (1, 256): kernels {', '.join('i' + g for g in gates)} (256, 64) "
                              "packed along the last axis"))
            out.append(s(tgt, cell, [carry, x256], "h*.kernel", [f"h{g}.kernel" for g in gates], L(f"{pk}(64,64)"),
                         Expectation(ORTHO, label="orthogonal per gate"), blocks=_gate_blocks(L(f"{pk}(64,64)"), names),
                         framework_fans=compute_fans((64, 64)),
                         call=f"{tgt}: kernels {', '.join('h' + g for g in gates)} (64, 64) packed along the "
                              "last axis"))
            biases = [f"h{g}.bias" for g in gates] if pk == "lstm" else ["ir.bias", "iz.bias", "in.bias", "hn.bias"]
            out.append(s(tgt, cell, [carry, x256], "*.bias", biases, None, Expectation(ZEROS), shape=(256,),
                         call=f"{tgt}: biases {', '.join(biases)} concatenated"))
        ln = nn.LayerNorm()
        out.append(s("flax.linen.LayerNorm()", ln, [x32], "scale", ["scale"], None, Expectation(ONES), shape=(32,)))
        out.append(s("flax.linen.LayerNorm()", ln, [x32], "bias", ["bias"], None, Expectation(ZEROS), shape=(32,)))
        return out

    def _nnx_defaults(self) -> list[Subject]:
        L = parse_layer
        s = self._nnx
        out: list[Subject] = []
        out.append(s("flax.nnx.Linear(300, 100)", lambda r: nnx.Linear(300, 100, rngs=r), "kernel", ["kernel"],
                     L("dense(300,100)"), LECUN))
        out.append(s("flax.nnx.Linear(300, 100)", lambda r: nnx.Linear(300, 100, rngs=r), "bias", ["bias"], None,
                     Expectation(ZEROS), shape=(100,)))
        out.append(s("flax.nnx.LinearGeneral(300, 100, batch_axis={0: 8})",
                     lambda r: nnx.LinearGeneral(300, 100, batch_axis={0: 8}, rngs=r), "kernel", ["kernel"],
                     L("dense(300,100)"), LECUN, framework_fans=compute_fans((8 * 300, 100)),
                     shape=(8, 300, 100),
                     call="LinearGeneral(300, 100, batch_axis={0: 8}): kernel_init on the flattened (8*300, 100) "
                          "shape"))
        out.append(s("flax.nnx.Conv(32, 64, (3, 3), feature_group_count=4)",
                     lambda r: nnx.Conv(32, 64, (3, 3), feature_group_count=4, rngs=r), "kernel", ["kernel"],
                     L("conv2d(32,64,k=3,groups=4)"), LECUN))
        convt = L("conv_transpose2d(32,64,k=3)")
        out.append(s("flax.nnx.ConvTranspose(32, 64, (3, 3))", lambda r: nnx.ConvTranspose(32, 64, (3, 3), rngs=r),
                     "kernel", ["kernel"], convt, LECUN))
        out.append(s("flax.nnx.ConvTranspose(32, 64, (3, 3), transpose_kernel=True)",
                     lambda r: nnx.ConvTranspose(32, 64, (3, 3), transpose_kernel=True, rngs=r), "kernel", ["kernel"],
                     convt, LECUN, shape=(3, 3, 64, 32)))
        out.append(s("flax.nnx.Embed(1000, 64)", lambda r: nnx.Embed(1000, 64, rngs=r), "embedding", ["embedding"],
                     L("embedding(1000,64)"), **self._embed(1000, 64)))
        mha = "flax.nnx.MultiHeadAttention(num_heads=8, in_features=256, qkv_features=512, decode=False)"

        def make_mha(r: Any) -> Any:
            return nnx.MultiHeadAttention(num_heads=8, in_features=256, qkv_features=512, decode=False, rngs=r)

        out.append(s(mha, make_mha, "query.kernel", ["query.kernel"], L("dense(256,512)"), LECUN,
                     framework_fans=compute_fans((256, 512)), shape=(256, 8, 64)))
        out.append(s(mha, make_mha, "out.kernel", ["out.kernel"], L("dense(512,256)"), LECUN,
                     framework_fans=compute_fans((512, 256)), shape=(8, 64, 256)))
        # LSTMCell: one Linear per gate (ii, if_, ig, io; hi, hf, hg, ho)
        lstm = "flax.nnx.LSTMCell(256, 64)"
        mk = lambda r: nnx.LSTMCell(256, 64, rngs=r)  # noqa: E731
        names = ("i", "f", "g", "o")
        out.append(s(lstm, mk, "i*.kernel", ["ii.kernel", "if_.kernel", "ig.kernel", "io.kernel"], L("lstm(256,64)"),
                     LECUN, blocks=_gate_blocks(L("lstm(256,64)"), names), framework_fans=compute_fans((256, 64))))
        out.append(s(lstm, mk, "h*.kernel", ["hi.kernel", "hf.kernel", "hg.kernel", "ho.kernel"], L("lstm(64,64)"),
                     Expectation(ORTHO, label="orthogonal per gate"), blocks=_gate_blocks(L("lstm(64,64)"), names),
                     framework_fans=compute_fans((64, 64))))
        # OptimizedLSTMCell / GRUCell: packed Linear layers; recurrent_kernel_init runs on the packed matrix
        for cls, gates, pk in ((nnx.OptimizedLSTMCell, ("i", "f", "g", "o"), "lstm"),
                               (nnx.GRUCell, ("r", "z", "n"), "gru")):
            tgt = f"flax.nnx.{cls.__name__}(256, 64)"
            mk = (lambda c: (lambda r: c(256, 64, rngs=r)))(cls)
            out.append(s(tgt, mk, "dense_i.kernel", ["dense_i.kernel"], L(f"{pk}(256,64)"), LECUN,
                         blocks=_gate_blocks(L(f"{pk}(256,64)"), gates)))
            out.append(s(tgt, mk, "dense_h.kernel", ["dense_h.kernel"], L(f"{pk}(64,64)"),
                         Expectation(ORTHO, label="orthogonal per gate"), blocks=_gate_blocks(L(f"{pk}(64,64)"), gates),
                         call=f"{tgt}: recurrent_kernel_init (orthogonal) called on the packed (64, {64 * len(gates)}) "
                              "matrix"))
        out.append(s("flax.nnx.LayerNorm(32)", lambda r: nnx.LayerNorm(32, rngs=r), "scale", ["scale"], None,
                     Expectation(ONES), shape=(32,)))
        out.append(s("flax.nnx.LayerNorm(32)", lambda r: nnx.LayerNorm(32, rngs=r), "bias", ["bias"], None,
                     Expectation(ZEROS), shape=(32,)))
        return out

    @staticmethod
    def _embed(v: int, d: int) -> dict[str, Any]:
        """Expectation, documented rule and Flax's fans for an ``Embed(v, d)`` table ``(v, d)``."""
        vs = VarianceScaling(1.0, "fan_in", "normal")
        return {
            "expect": Expectation(vs, label="variance_scaling(1, fan_in, normal) with the one-hot fan_in V"),
            "documented": Documented(vs, REF_EMBED, label=f"N(0, 1/features) = N(0, 1/{d}) (fan_in = features "
                                                          "with out_axis=0)"),
            "framework_fans": compute_fans((v, d), in_axis=-2, out_axis=0),
        }


def catalogue(framework: Framework) -> list[Subject]:
    """The framework's initializers and layer defaults as audit subjects (see the module docstring)."""
    return FlaxCatalogue(framework).catalogue()



def examples() -> list[Callable[..., Any]]:
    """None: Flax's initializers are JAX's (``flax.linen.initializers`` re-exports them), claimed by the
    ``jax`` framework; Flax's own contribution is its layers' defaults (the catalogue)."""
    return []
