"""Layer descriptions: weight shapes in each framework's layout, textbook fans and framework fans.

**Textbook fans** come from the layer's connectivity, not from the tensor shape (Glorot & Bengio 2010,
Sec. 4.2; He et al. 2015, Sec. 2.2): ``fan_in`` = number of inputs feeding one output unit,
``fan_out`` = number of outputs fed by one input unit.  With ``K`` = product of the kernel size and
``G`` = groups:

============================  ==============================  ======================================
layer                         textbook (fan_in, fan_out)      notes
============================  ==============================  ======================================
``dense(in, out)``            ``(in, out)``
``conv{1,2,3}d``              ``((C_in/G)·K, (C_out/G)·K)``   groups divided out of both fans
``depthwise_conv{1,2,3}d``    ``(K, m·K)``                    ``G = C_in``, ``C_out = m·C_in``
``conv_transpose{1,2,3}d``    ``((C_in/G)·K, (C_out/G)·K)``   exact at stride 1; at stride ``s`` the
                                                              fan_in averages ``(C_in/G)·K/∏s``;
                                                              stride is ignored, as by Glorot and He
``embedding(V, D)``           ``(V, D)``                      a one-hot dense layer
``bilinear(in1, in2, out)``   ``(in1·in2, out)``              each output sums ``in1·in2`` products
``qkv(E)`` / ``lstm(in, H)``  per block: ``(E, E)`` /         packed projections (3 blocks) and RNN
``gru`` / ``rnn``             ``(in, H)``                     gates (4, 3, 1 blocks): each block is
                                                              audited as its own matrix
``kernel(shape, in_axes,      ``(∏in·rf, ∏out·rf)``           multi-axis (einsum) kernel; ``rf`` =
out_axes)``                                                   product of the axes in neither list
``experts(E, in, out,         per expert and gate:            stacked experts ``(E, gates·out, in)``
gates=2)``                    ``(in, out)``                   in torch: each expert's gate/up map is
                                                              audited as its own matrix
``vector(n)`` / ``scalar()``  none                            a bias / norm scale / 0-D tensor; a
                                                              fan-based spec uses the framework's
                                                              fans (Keras ``(n, n)``), if any
============================  ==============================  ======================================

Sizes may be 0 (``dense(0,4)``, legal in torch): such a layer has no values; the auditor reports it
as skipped ("0 values: nothing to audit") and ``check-model`` lists the tensor as skipped ("0 elements").

**Layer kinds** are types: one frozen dataclass per kind (:class:`Dense`, :class:`Conv`,
:class:`ConvTranspose`, :class:`Depthwise`, :class:`Embedding`, :class:`Bilinear`, :class:`Kernel`,
:class:`Vector`, :class:`Scalar`, the stacked :class:`Experts`, and the packed :class:`QKV`, :class:`LSTM`, :class:`GRU`, :class:`RNN`), each with its textbook fans and its text
form (``str(layer)``; :func:`parse_layer` reads it back through the registry
:data:`LAYER_TYPES`).

**Layouts** are data (:class:`Layout`, module :mod:`invariants.layers.layout`): per weight role, where
the fan_in / fan_out / receptive-field / unit axes sit, and the framework's shape-based fan rule.
Built in: :data:`TORCH` (= ``numpy``), :data:`JAX` (JAX, Flax), :data:`KERAS`; a framework with
another layout defines its own :class:`Layout`.

Sources: the measured table in ``shared/reference/initializer-conventions.md`` §0, §3.
"""
from __future__ import annotations

from invariants.layers.base import LAYER_TYPES, Args, InOut, Layer, positive_int, register, size_int
from invariants.layers.bilinear import Bilinear
from invariants.layers.conv import Conv, ConvTranspose, Depthwise, GroupedConv, Spatial
from invariants.layers.dense import Dense
from invariants.layers.embedding import Embedding
from invariants.layers.experts import Experts
from invariants.layers.kernel import Kernel
from invariants.layers.layout import (JAX, KERAS, LAYOUTS, TORCH, Layout, as_layout, fans_from_shape,
                                      grouped_fan_candidates, shape_fan_candidates)
from invariants.layers.packed import GRU, LSTM, QKV, RECURRENT, RNN, Gates, Packed
from invariants.layers.text import parse_layer
from invariants.layers.vector import Scalar, Unconnected, Vector

__all__ = [
    "Args", "Bilinear", "Conv", "ConvTranspose", "Dense", "Depthwise", "Embedding", "Experts", "GRU", "Gates",
    "GroupedConv", "InOut", "JAX", "KERAS", "Kernel", "LAYER_TYPES", "LAYOUTS", "LSTM", "Layer", "Layout", "Packed",
    "QKV", "RECURRENT", "RNN", "Scalar", "Spatial", "TORCH", "Unconnected", "Vector", "as_layout", "fans_from_shape",
    "grouped_fan_candidates", "parse_layer", "positive_int", "register", "shape_fan_candidates", "size_int",
]
