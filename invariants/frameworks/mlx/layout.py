"""MLX's weight layout as data (mlx 0.32.4; :class:`~invariants.layers.Layout`).

``mlx/nn/layers/linear.py``: ``Linear`` ``(out, in)``, ``Bilinear`` ``(out, in2, in1)``;
``convolution.py``: ``Conv{1,2,3}d`` ``(C_out, *k, C_in/G)`` (channels last; ``Conv3d`` has no groups);
``convolution_transpose.py``: ``ConvTranspose{1,2,3}d`` ``(C_out, *k, C_in)`` (no groups);
``embedding.py``: ``(V, D)``; ``recurrent.py``: ``GRU``/``LSTM`` gates stacked along dim 0.  The fan rule
is ``mlx/nn/init.py _calculate_fan_in_fan_out``: ``rf = prod(shape[1:-1])``, ``(shape[-1]*rf,
shape[0]*rf)`` (textbook on dense, conv and conv transpose; blind to groups).  Counting connections on
ones-weight layers confirms the textbook fans: ``ConvTranspose2d(32, 64, 3)`` (288, 576),
``Conv2d(32, 64, 3, groups=4)`` (72, 144).
"""
from __future__ import annotations

from invariants.layers import Layout

MLX = Layout("mlx", dense=("out", "in"), conv=("out", "k", "in/g"), conv_transpose=("out", "k", "in"),
             bilinear=("out", "in2", "in"), fan_axes=(-1, 0),
             no_fans="mlx computes no fans for an array with fewer than 2 dims "
                     "(mlx.nn.init._calculate_fan_in_fan_out raises ValueError)",
             fan_rule="mlx.nn.init._calculate_fan_in_fan_out reads the shape, not the layer's axes: "
                      "rf = prod(shape[1:-1]), fan_in = shape[-1]*rf, fan_out = shape[0]*rf")

__all__ = ["MLX"]
