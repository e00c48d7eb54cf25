"""Equinox: the default initialization of ``equinox.nn`` layers, and JAX initializers on Equinox weights.

Equinox (0.13.8) has no initializer module of its own: every layer draws its parameters in ``__init__``
from an explicit ``key=`` (``jax.random.key(seed)`` here; no global state), and users who want another
initialization apply a ``jax.nn.initializers`` function to the weight's shape and swap it in with
``eqx.tree_at``.  So a user callable follows JAX's convention ``fn(key, shape, dtype)``
(:func:`invariants.frameworks.jax.initializers.jax_sampler`), called with the shape in **Equinox's** layout.

Layout: :data:`invariants.frameworks.equinox.layout.EQUINOX`: dense ``(out, in)``; conv **and conv
transpose** ``(C_out, C_in/G, *k)``; conv bias ``(C_out, 1, ..., 1)``; embedding ``(V, D)``; GRU/LSTM
cells pack the gates along dim 0: ``weight_ih (g*H, in)``, ``weight_hh (g*H, H)``.

Defaults (``equinox/nn/_misc.py default_init``: ``jax.random.uniform(key, shape, minval=-lim,
maxval=lim)``): ``Linear``, ``Conv*``, ``ConvTranspose*`` weight **and bias** U(+-lim), lim =
1/sqrt(fan_in) with the *textbook* fan_in ((C_in/G)*K for both convolution kinds, groups and transposition
handled); ``GRUCell``/``LSTMCell`` every parameter U(+-1/sqrt(H)); ``Embedding`` N(0, 1);
``MultiheadAttention`` four ``Linear`` projections without bias; norms weight 1, bias 0.  Measured
(8 keys each): Linear(300,100) W var ratio 1.0015 to 1/900, max 0.0577348; Conv2d groups 1/4/32 ratios
1.0013/0.9990/1.0019; ConvTranspose2d groups 1/4 ratios 1.0013/0.9990, stride 2 unchanged; Embedding
ratio 1.0010 to 1, kurtosis 2.993; cells ratio 0.9985-1.0027 to 1/192.

Framework fans: Equinox has no fan function, but every layer's ``lim`` is ``1/sqrt(shape[1] * rf)``
(``rf`` = product of the kernel dims): torch's rule on Equinox's layout, textbook except for groups'
fan_out.  A JAX initializer applied to an Equinox weight computes JAX's ``_compute_fans`` (``in_axis=-2,
out_axis=-1``) on the ``(out, in)`` shape instead, i.e. swapped fans: ``jax.nn.initializers.he_normal()`` on
``Linear(300, 100)``'s weight uses fan_in 100 (variance 2/100, three times He's 2/300).  The catalogue
lists that pairing as a finding.
"""
from __future__ import annotations

import math
from typing import Any, Callable

import equinox as eqx
import jax

from invariants.frameworks.base import CatalogueBuilder, Framework
from invariants.frameworks.equinox.model import get as attribute
from invariants.frameworks.jax.initializers import compute_fans, jax_sampler
from invariants.frameworks.subjects import Documented, Expectation, Sampler, Subject, check_array, seeded_by
from invariants.layers import Layer, parse_layer
from invariants.specs import GLOROT_UNIFORM, HE_NORMAL, HE_UNIFORM, ONES, ZEROS, Normal, Uniform, VarianceScaling

#: Equinox's Linear/Conv/ConvTranspose default: U(+-1/sqrt(fan_in)), variance 1/(3 fan_in)
EQX_DEFAULT = VarianceScaling(1 / 3, "fan_in", "uniform", name="equinox_default")
HE_LABEL = "He uniform (the default the layer would need for ReLU nets)"

REF_LINEAR = ("equinox/nn/_linear.py Linear.__init__ (equinox 0.13.8): lim = 1/sqrt(in_features); weight and "
              "bias = default_init(key, shape, dtype, lim) = jax.random.uniform(minval=-lim, maxval=lim)")
REF_CONV = ("equinox/nn/_conv.py Conv.__init__ / ConvTranspose.__init__: lim = 1/sqrt((in_channels // groups) * "
            "prod(kernel_size)); weight (out_channels, in_channels // groups, *kernel_size) and bias ~ U(-lim, lim)")
REF_RNN = ("equinox/nn/_rnn.py GRUCell.__init__ / LSTMCell.__init__: lim = sqrt(1/hidden_size); weight_ih, "
           "weight_hh, bias (and GRU bias_n) ~ U(-lim, lim)")
REF_EMBED = ("equinox/nn/_embedding.py Embedding.__init__: weight = jax.random.normal(key, (num_embeddings, "
             "embedding_size))")


