"""Which common operations keep tied hidden units tied under training, in torch (SYM-ARCH-01).

Each entry builds a small torch model (float64, CPU, one thread, seeded) whose hidden units — output
channels, heads, branch units, experts — start tied, trains it with SGD and with Adam on random data and
measures the *defect*: the largest |difference| between members of a tied group after any step (0.0 when
the tie holds bit for bit).  Models are plain functions of a parameter dict so that the tied groups are
explicit: a group is ``(parameter name, dim, indices)``, the slices along ``dim`` at ``indices`` that
must stay equal.  Every operation is applied in two variants where that is the point (per-unit vs shared
dropout mask, torch.max vs torch.amax), so that an entry's evidence compares a breaker with its
tie-keeping counterpart.

torch is imported inside the functions (it is heavy, and only this catalogue needs it).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

#: SGD and Adam learning rates; steps per run.
LR = {"sgd": 0.1, "adam": 0.01}
STEPS = 20

#: A tie is kept when the defect stays at most KEEP (float64 rounding, amplified over 20 steps, stays
#: many orders below it); broken when it reaches BREAK (a broken tie moves by about lr × gradient ≫ 1e-6).
KEEP, BREAK = 1e-10, 1e-6


def _torch():
    import torch

    torch.set_num_threads(1)
    return torch


class Optimizer:
    """SGD or Adam (β = (0.9, 0.999), ε = 1e-8, bias-corrected: torch.optim.Adam's defaults and update,
    Kingma & Ba 2015, Algorithm 1) on a dict of leaf tensors, written out because importing torch.optim
    costs seconds.  Both update each coordinate from its own gradient and state only."""

    def __init__(self, name: str, params: dict):
        self.name, self.params, self.t = name, params, 0
        self.m = {k: v.detach().clone().zero_() for k, v in params.items()}
        self.v = {k: v.detach().clone().zero_() for k, v in params.items()}

    def zero_grad(self) -> None:
        for v in self.params.values():
            v.grad = None

    def step(self) -> None:
        lr = LR[self.name]
        self.t += 1
        with _torch().no_grad():
            for k, p in self.params.items():
                g = p.grad
                if self.name == "sgd":
                    p -= lr * g
                    continue
                self.m[k].mul_(0.9).add_(g, alpha=0.1)
                self.v[k].mul_(0.999).addcmul_(g, g, value=0.001)
                m_hat = self.m[k] / (1 - 0.9 ** self.t)
                v_hat = self.v[k] / (1 - 0.999 ** self.t)
                p -= lr * m_hat / (v_hat.sqrt() + 1e-8)


@dataclass(frozen=True)
class TieRun:
    """Defect per optimizer (``{"sgd": d, "adam": d}``) and a note (what else was measured)."""

    defect: dict[str, float]
    note: str = ""

    @property
    def kept(self) -> bool:
        return all(d <= KEEP for d in self.defect.values())

    @property
    def broken(self) -> bool:
        return all(d >= BREAK for d in self.defect.values())


Group = tuple[str, int, tuple[int, ...]]


def defect(params: dict, groups: list[Group]) -> float:
    """Largest |slice_i − slice_first| over the tied groups."""
    worst = 0.0
    for name, dim, idx in groups:
        p = params[name].detach()
        first = p.select(dim, idx[0])
        for i in idx[1:]:
            worst = max(worst, float((p.select(dim, i) - first).abs().max()))
    return worst


def tied_groups(groups: list[Group]) -> Callable[[dict], float]:
    """The defect measure of these groups (:func:`defect`)."""
    return lambda params: defect(params, groups)


def train_tied(build: Callable, forward: Callable, measure: Callable[[dict], float], n_in, n_out: int,
               seed: int, batch: int = 8, post_step: Callable | None = None) -> TieRun:
    """Train ``forward(params, x, gen)`` (params from ``build(gen)``, each a leaf tensor) with SGD and
    Adam for :data:`STEPS` steps on MSE to random targets; ``post_step(params, gen)`` runs after each
    step under ``no_grad`` (stochastic rounding).  ``x`` is (batch, n_in) unless ``n_in`` is a tuple
    (the input shape after the batch dimension).  Returns the largest ``measure(params)`` (a defect,
    e.g. :func:`tied_groups`) over the steps."""
    torch = _torch()
    out: dict[str, float] = {}
    for name in ("sgd", "adam"):
        gen = torch.Generator().manual_seed(seed)
        shape = (batch, *n_in) if isinstance(n_in, tuple) else (batch, n_in)
        x = torch.rand(shape, generator=gen, dtype=torch.float64) * 2 - 1
        t = torch.randn((batch, n_out), generator=gen, dtype=torch.float64)
        params = {k: v.clone().requires_grad_(True) for k, v in build(gen).items()}
        opt = Optimizer(name, params)
        worst = measure(params)
        for _ in range(STEPS):
            opt.zero_grad()
            loss = ((forward(params, x, gen) - t) ** 2).mean()
            loss.backward()
            opt.step()
            if post_step is not None:
                with torch.no_grad():
                    post_step(params, gen)
            worst = max(worst, measure(params))
        out[name] = worst
    return TieRun(out)


def linear(x, w):
    """``x @ w.T`` (``x``: (..., in), ``w``: (out, in)) as an elementwise product summed over ``in``.

    A GEMM need not round every output unit alike: torch's CPU matmul on an AVX2 machine returns the weight
    gradient of two tied units 1 ulp apart (``grad_z.T @ x``, rows in a kernel tile and in its remainder).  That
    alone is a symmetry break of SYM-FP-01's kind, and a max at a tie (torch.amax) turns it into a full one; summing
    the products along ``in`` (and, in the backward, along the batch) rounds every unit in the same order, so an
    entry's defect measures the operation under test, not the GEMM."""
    return (x.unsqueeze(-2) * w).sum(-1)


