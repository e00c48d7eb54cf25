"""check-model's probe is a function of (model, input, seed): every global RNG a forward can draw from is
seeded with the check's seed and restored afterwards (:mod:`invariants.frameworks.probe_seeding`).

Known-bad (main before the fix): a transformers Wav2Vec2Model's probe figures moved run to run in the third
significant digit, because its SpecAugment masking (``modeling_wav2vec2.py``: ``_compute_mask_indices``) draws
from numpy's global RNG in train mode; :class:`Noisy` draws from numpy's, Python's and torch's global RNGs the
same way, and without the seeding the two reports below differ and the caller's numpy and Python streams move.
"""
from __future__ import annotations

import random

import numpy as np
import pytest
import torch
from torch import nn

from invariants.modelcheck import check_model

pytestmark = pytest.mark.filterwarnings("ignore")


class Noisy(nn.Module):
    """A small MLP whose train-mode forward draws from every global RNG: a numpy mask (as SpecAugment), a
    Python-random scale, torch noise and a Dropout."""

    def __init__(self) -> None:
        super().__init__()
        self.a, self.b, self.drop = nn.Linear(16, 32), nn.Linear(32, 8), nn.Dropout(0.1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.a(x)
        if self.training:
            keep = torch.as_tensor(np.random.rand(*h.shape) > 0.2, dtype=h.dtype)  # numpy's global RNG
            h = h * keep * (1.0 + random.random()) + 0.1 * torch.rand(h.shape)  # Python's and torch's
        return self.b(self.drop(torch.relu(h)))


def _model() -> Noisy:
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        return Noisy()


X = torch.as_tensor(np.random.default_rng(1).standard_normal((16, 16)), dtype=torch.float32)


def _report(model: nn.Module, seed: int = 0) -> dict:
    d = check_model(model, example_input=X, seed=seed, profile="fast").to_dict()
    d.pop("seconds")
    return d


def _states() -> tuple:
    name, key, pos, has_gauss, cached = np.random.get_state()
    return random.getstate(), (name, key.tobytes(), pos, has_gauss, cached), torch.get_rng_state().numpy().tobytes()


def _advance() -> None:
    """Move the caller's streams, as a user's own code between two checks does."""
    np.random.rand(7), random.random(), torch.rand(3)


def test_two_checks_of_a_model_drawing_from_every_global_rng_give_identical_reports():
    model = _model()
    first = _report(model)
    _advance()
    assert _report(model) == first
    assert _report(model, seed=1)["signal"] != first["signal"]  # the figures follow the check's seed


@pytest.fixture
def callers_streams():
    """Put the process's global RNGs mid-stream for the test and give them back afterwards."""
    saved = random.getstate(), np.random.get_state(), torch.get_rng_state()
    np.random.seed(123), random.seed(456), torch.manual_seed(789)
    _advance()
    yield
    random.setstate(saved[0]), np.random.set_state(saved[1]), torch.set_rng_state(saved[2])


def test_a_check_leaves_the_callers_global_rng_states_as_it_found_them(callers_streams):
    before = _states()
    _report(_model())
    assert _states() == before


def test_a_probe_that_fails_after_drawing_still_restores_the_callers_states():
    class Fails(Noisy):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            np.random.rand(3), random.random(), torch.rand(3)
            raise RuntimeError("broken forward")

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        model = Fails()
    before = _states()
    report = check_model(model, example_input=X, profile="fast")
    assert "the probe pass failed" in report.probe
    assert _states() == before


def test_the_probe_line_names_what_was_random_in_train_mode_and_nothing_in_eval_mode():
    train = check_model(_model(), example_input=X, profile="fast").probe
    for part in ("Dropout x1 (train mode)", "draws from torch's global generator", "numpy's global RNG",
                 "Python's random", "seeded with the check's seed"):
        assert part in train, (part, train)
    assert "stochastic" not in check_model(_model().eval(), example_input=X, profile="fast").probe
