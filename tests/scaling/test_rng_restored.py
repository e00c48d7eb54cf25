"""scale-check leaves the caller's global RNGs as it found them (standard: nothing we do alters the user's state).

The torch runner seeds torch before every factory call (:meth:`TorchRunner.seed`,
:func:`invariants.frameworks.torch.seeding.seed_generators`) and a factory may draw from numpy's and Python's
global RNGs; :func:`invariants.scaling.engine.scale_check` restores every one of them
(:func:`invariants.frameworks.probe_seeding.run_seeded`).  The CUDA path is tested with a monkeypatched
``torch.cuda`` (one fake initialised device): unrun on a real GPU.
"""
from __future__ import annotations

import random

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from invariants.frameworks.probe_seeding import run_seeded  # noqa: E402
from invariants.frameworks.torch import seeding  # noqa: E402
from invariants.scaling import scale_check  # noqa: E402

inside: dict[str, object] = {}


def mlp(width: int):
    """A small MLP whose factory also draws from numpy's and Python's global RNGs (as user code may)."""
    inside["torch"] = torch.get_rng_state().clone()
    np.random.rand()
    random.random()
    return torch.nn.Sequential(torch.nn.Linear(8, width), torch.nn.ReLU(), torch.nn.Linear(width, 1))


def states():
    np_state = np.random.get_state()
    return torch.get_rng_state().clone(), (np_state[0], np_state[1].tobytes(), *np_state[2:]), random.getstate()


def test_scale_check_restores_the_torch_numpy_and_python_rngs():
    torch.manual_seed(1234)
    np.random.seed(99)
    random.seed(7)
    for _ in range(3):  # the caller's streams somewhere past their seeds
        torch.rand(1), np.random.rand(), random.random()
    before = states()
    scale_check(mlp, [8, 16], seeds=2, steps=[0], batch=8)
    after = states()
    # known-bad: inside the run the runner did reseed torch (the state the factory saw is not the caller's)
    assert not torch.equal(inside["torch"], before[0])
    assert torch.equal(after[0], before[0])
    assert after[1] == before[1]
    assert after[2] == before[2]


def test_a_seeded_run_without_the_restore_moves_the_rngs():
    """The oracle can fail: the runner's seeding alone (no :func:`run_seeded`) leaves torch's state moved."""
    before = states()
    seeding.seed_generators(5)
    np.random.seed(5)
    moved = states()
    assert not torch.equal(moved[0], before[0]) and moved[1] != before[1]
    torch.set_rng_state(before[0])
    np.random.set_state((before[1][0], np.frombuffer(before[1][1], np.uint32), *before[1][2:]))


class FakeGenerator:
    def __init__(self, box):
        self.box = box

    def manual_seed(self, seed):
        self.box["state"] = torch.tensor([seed % 256], dtype=torch.uint8)
        return self


@pytest.fixture
def fake_cuda(monkeypatch):
    """One initialised CUDA device whose generator state is a one-byte tensor (no GPU needed)."""
    box = {"state": torch.tensor([42], dtype=torch.uint8)}
    monkeypatch.setattr(torch.cuda, "is_initialized", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    monkeypatch.setattr(torch.cuda, "get_rng_state", lambda device=0: box["state"].clone())
    monkeypatch.setattr(torch.cuda, "set_rng_state", lambda state, device=0: box.update(state=state.clone()))
    monkeypatch.setattr(torch.cuda, "default_generators", (FakeGenerator(box),), raising=False)
    return box


def test_the_cuda_generators_are_seeded_and_restored(fake_cuda):
    with run_seeded(0):
        seeding.seed_generators(3)  # what the torch runner does before each factory call
        assert int(fake_cuda["state"][0]) == 3  # known-bad inside: the CUDA generator moved
    assert int(fake_cuda["state"][0]) == 42  # known-good after: restored


def test_a_scale_check_restores_the_cuda_generator(fake_cuda):
    seen = []

    def factory(width):
        seen.append(int(fake_cuda["state"][0]))
        return mlp(width)

    scale_check(factory, [8, 16], seeds=2, steps=[0], batch=8)
    assert 0 in seen and 1 in seen  # the runs seeded the (fake) CUDA generator with their seeds
    assert int(fake_cuda["state"][0]) == 42


def test_seed_generators_queues_nothing_for_an_uninitialised_cuda(monkeypatch):
    """``torch.manual_seed`` seeds every CUDA device through ``torch.cuda.manual_seed_all``, which queues the
    seed for a CUDA not yet started (``torch/cuda/random.py``: ``_lazy_call``) and so reseeds it at the caller's
    own later start, after any restore; the runner's seeding does not go through it."""
    calls = []
    monkeypatch.setattr(torch.cuda, "is_initialized", lambda: False)
    monkeypatch.setattr(torch.cuda, "manual_seed_all", lambda seed: calls.append(seed))
    state = torch.get_rng_state().clone()
    try:
        torch.manual_seed(11)  # known-bad: what the runner called before
        assert calls == [11]
        seeding.seed_generators(12)  # known-good
        assert calls == [11]
    finally:
        torch.set_rng_state(state)
