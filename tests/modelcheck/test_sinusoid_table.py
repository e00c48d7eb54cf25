"""A fixed sinusoidal position table is named as such, not variance-tested as a random embedding only (a new
user's trial: Whisper's ``encoder.embed_positions`` "matches none of the named schemes").

Source: ``transformers`` ``modeling_whisper.py``: ``sinusoids(length, channels)`` (``[sin, cos]`` of
``p·exp(-log(10000)/(channels/2 - 1)·i)``) copied by ``WhisperPreTrainedModel._init_weights`` into
``encoder.embed_positions.weight``, frozen.  Known-good: that table (and the interleaved variant of Vaswani
et al. 2017, Sec. 3.5) is recognised; known-bad: a random table, linear ramps, and the sinusoid table with
1% noise are not."""
from __future__ import annotations

import math

import numpy as np
import pytest

from invariants.modelcheck.tables import sinusoid_table


def whisper_sinusoids(length: int, channels: int, max_timescale: float = 10000) -> np.ndarray:
    """``modeling_whisper.sinusoids`` in numpy float32."""
    inc = math.log(max_timescale) / (channels // 2 - 1)
    inv = np.exp(-inc * np.arange(channels // 2))
    t = np.arange(length)[:, None] * inv[None]
    return np.concatenate([np.sin(t), np.cos(t)], axis=1).astype(np.float32)


def interleaved(length: int, d: int) -> np.ndarray:
    pos, i = np.arange(length)[:, None], np.arange(0, d, 2)[None]
    out = np.zeros((length, d), np.float32)
    out[:, 0::2], out[:, 1::2] = np.sin(pos / 10000 ** (i / d)), np.cos(pos / 10000 ** (i / d))
    return out


def test_sinusoid_tables_are_recognised():
    assert sinusoid_table(whisper_sinusoids(32, 64)) and sinusoid_table(whisper_sinusoids(1500, 384))
    assert sinusoid_table(interleaved(64, 32))


def test_draws_and_ramps_are_not():
    rng = np.random.default_rng(0)
    assert not sinusoid_table(rng.standard_normal((32, 64)).astype(np.float32))
    assert not sinusoid_table(np.outer(np.arange(32), np.ones(64)).astype(np.float32))  # linear: c = 2 everywhere
    noisy = whisper_sinusoids(32, 64) + 0.01 * rng.standard_normal((32, 64)).astype(np.float32)
    assert not sinusoid_table(noisy)


def test_the_variance_note_says_what_the_table_is():
    torch = pytest.importorskip("torch")
    from torch import nn

    from invariants.modelcheck import check_model

    class Enc(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed_positions, self.proj = nn.Embedding(32, 64), nn.Linear(64, 64)
            with torch.no_grad():
                self.embed_positions.weight.copy_(torch.from_numpy(whisper_sinusoids(32, 64)))
            self.embed_positions.requires_grad_(False)

        def forward(self, x):
            return self.proj(x + self.embed_positions(torch.arange(32)))

    torch.manual_seed(0)
    rep = check_model(Enc(), probe=False)
    notes = [f for f in rep.findings if f.kind == "variance" and f.params == ("embed_positions.weight",)]
    assert len(notes) == 1 and "fixed sinusoidal position table" in notes[0].message and not rep.errors
    # known-bad: a random table of the same scale gets the plain note
    m = Enc()
    with torch.no_grad():
        m.embed_positions.weight.normal_(0, 0.57, generator=torch.Generator().manual_seed(2))
    rep = check_model(m, probe=False)
    assert all("sinusoidal" not in f.message for f in rep.findings)


def test_a_recognised_table_is_not_read_against_the_schemes(monkeypatch):
    """The note of a recognised table says what it is; the scale against every base scheme
    (variance.far_above_every_scheme), which that note replaces, is not computed for it (it was, then dropped).
    A random table of the same shape is still read against the schemes."""
    torch = pytest.importorskip("torch")
    from torch import nn

    import invariants.modelcheck.variance as V
    from invariants.modelcheck import check_model

    seen: list[str] = []
    real = V.far_above_every_scheme

    def counted(u, view):
        seen.append(u.label)
        return real(u, view)

    monkeypatch.setattr(V, "far_above_every_scheme", counted)
    table = nn.Embedding(32, 64)
    with torch.no_grad():
        table.weight.copy_(torch.from_numpy(whisper_sinusoids(32, 64)))
    rep = check_model(nn.Sequential(table), probe=False)
    assert any("fixed sinusoidal position table" in f.message for f in rep.findings) and "0.weight" not in seen
    with torch.no_grad():
        table.weight.normal_(0, 0.57, generator=torch.Generator().manual_seed(2))
    rep = check_model(nn.Sequential(table), probe=False)
    assert not any("sinusoidal" in f.message for f in rep.findings) and "0.weight" in seen
