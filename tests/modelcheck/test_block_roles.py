"""A role far above its own block's other roles (invariants/modelcheck/block_roles.py), the runtime multiplier
across layers of different stored scales (variance._runtime_consistent) and the lone layer far above every
scheme (variance.far_above_every_scheme): misses 1-3 and false accusation 4 of the last new-user trials.

Real models are built from tiny configs with random init (no download) and judged against their library's own
init code, cited per test.
"""
from __future__ import annotations

import math

import pytest

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402

from invariants.modelcheck import check_model  # noqa: E402
from invariants.modelcheck.block_roles import block_of  # noqa: E402
from tests.zoo._compat import available  # noqa: E402


def _errors(rep):
    return [f for f in rep.findings if f.severity == "error"]


def _scaled(model, suffix: str, factor: float):
    with torch.no_grad():
        for n, p in model.named_parameters():
            if n.endswith(suffix):
                p.mul_(factor)
    return model


def test_block_of():
    assert block_of("model.layers.3.self_attn.o_proj.weight") == ("model.layers.3", "self_attn.o_proj.weight")
    assert block_of("encoder.layers.11.mlp.fc2.weight") == ("encoder.layers.11", "mlp.fc2.weight")
    assert block_of("fc2.weight") is None and block_of("blocks.0") is None


needs_hf = pytest.mark.skipif(not available("transformers"), reason="needs transformers")


def _clip(factor: float = 1.0):
    from transformers import CLIPTextConfig, CLIPTextModel

    torch.manual_seed(0)
    cfg = CLIPTextConfig(vocab_size=99, hidden_size=32, intermediate_size=128, num_hidden_layers=12,
                         num_attention_heads=4, max_position_embeddings=16)
    m = _scaled(CLIPTextModel(cfg), "mlp.fc2.weight", factor)
    return check_model(m, example_input={"input_ids": torch.randint(0, 99, (4, 8))})


@needs_hf
def test_clip_every_fc2_at_10x_is_an_error_and_the_library_init_is_healthy():
    """transformers/models/clip/modeling_clip.py ``CLIPPreTrainedModel._init_weights``: q/k/v and fc2 at std
    d^-1/2·(2L)^-1/2, out_proj d^-1/2, fc1 (2d)^-1/2.  Known-good: that init, 12 layers, a 4x MLP (fc1 then
    matches He fan_out by coincidence, so fc2 at 10x formed a 'custom but consistent scale' and was HEALTHY).
    Known-bad: every fc2 x10: 2.08x He fan_out, above every base scheme, ~100x the depth-scaled q/k/v."""
    good = _clip()
    assert good.ok and not _errors(good), [f.message for f in _errors(good)]
    bad = _clip(10.0)
    found = [f for f in bad.findings if f.kind == "peer-scale"]
    fc2 = [f"encoder.layers.{i}.mlp.fc2.weight" for i in range(12)]
    assert sorted(f.params[0] for f in found) == sorted(fc2), [f.message for f in bad.findings]
    assert all(50 < f.figures["depth_ratio"] and f.figures["top_ratio"] > 1.5 for f in found)
    # the last block's fc2 feeds the final LayerNorm (scale-invariant by the view's reading): a note there
    assert sorted(f.params[0] for f in _errors(bad)) == sorted(fc2[:11]) and not bad.ok


def _llama(role: str | None = None, factor: float = 10.0, zero: bool = False):
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(0)
    cfg = LlamaConfig(vocab_size=128, hidden_size=64, intermediate_size=172, num_hidden_layers=2,
                      num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=32)
    m = LlamaForCausalLM(cfg)
    if role is not None:
        _scaled(m, f"{role}.weight", 0.0 if zero else factor)
    return check_model(m, example_input={"input_ids": torch.randint(0, 128, (2, 16))})


@needs_hf
@pytest.mark.parametrize("role", ["self_attn.o_proj", "mlp.down_proj"])
def test_llama_one_role_at_10x_is_an_error(role):
    """transformers PreTrainedModel._init_weights (LlamaPreTrainedModel): every Linear normal(0,
    initializer_range).  Known-bad: every o_proj (or down_proj) at 10x std, a role named alone in its block
    (no sibling class): ~100x the scale the block's six other projections share."""
    errs = _errors(_llama(role))
    assert sorted(f.params[0] for f in errs) == [f"model.layers.{i}.{role}.weight" for i in range(2)], \
        [f.message for f in errs]
    assert all(f.kind == "peer-scale" and 50 < f.figures["ratio"] < 200 for f in errs)