def _tied_rows(gen, n_units: int, n_in: int, torch):
    row = torch.randn((1, n_in), generator=gen, dtype=torch.float64) / n_in ** 0.5
    return row.repeat(n_units, 1)


def _tied_cols(gen, n_out: int, n_units: int, torch):
    col = torch.randn((n_out, 1), generator=gen, dtype=torch.float64) / n_units ** 0.5
    return col.repeat(1, n_units)


def _mlp_parts(gen, n_in, width, n_out, torch):
    return {"W1": _tied_rows(gen, width, n_in, torch), "b1": torch.full((width,), 0.1, dtype=torch.float64),
            "W2": _tied_cols(gen, n_out, width, torch), "b2": torch.zeros(n_out, dtype=torch.float64)}


_MLP_GROUPS: list[Group] = [("W1", 0, (0, 1, 2, 3)), ("b1", 0, (0, 1, 2, 3)), ("W2", 1, (0, 1, 2, 3))]


# ---- convolution: tied output channels --------------------------------------------------------------


def conv_channels(channel_dropout: bool = False, seed: int = 1) -> TieRun:
    """Conv1d(2 → 4 channels, kernel 3) → tanh → Conv1d(4 → 2, kernel 3) → mean over positions, the 4
    output channels of the first convolution tied (equal filters and biases, equal input-channel
    slices of the second).  ``channel_dropout`` (the mutant) drops whole channels independently
    (torch's Dropout1d)."""
    torch = _torch()
    F = torch.nn.functional

    def build(gen):
        f = torch.randn((1, 2, 3), generator=gen, dtype=torch.float64) / 6 ** 0.5
        g = torch.randn((2, 1, 3), generator=gen, dtype=torch.float64) / 12 ** 0.5
        return {"K1": f.repeat(4, 1, 1), "c1": torch.full((4,), 0.1, dtype=torch.float64),
                "K2": g.repeat(1, 4, 1), "c2": torch.zeros(2, dtype=torch.float64)}

    def forward(p, x, gen):
        h = torch.tanh(F.conv1d(x, p["K1"], p["c1"], padding=1))
        if channel_dropout:
            keep = (torch.rand((x.shape[0], 4, 1), generator=gen, dtype=torch.float64) > 0.5).double()
            h = h * keep * 2
        return F.conv1d(h, p["K2"], p["c2"], padding=1).mean(dim=2)

    groups = [("K1", 0, (0, 1, 2, 3)), ("c1", 0, (0, 1, 2, 3)), ("K2", 1, (0, 1, 2, 3))]
    return train_tied(build, forward, tied_groups(groups), (2, 7), 2, seed)


