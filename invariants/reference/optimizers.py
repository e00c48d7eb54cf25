"""Optimizers for the reference network, with L2 weight decay and global gradient-norm clipping.

Each update is elementwise in (parameter, gradient, state), so it commutes with any permutation of
hidden units; the only cross-parameter quantity, the global gradient norm used for clipping, is summed
in canonical order (:func:`invariants.reference.kernels.canonical_sum`) so it is bitwise invariant
under such permutations.  Update rules follow the PyTorch ``torch.optim`` documentation
(SGD with momentum/Nesterov, Adam, AdamW, RMSprop, Adagrad) and ``torch.nn.utils.clip_grad_norm_``.

``weight_decay`` is L2 regularisation added to the gradient (g ← g + λθ) for every optimizer except
AdamW, where it is decoupled (θ ← θ − lr·λ·θ; Loshchilov & Hutter 2019, Algorithm 2).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from invariants.reference.kernels import FLOAT_DTYPES, canonical_sum
from invariants.reference.network import Params

OPTIMIZERS: tuple[str, ...] = ("sgd", "momentum", "nesterov", "adam", "adamw", "rmsprop", "adagrad")


@dataclass
class Optimizer:
    """A stateful optimizer.  ``state[slot][param_name]`` holds per-parameter arrays (same shape).

    Attributes:
        name: one of :data:`OPTIMIZERS`.
        lr: learning rate.
        weight_decay: L2 coefficient λ (decoupled for AdamW).
        clip_norm: clip the global L2 norm of the gradient to this value (None: no clipping).
        momentum, betas, alpha, eps: the usual hyper-parameters (PyTorch defaults).
    """

    name: str = "sgd"
    lr: float = 0.1
    weight_decay: float = 0.0
    clip_norm: float | None = None
    momentum: float = 0.9
    betas: tuple[float, float] = (0.9, 0.999)
    alpha: float = 0.99
    eps: float = 1e-8
    steps: int = 0
    state: dict[str, Params] = field(default_factory=dict)
    #: update every tensor at once, packed end to end into one vector (the same bits: see ``step``); False:
    #: tensor by tensor
    pack: bool = True
    #: the state packed into one vector per slot (see ``_packed_step``), with the views ``state`` holds
    _packed: dict = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.name not in OPTIMIZERS:
            raise ValueError(f"unknown optimizer {self.name!r}; expected one of {OPTIMIZERS}")

    def clip(self, grads: Params) -> Params:
        """Scale ``grads`` by min(1, clip_norm / (‖g‖₂ + 1e-6)), as ``clip_grad_norm_`` does."""
        if self.clip_norm is None:
            return grads
        flat = np.concatenate([g.ravel() for g in grads.values()])
        norm = np.sqrt(canonical_sum(flat * flat))
        coef = self.clip_norm / (float(norm) + 1e-6)
        if coef >= 1.0:
            return grads
        return {k: g * g.dtype.type(coef) for k, g in grads.items()}

    def step(self, params: Params, grads: Params) -> Params:
        """Return updated parameters (new arrays); advances the optimizer state."""
        grads = self.clip(grads)
        self.steps += 1
        if self.name == "sgd":  # one or two operations a tensor and no state: packing would not pay
            lr, wd = self.lr, self.weight_decay
            return {k: p - lr * (grads[k] + wd * p if wd else grads[k]) for k, p in params.items()}
        packed = self._packed_step(params, grads) if self.pack else None
        if packed is not None:
            return packed
        self._packed.clear()  # the per-tensor update below replaces the state's arrays
        return self.update(params, grads, self.state)

    def _packed_step(self, params: Params, grads: Params) -> Params | None:
        # The update is elementwise, so it may run on all parameters at once, packed end to end into one
        # vector (numpy computes each element by itself: the same bits), a dozen numpy calls a step instead of
        # a dozen per tensor (verify's networks have 4-8 tensors of a few dozen entries).  The state lives in
        # packed vectors (``_packed``) and ``state`` holds views of them; ``None`` (the per-tensor update)
        # where packing would change a result: mixed dtypes, a gradient of another shape or dtype.
        first = next(iter(params.values()), None)
        if first is None:
            return None
        dtype = first.dtype
        if dtype not in FLOAT_DTYPES:
            return None
        shapes = []
        for k, p in params.items():
            g = grads[k]
            if p.dtype != dtype or g.dtype != dtype or g.shape != p.shape:
                return None
            shapes.append((k, p.shape, p.size))
        key = tuple(shapes)
        packed = self._packed
        if packed.get("key") != key or any(self.state.get(slot) is not views for slot, views in packed["views"].items()) \
                or len(packed["views"]) != len(self.state):
            # first packed step, or the state was built or replaced elsewhere: pack it from ``state``
            try:
                flat_state = {slot: {"*": np.concatenate([tree[k].ravel() for k, _, _ in key])}
                              for slot, tree in self.state.items()}
            except KeyError:
                return None
            if any(v["*"].dtype != dtype for v in flat_state.values()):
                return None
            packed.clear()
            packed.update(key=key, state=flat_state, views={})
        flat_p = np.concatenate([p.ravel() for p in params.values()])
        flat_g = np.concatenate([grads[k].ravel() for k, _, _ in key])
        new = self.update({"*": flat_p}, {"*": flat_g}, packed["state"])["*"]
        for slot, tree in packed["state"].items():
            self.state[slot] = packed["views"][slot] = _unpack(tree["*"], key)
        return _unpack(new, key)

    def update(self, params: Params, grads: Params, state: dict[str, Params]) -> Params:
        """One step of the update rule of any optimizer but SGD (whose rule :meth:`step` applies itself) on
        every tensor of ``params`` with gradients ``grads`` (same keys and shapes), reading and replacing the
        state slots in ``state`` (created as zeros on the first step) at the current ``steps``; returns the
        new tensors.  :meth:`step` calls it on the tensors, or on them packed into one vector."""
        lr = self.lr
        wd = self.weight_decay
        new: Params = {}

        def slot(name: str) -> Params:
            # zeros built only on the first step: setdefault(slot, {...}) built (and dropped) them on every call,
            # once per parameter per step, 8% of `invariants verify`
            if name not in state:
                state[name] = {k: np.zeros_like(v) for k, v in params.items()}
            return state[name]

        if self.name == "adamw":
            b1, b2 = self.betas
            m, v = slot("exp_avg"), slot("exp_avg_sq")
            c1, c2 = 1 - b1 ** self.steps, 1 - b2 ** self.steps
            for k, p in params.items():
                g = grads[k]
                p = p - (lr * wd) * p if wd else p
                m[k] = b1 * m[k] + (1 - b1) * g
                v[k] = b2 * v[k] + (1 - b2) * (g * g)
                new[k] = p - lr * (m[k] / c1) / (np.sqrt(v[k] / c2) + self.eps)
            return new
        name = self.name
        # per-step constants and state slots looked up once a step, not once a parameter
        if name in ("momentum", "nesterov"):
            buf = slot("momentum_buffer")
        elif name == "adam":
            b1, b2 = self.betas
            m, v = slot("exp_avg"), slot("exp_avg_sq")
            c1, c2 = 1 - b1 ** self.steps, 1 - b2 ** self.steps
        else:
            s = slot("square_avg" if name == "rmsprop" else "sum")
        for k, p in params.items():
            g = grads[k] + wd * p if wd else grads[k]
            if name in ("momentum", "nesterov"):
                buf[k] = self.momentum * buf[k] + g if self.steps > 1 else g.copy()
                upd = g + self.momentum * buf[k] if name == "nesterov" else buf[k]
            elif name == "adam":
                m[k] = b1 * m[k] + (1 - b1) * g
                v[k] = b2 * v[k] + (1 - b2) * (g * g)
                upd = (m[k] / c1) / (np.sqrt(v[k] / c2) + self.eps)
            elif name == "rmsprop":
                s[k] = self.alpha * s[k] + (1 - self.alpha) * (g * g)
                upd = g / (np.sqrt(s[k]) + self.eps)
            else:  # adagrad
                s[k] = s[k] + g * g
                upd = g / (np.sqrt(s[k]) + self.eps)
            new[k] = p - lr * upd
        return new




def _unpack(flat: np.ndarray, key) -> Params:
    """Name → view of ``flat`` reshaped to the tensor's shape, for the (name, shape, size) triples ``key``."""
    out: Params = {}
    start = 0
    for k, shape, size in key:
        out[k] = flat[start:start + size].reshape(shape)
        start += size
    return out


def make_optimizer(name: str, **kwargs) -> Optimizer:
    """An :class:`Optimizer` with fresh state; raises ``ValueError`` for an unknown name."""
    return Optimizer(name=name, **kwargs)