def bound_rule(reference: str, fan_in: int) -> Documented:
    """The layers' documented rule U(+-1/sqrt(fan_in)) (variance 1/(3 fan_in)) with its source."""
    return Documented(EQX_DEFAULT, reference,
                      label=f"U(+-1/sqrt(fan_in)) = U(+-{1 / math.sqrt(fan_in):.6g}), variance 1/(3 fan_in)")


class EquinoxCatalogue(CatalogueBuilder):
    """The ``equinox.nn`` layer defaults (module docstring) as audit subjects."""

    # ------------------------------------------------------------------ catalogue
    def _layer_subject(self, call: str, ctor: Callable[[Any], Any], param: str, layer: Layer | None,
                       expect: Expectation, documented: Documented | None = None, blocks: bool = False,
                       fan_candidates: tuple[tuple[str, int], ...] = ()) -> Subject:
        """``eqx.nn.<call>``'s parameter at attribute path ``param`` (``"query_proj.weight"``), built by
        ``ctor(key)`` with ``key = jax.random.key(seed)``."""
        path = tuple(param.split("."))
        what = f"eqx.nn.{call}.{param}"
        # the shape without drawing: eval_shape traces the constructor abstractly
        shape = tuple(int(s) for s in jax.eval_shape(lambda: attribute(ctor(jax.random.key(0)), path)).shape)
        if layer is not None and len(shape) >= 2 and layer.kind != "embedding" and self.shape(layer) != shape:
            raise AssertionError(f"{what}: shape {shape} != Equinox layout {self.shape(layer)}")
        # eager: JAX caches the compiled ops per shape across layers; jitting each subject's construction
        # compiles once per subject and was slower over the whole catalogue
        return Subject(target=f"eqx.nn.{call}", param=param, layer=layer, shape=shape,
                       sampler=seeded_by(lambda seed: check_array(attribute(ctor(jax.random.key(int(seed))), path),
                                                                  shape, what), "a JAX key (key=jax.random.key(seed))"),
                       expect=expect, documented=documented,
                       framework_fans=self.framework_fans(shape) if len(shape) >= 2 else None,
                       blocks=self.blocks(layer) if (blocks and layer is not None) else (),
                       fan_candidates=fan_candidates, call=call)

    def catalogue(self) -> list[Subject]:
        """Every ``equinox.nn`` parameterised layer's default, and two JAX initializers on Equinox weights."""
        nn = eqx.nn
        L = parse_layer
        m = self._layer_subject
        he = Expectation(HE_UNIFORM, label=HE_LABEL)
        out: list[Subject] = []


        def bias(fan_in: int) -> Expectation:
            b = 1 / math.sqrt(fan_in)
            return Expectation(Uniform(-b, b), label=f"U(+-1/sqrt({fan_in})) (source)")

        out.append(m("Linear(300, 100)", lambda k: nn.Linear(300, 100, key=k), "weight", L("dense(300,100)"), he,
                     bound_rule(REF_LINEAR, 300)))
        out.append(m("Linear(300, 100)", lambda k: nn.Linear(300, 100, key=k), "bias", None, bias(300)))
        # Conv1d/2d/3d (ConvTranspose1d/2d/3d) are thin subclasses sharing Conv.__init__ (ConvTranspose.__init__):
        # the 2-d layers cover the rule, and each extra shape costs a JAX compile of its own
        convs = [
            ("Conv2d(32, 64, 3)", lambda k: nn.Conv2d(32, 64, 3, key=k), "conv2d(32,64,k=3)"),
            ("Conv2d(32, 64, 3, groups=4)", lambda k: nn.Conv2d(32, 64, 3, groups=4, key=k),
             "conv2d(32,64,k=3,groups=4)"),
            ("Conv2d(32, 64, 3, groups=32)", lambda k: nn.Conv2d(32, 64, 3, groups=32, key=k),
             "depthwise_conv2d(32,k=3,m=2)"),
            ("ConvTranspose2d(32, 64, 3)", lambda k: nn.ConvTranspose2d(32, 64, 3, key=k),
             "conv_transpose2d(32,64,k=3)"),
            ("ConvTranspose2d(32, 64, 3, groups=4)", lambda k: nn.ConvTranspose2d(32, 64, 3, groups=4, key=k),
             "conv_transpose2d(32,64,k=3,groups=4)"),
            ("ConvTranspose2d(32, 64, 3, stride=2)", lambda k: nn.ConvTranspose2d(32, 64, 3, stride=2, key=k),
             "conv_transpose2d(32,64,k=3,stride=2)"),
        ]
        for call, ctor, text in convs:
            lay = L(text)
            out.append(m(call, ctor, "weight", lay, he, bound_rule(REF_CONV, lay.textbook_fans()[0])))
        out.append(m("Conv2d(32, 64, 3)", lambda k: nn.Conv2d(32, 64, 3, key=k), "bias", None, bias(288)))
        out.append(m("Embedding(1000, 64)", lambda k: nn.Embedding(1000, 64, key=k), "weight", L("embedding(1000,64)"),
                     Expectation(Normal(0.0, 1.0), label=f"N(0, 1) ({REF_EMBED})")))
        # recurrent cells: every parameter U(+-1/sqrt(H)); textbook: the Linear rule on each gate's fan_in
        h = 64
        bh = 1 / math.sqrt(h)
        rnn_rule = Expectation(EQX_DEFAULT, label="U(+-1/sqrt(fan_in)) on the textbook fan_in (Equinox's Linear rule)")
        rnn_doc = Documented(Uniform(-bh, bh), REF_RNN, label=f"U(+-1/sqrt(hidden_size)) = U(+-{bh:.6g})")
        hidden = (("hidden_size H 64", h),)
        for cls, ctor, packing in (("GRUCell", lambda k: nn.GRUCell(32, h, key=k), "gru"),
                                   ("LSTMCell", lambda k: nn.LSTMCell(32, h, key=k), "lstm")):
            call = f"{cls}(32, {h})"
            out.append(m(call, ctor, "weight_ih", L(f"{packing}(32,{h})"), rnn_rule, rnn_doc, blocks=True,
                         fan_candidates=hidden))
            out.append(m(call, ctor, "weight_hh", L(f"{packing}({h},{h})"), rnn_rule, rnn_doc, blocks=True,
                         fan_candidates=hidden))
            out.append(m(call, ctor, "bias", None, Expectation(Uniform(-bh, bh), label="U(+-1/sqrt(H)) (source)")))
        e = 64
        mha = f"MultiheadAttention(4, {e})"
        for proj in ("query_proj", "output_proj"):
            out.append(m(mha, lambda k: nn.MultiheadAttention(4, e, key=k), f"{proj}.weight", L(f"dense({e},{e})"), he,
                         bound_rule(REF_LINEAR + f"; {proj} is a Linear", e)))
        out.append(m("LayerNorm(64)", lambda k: nn.LayerNorm(64), "weight", None, Expectation(ONES)))
        out.append(m("LayerNorm(64)", lambda k: nn.LayerNorm(64), "bias", None, Expectation(ZEROS)))
        out.append(m("GroupNorm(4, 64)", lambda k: nn.GroupNorm(4, 64), "weight", None, Expectation(ONES)))
        # the recipe for a custom init (jax.nn.initializers on weight.shape + eqx.tree_at): JAX reads the
        # (out, in) weight as (in, out), so its fans are swapped
        dense = L("dense(300,100)")
        for fname, spec in (("he_normal", HE_NORMAL), ("glorot_uniform", GLOROT_UNIFORM)):
            fn = getattr(jax.nn.initializers, fname)()
            shape = self.shape(dense)
            target = f"jax.nn.initializers.{fname}() on eqx.nn.Linear(300, 100).weight"
            out.append(Subject(target=target, param="", layer=dense, shape=shape,
                               sampler=jax_sampler(fn, shape, target), expect=Expectation(spec),
                               framework_fans=compute_fans(shape),  # JAX's rule, not Equinox's
                               call=f"jax.nn.initializers.{fname}()(key, {shape}, float32)"))
        return out


def wrap(fn: Callable[..., Any], shape: tuple[int, ...], dtype: str | None = None) -> Sampler:
    """JAX's convention ``fn(key, shape, dtype)`` in ``dtype`` (``None``: float32;
    :func:`~invariants.frameworks.jax.initializers.jax_sampler`)."""
    return jax_sampler(fn, shape, dtype=dtype)


def known_expectation(fn: Callable[..., Any]) -> Expectation | None:
    """None: Equinox has no initializers of its own (a ``jax.nn.initializers`` function is JAX's)."""
    return None


def catalogue(framework: Framework) -> list[Subject]:
    """The Equinox catalogue (module docstring)."""
    return EquinoxCatalogue(framework).catalogue()


def examples() -> list[Callable[..., Any]]:
    """None: a user's initializer for an Equinox weight is a JAX one (claimed by the ``jax`` framework);
    Equinox's own contribution is its layers' defaults (the catalogue)."""
    return []


__all__ = ["EQX_DEFAULT", "EquinoxCatalogue", "bound_rule", "catalogue", "examples", "known_expectation", "wrap"]