# ---- residual stream: a tied branch on a stream carrying the input -------------------------------------


def residual_branch(branch_dropout: bool = False, seed: int = 2) -> TieRun:
    """Two residual blocks x ← x + W2 tanh(W1 x + b1) on a 3-wide stream, then a linear readout; each
    branch's 4 hidden units tied.  The note gives the spread of the stream's coordinates (not tied:
    the skip carries x, which differs per coordinate).  ``branch_dropout`` (the mutant) drops branch
    units independently."""
    torch = _torch()
    spread = []

    def build(gen):
        p = {}
        for blk in (1, 2):
            p[f"A{blk}"] = _tied_rows(gen, 4, 3, torch)
            p[f"a{blk}"] = torch.full((4,), 0.1, dtype=torch.float64)
            p[f"B{blk}"] = _tied_cols(gen, 3, 4, torch)
        p["R"] = torch.randn((2, 3), generator=gen, dtype=torch.float64) / 3 ** 0.5
        return p

    def forward(p, x, gen):
        for blk in (1, 2):
            h = torch.tanh(linear(x, p[f"A{blk}"]) + p[f"a{blk}"])
            if branch_dropout:
                h = h * (torch.rand(h.shape, generator=gen, dtype=torch.float64) > 0.5).double() * 2
            x = x + linear(h, p[f"B{blk}"])
        spread.append(float((x.detach().max(dim=1).values - x.detach().min(dim=1).values).min()))
        return linear(x, p["R"])

    groups = [(f"{n}{blk}", d, (0, 1, 2, 3)) for blk in (1, 2) for n, d in (("A", 0), ("a", 0), ("B", 1))]
    run = train_tied(build, forward, tied_groups(groups), 3, 2, seed)
    return TieRun(run.defect, f"stream coordinates differ by ≥ {min(spread):.3g} per example")


# ---- multi-head attention: tied heads ------------------------------------------------------------------


