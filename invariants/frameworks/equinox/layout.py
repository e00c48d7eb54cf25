"""Equinox's weight layout as data (equinox 0.13.8; :class:`~invariants.layers.Layout`).

``equinox/nn/_linear.py``: ``Linear`` ``(out, in)``; ``_conv.py``: ``Conv`` **and** ``ConvTranspose``
``(C_out, C_in/G, *k)`` (a transposed conv keeps a conv's axis order; torch's is ``(C_in, C_out/G, *k)``);
``_embedding.py``: ``(V, D)``; ``_rnn.py``: ``GRUCell``/``LSTMCell`` gates stacked along dim 0.  No
bilinear layer.  Fan rule: Equinox has no fan function, but every layer's bound is ``1/sqrt(shape[1] *
rf)`` (``rf`` = product of the kernel dims), torch's rule on this layout.  Counting connections on
ones-weight layers confirms the textbook fans: ``ConvTranspose2d(32, 64, 3)`` (288, 576), ``groups=4``
(72, 144).
"""
from __future__ import annotations

from invariants.layers import Layout

EQUINOX = Layout("equinox", dense=("out", "in"), conv=("out", "in/g", "k"), conv_transpose=("out", "in/g", "k"),
                 fan_axes=(1, 0))

__all__ = ["EQUINOX"]