@needs_hf
@pytest.mark.parametrize("factor,zero", [(1.0, False), (0.1, False), (1.0, True)])
def test_llama_library_init_and_smaller_out_projections_are_healthy(factor, zero):
    """Known-good: the library init; o_proj drawn smaller than its block (0.1x, as depth-scaled GPT-2 c_proj)
    or zero (Fixup/ReZero zero residual branches): deliberate, never judged (upward only)."""
    rep = _llama(None if factor == 1.0 and not zero else "self_attn.o_proj", factor, zero)
    assert not [f for f in rep.findings if f.kind == "peer-scale"], [f.message for f in rep.findings]
    assert not _errors(rep), [f.message for f in _errors(rep)]


class _Seq2Seq(nn.Module):
    """LSTM encoder, a lone Linear bridge 256 -> 128 (tanh) to the initial state of a bidirectional LSTM decoder,
    and an output Linear(256, 50): the bridge has no sibling, no chain and no block."""

    def __init__(self, factor: float):
        super().__init__()
        self.enc = nn.LSTM(32, 256, batch_first=True)
        self.bridge = nn.Linear(256, 128)
        self.dec = nn.LSTM(32, 128, batch_first=True, bidirectional=True)
        self.out = nn.Linear(256, 50)
        with torch.no_grad():
            self.bridge.weight.mul_(factor)

    def forward(self, x):
        _, (h, _) = self.enc(x)
        h0 = torch.tanh(self.bridge(h)).repeat(2, 1, 1)
        y, _ = self.dec(x, (h0, torch.zeros_like(h0)))
        return self.out(y)


def test_lone_bridge_far_above_every_scheme_is_a_note_with_the_probe_reading():
    """Known-bad: the bridge at 100x torch's default std: a note (no peer to say it is not deliberate: random
    Fourier features draw a lone layer this far up on purpose) that states the distance and what the probe
    measured.  Known-good: torch's default: no such figure."""
    torch.manual_seed(0)
    rep = check_model(_Seq2Seq(100.0), example_input=torch.randn(8, 10, 32))
    (note,) = [f for f in rep.findings if f.params == ("bridge.weight",)]
    assert note.severity == "note" and note.figures["above_every_scheme"] > 100, note.message
    assert note.figures["effective_above_every_scheme"] > 100 and "Fourier" in note.message
    torch.manual_seed(0)
    rep = check_model(_Seq2Seq(1.0), example_input=torch.randn(8, 10, 32))
    assert not [f for f in rep.findings if "above_every_scheme" in f.figures] and rep.ok


class _Sine(nn.Module):
    def __init__(self, n_in: int, n_out: int, first: bool, omega: float) -> None:
        super().__init__()
        self.linear, self.omega = nn.Linear(n_in, n_out), omega
        b = 1 / n_in if first else math.sqrt(6 / n_in) / 30.0  # the paper's init, for omega_0 = 30
        with torch.no_grad():
            self.linear.weight.uniform_(-b, b)

    def forward(self, x):
        return torch.sin(self.omega * self.linear(x))


class _Siren(nn.Module):
    """SIREN with named layers (Sitzmann et al. 2020, Sec. 3.2): first U(±1/fan_in), hidden
    U(±sqrt(6/fan_in)/ω0), ω0 multiplied in forward; torch's default output layer."""

    def __init__(self, omega: float, width: int = 256) -> None:
        super().__init__()
        self.first = _Sine(2, width, True, omega)
        self.hidden1 = _Sine(width, width, False, omega)
        self.hidden2 = _Sine(width, width, False, omega)
        self.last = nn.Linear(width, 1)

    def forward(self, x):
        return self.last(self.hidden2(self.hidden1(self.first(x))))