def attention_heads(attn_dropout: float = 0.0, within_head: bool = False, seed: int = 3) -> TieRun:
    """torch's multi-head attention (F.multi_head_attention_forward; embed 4, self-attention over 5 tokens,
    then mean over tokens) with tied heads or tied units within a head.  Default: 2 heads of dimension 2,
    head 1 equal to head 0 (q/k/v projection rows and biases, output projection columns).
    ``within_head``: 1 head of dimension 4 whose units 0 and 1 are tied (rows 0, 1 of each of the q, k, v
    projections and their biases, output columns 0, 1): the score q·k = Σ_d q_d k_d is unchanged when q and
    k swap coordinates together.  ``attn_dropout`` > 0 (the mutant) drops attention weights independently
    per head."""
    torch = _torch()
    F = torch.nn.functional
    E = 4
    nh, d = (1, 4) if within_head else (2, 2)

    def build(gen):
        if within_head:  # rows 0 and 1 of each projection equal, output columns 0 and 1 equal
            blocks = []
            for _ in range(3):
                blk = torch.randn((E, E), generator=gen, dtype=torch.float64) / 2
                blk[1] = blk[0]
                blocks.append(blk)
            w_in = torch.cat(blocks)
            b_in = torch.tensor([0.1, 0.1, -0.2, 0.3] * 3, dtype=torch.float64)
            w_out = torch.randn((E, E), generator=gen, dtype=torch.float64) / 2
            w_out[:, 1] = w_out[:, 0]
        else:  # head 1 = head 0
            blocks = [torch.randn((d, E), generator=gen, dtype=torch.float64) / 2 for _ in range(3)]
            w_in = torch.cat([torch.cat([blk, blk]) for blk in blocks])  # (3E, E): q, k, v
            b_in = torch.cat([torch.full((d,), 0.1 * (k + 1), dtype=torch.float64).repeat(2) for k in range(3)])
            w_out = torch.randn((E, d), generator=gen, dtype=torch.float64).repeat(1, 2) / 2
        return {"in_w": w_in, "in_b": b_in, "out_w": w_out, "out_b": torch.zeros(E, dtype=torch.float64)}

    def forward(p, x, gen):
        seq = x.reshape(x.shape[0], 5, E).transpose(0, 1)  # (T, B, E)
        torch.manual_seed(int(torch.randint(0, 2**31, (1,), generator=gen)))  # the dropout draws
        y, _ = F.multi_head_attention_forward(seq, seq, seq, E, nh, p["in_w"], p["in_b"], None, None, False,
                                              attn_dropout, p["out_w"], p["out_b"], training=True,
                                              need_weights=False)
        return y.mean(dim=0)[:, :2]

    if within_head:
        groups = [(name, 0, (q * E, q * E + 1)) for q in range(3) for name in ("in_w", "in_b")]
        groups += [("out_w", 1, (0, 1))]
    else:
        groups = [(name, 0, (q * E + r, q * E + d + r)) for q in range(3) for r in range(d)
                  for name in ("in_w", "in_b")]
        groups += [("out_w", 1, (r, d + r)) for r in range(d)]
    return train_tied(build, forward, tied_groups(groups), (5 * E,), 2, seed)


# ---- normalization after a tied layer ----------------------------------------------------------------------


@dataclass(frozen=True)
class NormAfterTie:
    """A tied Linear(3, 4) followed by a norm, tanh and Linear(4, 2): after 20 SGD steps, the largest
    |norm output − shift β| over the batch, the largest |∂L/∂W| of the tied layer at every step, the
    network output's spread over 16 inputs, and whether the tie held (defect)."""

    norm: str
    off_shift: float
    max_grad_w: float
    output_spread: float
    defect: float


def norm_after_tie(norm: str = "layer", untie: float = 0.0, seed: int = 4) -> NormAfterTie:
    """``norm`` is ``"layer"`` (torch LayerNorm over the 4 units) or ``"batch"`` (BatchNorm over the batch,
    training mode); ``untie`` > 0 (the mutant) adds N(0, untie²) to the tied rows."""
    torch = _torch()
    F = torch.nn.functional
    gen = torch.Generator().manual_seed(seed)
    x = torch.rand((16, 3), generator=gen, dtype=torch.float64) * 2 - 1
    t = torch.randn((16, 2), generator=gen, dtype=torch.float64)
    p = _mlp_parts(gen, 3, 4, 2, torch)
    p["W1"] = p["W1"] + untie * torch.randn(p["W1"].shape, generator=gen, dtype=torch.float64)
    p["gamma"], p["beta"] = torch.ones(4, dtype=torch.float64), torch.zeros(4, dtype=torch.float64)
    p = {k: v.clone().requires_grad_(True) for k, v in p.items()}
    opt = Optimizer("sgd", p)
    off, gmax, worst = 0.0, 0.0, 0.0
    for _ in range(STEPS):
        z = linear(x, p["W1"]) + p["b1"]
        if norm == "layer":
            a = F.layer_norm(z, (4,), p["gamma"], p["beta"])
        else:
            a = F.batch_norm(z, None, None, p["gamma"], p["beta"], training=True)
        off = max(off, float((a - p["beta"]).detach().abs().max()))
        y = linear(torch.tanh(a), p["W2"]) + p["b2"]
        opt.zero_grad()
        ((y - t) ** 2).mean().backward()
        gmax = max(gmax, float(p["W1"].grad.abs().max()))
        opt.step()
        worst = max(worst, defect(p, _MLP_GROUPS))
    with torch.no_grad():
        z = linear(x, p["W1"]) + p["b1"]
        a = (F.layer_norm(z, (4,), p["gamma"], p["beta"]) if norm == "layer"
             else F.batch_norm(z, None, None, p["gamma"], p["beta"], training=True))
        y = linear(torch.tanh(a), p["W2"]) + p["b2"]
        spread = float((y.max(dim=0).values - y.min(dim=0).values).max())
    return NormAfterTie(norm, off, gmax, spread, 0.0 if untie else worst)


