"""Which random-valued biases have their spread judged: those that pass the one library default that draws
biases at random, so the coverage counts every other random-valued bias as *not judged* instead of analysed.

Only the constant and dead-unit checks read a bias (:mod:`invariants.modelcheck.coverage`); a bias of zeros
or ones is judged by them.  A bias that varies has a spread no finding judges: Keras, Flax and Hugging Face
initialise biases to zeros, but torch draws them ``U(-1/√fan_in, 1/√fan_in)``
(``torch/nn/modules/linear.py``, ``Linear.reset_parameters``; ``torch/nn/modules/conv.py``,
``_ConvNd.reset_parameters``: ``fan_in`` from ``init._calculate_fan_in_and_fan_out(self.weight)``, the shape
rule of :meth:`invariants.layers.Layout.fans`; a recurrent layer's biases ``U(±1/√hidden_size)``,
``torch/nn/modules/rnn.py``, ``RNNBase.reset_parameters`` and ``RNNCellBase.reset_parameters``), as do Equinox's ``Linear``/``Conv`` and MLX's ``Linear``
(``1/√in_features``), and some libraries draw their own (Mamba's ``dt_proj.bias``: the inverse softplus of a
log-uniform time step, ``transformers`` ``MambaPreTrainedModel._init_weights``).  No spread is wrong for every
library, so no error is raised here; a bias that does not pass the default law is listed as not judged.
"""
from __future__ import annotations

import math

import numpy as np

from invariants.laws import Law
from invariants.frameworks.model import ModelView, Param
from invariants.modelcheck.coverage import random_valued
from invariants.modelcheck.variance import passes


def default_bias_law(node_weight: Param) -> Law | None:
    """``U(-1/√fan_in, 1/√fan_in)``, ``fan_in`` the framework's shape rule on the layer's weight (torch's
    ``Linear``/``_ConvNd.reset_parameters``); ``None`` when the weight has fewer than 2 dims."""
    if len(node_weight.shape) < 2:
        return None
    fan_in = node_weight.layout.fans(node_weight.shape)[0]
    if fan_in <= 0:
        return None
    bound = 1.0 / math.sqrt(fan_in)
    return Law.uniform(-bound, bound, label=f"U(±1/√fan_in), fan_in {fan_in}")


#: torch's recurrent layers: gates stacked in a bias (``bias_ih``/``bias_hh`` hold ``gates·hidden_size`` values)
RNN_GATES = {"LSTM": 4, "GRU": 3, "RNN": 1, "LSTMCell": 4, "GRUCell": 3, "RNNCell": 1}


def recurrent_bias_law(bias: Param) -> Law | None:
    """``U(±1/√hidden_size)`` for a bias of torch's ``RNN``/``LSTM``/``GRU`` (or their cells), every weight
    and bias drawn alike (``torch/nn/modules/rnn.py``, ``RNNBase.reset_parameters``); ``None`` for another
    owner."""
    gates = RNN_GATES.get(bias.owner_type)
    if gates is None or not any(c in ("RNNBase", "RNNCellBase") for c in bias.owner_classes) or bias.size % gates:
        return None
    hidden = bias.size // gates
    return Law.uniform(-1 / math.sqrt(hidden), 1 / math.sqrt(hidden), label=f"U(±1/√hidden_size), hidden {hidden}")


def bias_judgement(view: ModelView, alpha: float, power: float, max_values: int) -> tuple[set[str], set[str]]:
    """``(judged, not judged)``: names of the random-valued biases
    (:func:`invariants.modelcheck.coverage.random_valued`, read once per bias) whose values pass their layer's
    default bias law (:func:`default_bias_law`, :func:`recurrent_bias_law`) at ``alpha``
    (:func:`invariants.modelcheck.variance.passes`: the law checks, the support included), and of every other
    random-valued bias: one without a layer, or that fails, is not judged (never an error; the coverage lists it
    as partial).

    Args:
        view: the view the checks ran on.
        alpha, power: the variance matches' per-check level and power (a failed test only withholds
            the judgement, so the weights' false-alarm budget is not charged).
        max_values: a larger bias is tested on a strided sample of this many values.
    """
    laws = {id(n.bias): default_bias_law(n.weight) for n in view.nodes if n.bias is not None}
    judged: set[str] = set()
    not_judged: set[str] = set()
    for b in view.params:
        if b.role != "bias" or not random_valued(b):
            continue
        law = laws[id(b)] if id(b) in laws else recurrent_bias_law(b)
        if law is not None:
            v = np.asarray(b.value).ravel()
            if v.size > max_values:
                v = v[:: math.ceil(v.size / max_values)]
            if passes(law, v, alpha, power):
                judged.add(b.name)
                continue
        not_judged.add(b.name)
    return judged, not_judged


def judged_biases(view: ModelView, alpha: float, power: float, max_values: int) -> set[str]:
    """The judged names of :func:`bias_judgement`."""
    return bias_judgement(view, alpha, power, max_values)[0]


__all__ = ["RNN_GATES", "bias_judgement", "default_bias_law", "judged_biases", "recurrent_bias_law"]