def test_named_siren_is_not_accused_and_a_forgotten_omega_is():
    """Known-good: ω0 = 30 in forward: first and hidden layers' stored scales differ 79x, the effective ones
    (the probe's amplification) do not: an inconsistent-scale note, no error.  Known-bad: the same weights
    with ω0 = 1 in forward (the multiplier forgotten): the inconsistent-scale error stays."""
    torch.manual_seed(0)
    x = torch.rand(256, 2) * 2 - 1
    rep = check_model(_Siren(30.0), example_input=x)
    assert not _errors(rep), [f.message for f in _errors(rep)]
    (note,) = [f for f in rep.findings if f.kind == "inconsistent-scale"]
    assert note.severity == "note" and max(note.figures["effective_gains"]) / min(note.figures["effective_gains"]) < 10
    torch.manual_seed(0)
    rep = check_model(_Siren(1.0), example_input=x)
    assert [f for f in _errors(rep) if f.kind == "inconsistent-scale"], [f.message for f in rep.findings]


# ------------------------------------------------------------- tiny tensors: the homogeneity test's low power

def _block_units(targets: "list[float]", d: int, seed: int, exact: bool = True):
    """One block ``blocks.0`` of ``d x d`` dense roles ``a, b, c, s`` drawn normal at these second moments (x 1e-4:
    no named scheme), rescaled to them exactly unless ``exact`` is false, each with an empty match (what
    ``variance.match`` gives a tensor no scheme explains)."""
    import numpy as np
    from types import SimpleNamespace

    from invariants.layers.dense import Dense
    from invariants.modelcheck.variance import Match, Unit

    rng = np.random.default_rng(seed)
    out = []
    for role, t in zip("abcs", targets):
        x = rng.standard_normal((d, d))
        x *= math.sqrt(t * 1e-4 / (float(np.mean(x * x)) if exact else 1.0))
        name = f"blocks.0.{role}.weight"
        u = Unit(SimpleNamespace(name=name), name, x.astype("float32"), Dense(d, d), (d, d), (d, d))
        out.append((u, Match(SimpleNamespace(layer="dense"), [], None)))
    return out


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_tiny_role_within_the_bound_of_one_other_role_is_not_accused(seed):
    """invariants/modelcheck/block_roles.py ``above_every_role``.  Known-good: 4x4 roles a, b, c at second moments
    1, 1, 4 and s at 30 (7.5x c: within the 10x bound of a role of its block).  16 values each leave the
    homogeneity test no power against a 4x spread, so a, b, c passed as one rule and s, 15-21x their mean, was
    accused.  Known-bad: s at 1000x three equal 4x4 roles, and at 100x three equal 64x64 roles: still errors."""
    from invariants.modelcheck.block_roles import shared_scale_outliers

    assert shared_scale_outliers(_block_units([1, 1, 4, 30], 4, seed), 1e-5) == []
    for targets, d in (([1, 1, 1, 1000], 4), ([1, 1, 1, 100], 64)):
        (f,) = shared_scale_outliers(_block_units(targets, d, seed), 1e-5)
        assert f.params[0] == "blocks.0.s.weight" and f.severity == "error" and f.figures["above_every_role"] > 10


def test_above_every_role_holds_its_alpha_on_tiny_tensors():
    """Two 4x4 normal roles, the second at exactly the 10x bound: the bound passes 10x at most alpha of the time
    (4000 draws, limit alpha + 3 binomial s.e.).  Known-bad: the delta-method width alone (the kurtosis estimated
    from 16 values) passes about 3x alpha at alpha = 0.01, caught by the limit."""
    import numpy as np

    from invariants.modelcheck.block_roles import above_every_role
    from invariants.modelcheck.variance import second_moments

    rng = np.random.default_rng(1)
    draws, alphas = 4000, (0.05, 0.01)
    hits = dict.fromkeys(alphas, 0)
    for _ in range(draws):
        pair = [u for u, _ in _block_units([1, 10], 4, int(rng.integers(2**31)), exact=False)]
        m2, se = second_moments(pair)
        for a in alphas:
            hits[a] += above_every_role(m2, se, [16, 16], [(4, 4)] * 2, 1, [0], ["fixed"], a) > 10
    for a in alphas:
        assert hits[a] / draws <= a + 3 * math.sqrt(a * (1 - a) / draws), (a, hits[a] / draws)