# ---- max-type nonlinearities -------------------------------------------------------------------------------


def maxout(reduce: str = "max", seed: int = 5) -> TieRun:
    """Linear(3, 4) with its 4 units tied → maxout over pairs (units 0, 1 and 2, 3) → Linear(2, 2).
    ``reduce``: ``"max"`` (torch.max over the pair: the gradient goes to the returned index only),
    ``"amax"`` (torch.amax: the gradient is split evenly between equal values) or ``"pool"``
    (max_pool1d over the unit axis, kernel 2: one index)."""
    torch = _torch()
    F = torch.nn.functional

    def build(gen):
        return {"W1": _tied_rows(gen, 4, 3, torch), "b1": torch.full((4,), 0.1, dtype=torch.float64),
                "W2": torch.randn((2, 2), generator=gen, dtype=torch.float64) / 2 ** 0.5}

    def forward(p, x, gen):
        z = linear(x, p["W1"]) + p["b1"]
        if reduce == "max":
            m = z.reshape(-1, 2, 2).max(dim=2).values
        elif reduce == "amax":
            m = z.reshape(-1, 2, 2).amax(dim=2)
        else:
            m = F.max_pool1d(z[:, None, :], 2)[:, 0, :]
        return linear(m, p["W2"])

    return train_tied(build, forward, tied_groups([("W1", 0, (0, 1)), ("b1", 0, (0, 1)), ("W1", 0, (2, 3))]),
                      3, 2, seed)


# ---- top-k routing -------------------------------------------------------------------------------------------


def topk_routing(k: int = 1, seed: int = 6) -> TieRun:
    """A mixture of 2 tied experts (each Linear(3, 4) → tanh → Linear(4, 2)) with a tied router
    Linear(3, 2): each token goes to its top-``k`` experts by router score, weighted by the softmax of
    the selected scores.  With k = 1 the equal scores are a tie that torch.topk breaks by index; the note
    says which expert won.  k = 2 (every expert, dense routing) is the counterpart."""
    torch = _torch()
    winners = set()

    def build(gen):
        e = _mlp_parts(gen, 3, 4, 2, torch)
        p = {f"{n}_{j}": v.clone() for j in (0, 1) for n, v in e.items()}
        p["router"] = torch.randn((1, 3), generator=gen, dtype=torch.float64).repeat(2, 1)
        return p

    def expert(p, j, x):
        return linear(torch.tanh(linear(x, p[f"W1_{j}"]) + p[f"b1_{j}"]), p[f"W2_{j}"]) + p[f"b2_{j}"]

    def forward(p, x, gen):
        scores = linear(x, p["router"])
        top, idx = scores.topk(k, dim=1)
        winners.update(idx[:, 0].tolist())
        w = torch.softmax(top, dim=1)
        outs = torch.stack([expert(p, 0, x), expert(p, 1, x)], dim=1)  # (B, 2, n_out)
        return (w[:, :, None] * outs.gather(1, idx[:, :, None].expand(-1, -1, 2))).sum(dim=1)

    pairs = (("W1_0", "W1_1"), ("b1_0", "b1_1"), ("W2_0", "W2_1"), ("router", None))

    def experts_defect(params):  # experts are separate tensors (compared pairwise), router rows a group
        d = max(float((params[a].detach() - params[b].detach()).abs().max()) for a, b in pairs if b)
        return max(d, defect(params, [("router", 0, (0, 1))]))

    run = train_tied(build, forward, experts_defect, 3, 2, seed)
    return TieRun(run.defect, f"top-1 expert chosen: {sorted(winners)}" if k == 1 else "")


