"""A stack of independent runs (invariants.reference.runs) against the one-run functions, bit for bit: losses,
gradients and optimizer steps of every run, both kernels, both dtypes, shared and per-run data, signed zeros,
NaN and products past CROSSOVER; and the mutation self-test showing the comparison can fail."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from invariants.reference import ACTIVATIONS, LOSSES, OPTIMIZERS, Architecture, kernels, make_optimizer, random_params, runs
from invariants.reference.network import loss_and_grad

seeds = st.integers(0, 2**32 - 1)


def _case(seed: int, kernel: str, dtype: str, loss: str, activation: str, sizes, n_runs: int, batch: int,
          shared: bool, specials: bool):
    rng = np.random.default_rng(seed)
    sizes = tuple(sizes[:-1]) + (max(sizes[-1], 2),) if loss == "softmax_xent" else tuple(sizes)
    arch = Architecture(sizes, activation, loss, bias=bool(seed % 3), kernel=kernel, dtype=dtype)
    singles = [{k: v.astype(dtype) for k, v in random_params(arch, rng, bias_std=0.5 if arch.bias else 0.0).items()}
               for _ in range(n_runs)]
    lead = () if shared else (n_runs,)
    x = rng.normal(size=lead + (batch, sizes[0]))
    if specials:  # signed zeros in weights and inputs, a NaN in one run's input
        for p in singles:
            p["W1"][0, 0] = -0.0
            p[f"W{arch.depth}"].flat[-1] = 0.0
        x[..., 0] = -0.0
        if not shared and n_runs > 1:
            x[-1, 0, -1] = np.nan
    t = (rng.normal(size=lead + (batch, sizes[-1])) if loss == "mse"
         else rng.integers(0, sizes[-1], size=lead + (batch,)))
    return arch, singles, x, t


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()


def _check_steps(arch, singles, x, t, optimizer: str, steps: int, shared: bool) -> None:
    stack = runs.stack(singles)
    one = [make_optimizer(optimizer, lr=0.05) for _ in singles]
    together = make_optimizer(optimizer, lr=0.05)
    with np.errstate(all="ignore"):  # NaN inputs: warnings are not what is compared
        for step in range(steps):
            losses, grads = runs.loss_and_grad_runs(arch, stack, x, t)
            for r, params in enumerate(singles):
                loss, g = loss_and_grad(arch, params, x if shared else x[r], t if shared else t[r])
                assert np.float64(loss).tobytes() == np.float64(losses[r]).tobytes(), (step, r)
                assert all(_same(g[k], grads[k][r]) for k in g), (step, r, [k for k in g if not _same(g[k], grads[k][r])])
                singles[r] = one[r].step(params, g)
            stack = runs.step(together, stack, grads)
            for r, params in enumerate(singles):
                assert all(_same(params[k], stack[k][r]) for k in params), (step, r)


@pytest.mark.usefixtures("kernel_path")
@settings(max_examples=30, deadline=None)
@given(seed=seeds, kernel=st.sampled_from(kernels.KERNELS), dtype=st.sampled_from(("float32", "float64")),
       loss=st.sampled_from(LOSSES), activation=st.sampled_from(sorted(ACTIVATIONS)),
       sizes=st.lists(st.integers(1, 7), min_size=2, max_size=4), n_runs=st.integers(1, 4),
       batch=st.integers(1, 9), shared=st.booleans(), specials=st.booleans(),
       optimizer=st.sampled_from(OPTIMIZERS))
def test_stack_is_each_run_bit_for_bit(seed, kernel, dtype, loss, activation, sizes, n_runs, batch, shared, specials,
                                       optimizer):
    arch, singles, x, t = _case(seed, kernel, dtype, loss, activation, sizes, n_runs, batch, shared, specials)
    _check_steps(arch, singles, x, t, optimizer, 3, shared)


@pytest.mark.usefixtures("kernel_path")
@pytest.mark.parametrize("kernel", kernels.KERNELS)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_stack_past_crossover_and_long_batches(kernel, dtype):
    # products past CROSSOVER (the error-free transformation, or a BLAS call past its small-matrix sizes) and
    # batches past numpy's pairwise-summation block (128): the sums that are not canonical
    for shared in (True, False):
        arch, singles, x, t = _case(7, kernel, dtype, "mse", "tanh", (40, 33, 21, 1), 3, 300, shared, False)
        _check_steps(arch, singles, x, t, "adam", 2, shared)


def test_blas_stack_matches_one_run_products_over_many_shapes():
    # what the blas path relies on: numpy.matmul of stacks (shared or per-run left operand, transposed views)
    # and sums over the batch axis equal the one-run calls, element for element
    for seed in range(300):
        rng = np.random.default_rng(seed)
        dtype = (np.float32, np.float64)[seed % 2]
        m, k, p = (int(v) for v in rng.integers(1, 300 if seed % 10 == 0 else 70, 3))
        n_runs = int(rng.integers(1, 5))
        a = rng.normal(size=(n_runs, m, k)).astype(dtype)
        w = rng.normal(size=(n_runs, p, k)).astype(dtype)
        h = rng.normal(size=(m, k)).astype(dtype)
        forward, shared = np.matmul(a, w.swapaxes(-1, -2)), np.matmul(h, w.swapaxes(-1, -2))
        grad = np.matmul(a.swapaxes(-1, -2), forward)
        sums = a.sum(axis=-2)
        for r in range(n_runs):
            assert _same(forward[r], a[r] @ w[r].T) and _same(shared[r], h @ w[r].T), seed
            assert _same(grad[r], a[r].T @ forward[r]) and _same(sums[r], a[r].sum(axis=0)), seed


def test_comparison_rejects_a_stack_summed_in_index_order(monkeypatch):
    # mutation self-test: a stack whose exact products are summed in index order (plain numpy sums, not the
    # canonical order) differs from the one-run path in the last bits, and the comparison says so
    def index_order(a, b):
        with np.errstate(invalid="ignore", over="ignore"):
            return np.add.reduce(a * b, axis=-1)

    monkeypatch.setattr(runs, "canonical_products", index_order)
    arch, singles, x, t = _case(3, "exact", "float64", "mse", "tanh", (9, 12, 7, 2), 3, 8, False, False)
    with pytest.raises(AssertionError):
        _check_steps(arch, singles, x, t, "adam", 3, False)


def test_take_keeps_the_chosen_runs_and_their_optimizer_state():
    arch, singles, x, t = _case(5, "exact", "float64", "mse", "tanh", (3, 4, 1), 3, 6, True, False)
    stack, opt = runs.stack(singles), make_optimizer("adam", lr=0.05)
    one = [make_optimizer("adam", lr=0.05) for _ in singles]
    for step in range(4):
        if step == 2:  # run 1 leaves the stack
            stack = runs.take(stack, np.array([True, False, True]))
            runs.take_optimizer(opt, np.array([True, False, True]))
            singles, one = [singles[0], singles[2]], [one[0], one[2]]
        _, grads = runs.loss_and_grad_runs(arch, stack, x, t)
        stack = runs.step(opt, stack, grads)
        singles = [o.step(p, loss_and_grad(arch, p, x, t)[1]) for o, p in zip(one, singles)]
    assert all(_same(p[k], q[k]) for p, q in zip(singles, runs.unstack(stack)) for k in p)


def test_unsupported_networks_and_clipping_are_refused():
    params = runs.stack([random_params(Architecture((2, 3, 1)), np.random.default_rng(0))])
    x, t = np.zeros((4, 2)), np.zeros((4, 1))
    with pytest.raises(ValueError, match="dropout or normalization"):
        runs.loss_and_grad_runs(Architecture((2, 3, 1), hidden_dropout=0.5), params, x, t)
    with pytest.raises(ValueError, match="inputs must have shape"):
        runs.loss_and_grad_runs(Architecture((2, 3, 1)), params, np.zeros((2, 4, 2)), t)
    with pytest.raises(ValueError, match="clipping"):
        runs.step(make_optimizer("sgd", clip_norm=1.0), params, params)
    with pytest.raises(ValueError, match="at least one run"):
        runs.stack([])


def test_step_each_gives_each_run_its_own_optimizer():
    arch, singles, x, t = _case(11, "blas", "float32", "mse", "relu", (3, 6, 6, 1), 3, 32, False, True)
    names = ("adam", "rmsprop", "nesterov")
    stack = runs.stack(singles)
    mine, one = [make_optimizer(n, lr=0.05) for n in names], [make_optimizer(n, lr=0.05) for n in names]
    for _ in range(4):
        _, grads = runs.loss_and_grad_runs(arch, stack, x, t)
        stack = runs.step_each(mine, stack, grads)
        singles = [o.step(p, loss_and_grad(arch, p, x[r], t[r])[1]) for r, (o, p) in enumerate(zip(one, singles))]
    assert all(_same(p[k], q[k]) for p, q in zip(singles, runs.unstack(stack)) for k in p)
    with pytest.raises(ValueError, match="optimizers for a stack"):
        runs.step_each(mine[:2], stack, grads)
