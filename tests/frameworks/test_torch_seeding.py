"""invariants.frameworks.torch.seeding.manual_seed: the state ``torch.manual_seed`` leaves, cheaper where torch has
no accelerator (the CPU-only build these tests run on), and ``torch.manual_seed`` itself anywhere else."""
from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from invariants.frameworks.torch import seeding  # noqa: E402


def test_the_cpu_generator_is_left_as_torch_manual_seed_leaves_it():
    for seed in (0, 7, 2**63 - 1, -5):
        torch.manual_seed(seed)
        want = (torch.get_rng_state(), torch.rand(5))
        torch.manual_seed(seed + 1)  # a different state in between: a no-op seeding would fail
        seeding.manual_seed(seed)
        got = (torch.get_rng_state(), torch.rand(5))
        assert torch.equal(want[0], got[0]) and torch.equal(want[1], got[1])


def test_a_torch_with_an_accelerator_is_seeded_by_torch_manual_seed(monkeypatch):
    calls = []
    monkeypatch.setattr(seeding, "cpu_only", lambda: False)
    monkeypatch.setattr(seeding.torch, "manual_seed", lambda s: calls.append(s))
    seeding.manual_seed(3)
    assert calls == [3]


def test_this_build_has_no_accelerator_to_seed():
    assert seeding.cpu_only() == (torch.accelerator.current_accelerator() is None)


def test_a_bad_seed_raises_torchs_error():
    with pytest.raises(ValueError):
        torch.manual_seed(2**64)
    with pytest.raises(ValueError):
        seeding.manual_seed(2**64)