# ---- fixed masks, dropout, stochastic rounding on a tied MLP ------------------------------------------


def _mlp_forward(mask_w=None, dropout: str | None = None):
    torch = _torch()

    def forward(p, x, gen):
        w = p["W1"] * mask_w if mask_w is not None else p["W1"]
        h = torch.tanh(linear(x, w) + p["b1"])
        if dropout == "per-unit":  # an independent mask per example and unit (torch's Dropout)
            h = torch.nn.functional.dropout(h, 0.5, training=True)
        elif dropout == "shared":  # one draw per example for the whole layer (all units kept or dropped)
            h = h * (torch.rand((x.shape[0], 1), generator=gen, dtype=torch.float64) > 0.5).double() * 2
        return linear(h, p["W2"]) + p["b2"]

    return forward


def _mlp_build(gen):
    return _mlp_parts(gen, 3, 4, 2, _torch())


def pruning_mask(per_unit: bool = True, seed: int = 7) -> TieRun:
    """A tied 3-4-2 tanh MLP whose first-layer weights are multiplied by a fixed 0/1 mask: a different
    pattern per unit (``per_unit``: unit j loses input j mod 3) or the same pattern for every unit
    (input 0 pruned for all)."""
    torch = _torch()
    mask = torch.ones((4, 3), dtype=torch.float64)
    if per_unit:
        for j in range(4):
            mask[j, j % 3] = 0.0
    else:
        mask[:, 0] = 0.0
    return train_tied(_mlp_build, _mlp_forward(mask_w=mask), tied_groups(_MLP_GROUPS), 3, 2, seed)


def dropout(kind: str = "per-unit", seed: int = 8) -> TieRun:
    """A tied 3-4-2 tanh MLP with dropout 0.5 on the hidden units: ``"per-unit"`` (torch's dropout, an
    independent mask per unit) or ``"shared"`` (one draw per example for the whole layer)."""
    torch = _torch()
    torch.manual_seed(seed)  # torch's dropout draws from the global generator
    return train_tied(_mlp_build, _mlp_forward(dropout=kind), tied_groups(_MLP_GROUPS), 3, 2, seed)


#: Grid of the stochastic rounding: 2^-10, coarser than the steps so that rounding decides.
GRID = 2.0 ** -10


def stochastic_rounding(kind: str = "per-coordinate", seed: int = 9) -> TieRun:
    """A tied 3-4-2 tanh MLP whose parameters are rounded to a grid of :data:`GRID` after every step:
    ``"per-coordinate"`` stochastic rounding (an independent uniform draw per parameter: round up with
    probability equal to the fractional part), ``"shared"`` stochastic rounding (one draw per position
    shared by the tied units: the same row of uniforms for every unit), or ``"nearest"``."""
    torch = _torch()

    def round_params(p, gen):
        for name, v in p.items():
            q = v / GRID
            if kind == "nearest":
                u = torch.full_like(q, 0.5)
            elif kind == "shared" and name in ("W1", "b1", "W2"):
                unit_dim = 1 if name == "W2" else 0
                shape = list(q.shape)
                shape[unit_dim] = 1
                u = torch.rand(shape, generator=gen, dtype=torch.float64).expand_as(q)
            else:
                u = torch.rand(q.shape, generator=gen, dtype=torch.float64)
            v.copy_(torch.floor(q + u) * GRID)

    def build(gen):  # start on the grid
        return {k: torch.round(v / GRID) * GRID for k, v in _mlp_build(gen).items()}

    return train_tied(build, _mlp_forward(), tied_groups(_MLP_GROUPS), 3, 2, seed, post_step=round_params)
