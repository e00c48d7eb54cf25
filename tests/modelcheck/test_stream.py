"""Streamed check of meta-device models (invariants.modelcheck.stream, invariants.frameworks.torch.stream).

Each model is built twice on the ``meta`` device: once checked through the stream (one module at a time),
once materialised whole with the same per-module seeds (``materialize``) and checked in memory without a
probe; the two reports must agree.  Planted faults come from the init code, the only place a meta model
gets values: a ``reset_parameters`` that zeroes (a zeroed projection), one that reseeds torch's RNG before
drawing (the copied-layer cause ``torch.manual_seed(s)`` before each init), and for HuggingFace Llama the
same faults planted in the sub-model's ``_init_weights`` (transformers 5 ``modeling_utils.py``:
``initialize_weights``/``smart_apply`` dispatch each sub-model's own ``_init_weights``).
"""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from invariants.frameworks.model import ModelView  # noqa: E402
from invariants.frameworks.torch.model import extract_params  # noqa: E402
from invariants.frameworks.torch.stream import is_meta_model, materialize, module_seed, plan  # noqa: E402
from invariants.modelcheck import check_model  # noqa: E402
from invariants.modelcheck.check import check_view  # noqa: E402
from invariants.modelcheck.profiles import FAST  # noqa: E402
from invariants.modelcheck.stream import SIGNAL_NOT_CHECKED, check_streamed  # noqa: E402


class ZeroLinear(nn.Linear):
    """A projection whose init zeroes it (planted fault)."""

    def reset_parameters(self) -> None:
        nn.init.zeros_(self.weight)
        nn.init.zeros_(self.bias)


class SeededLinear(nn.Linear):
    """An init that reseeds torch's RNG before drawing: two of them are bit-identical (planted fault)."""

    def reset_parameters(self) -> None:
        torch.manual_seed(1234)
        super().reset_parameters()


class HalfInit(nn.Linear):
    """An init that writes only the first half of the weight rows."""

    def reset_parameters(self) -> None:
        with torch.no_grad():
            nn.init.normal_(self.weight[: self.out_features // 2], std=0.1)
        nn.init.zeros_(self.bias)


class HugeBias(nn.Linear):
    """torch's default weight, but a bias drawn N(0, 30^2): a spread no check judges (planted)."""

    def reset_parameters(self) -> None:
        super().reset_parameters()
        with torch.no_grad():
            self.bias.normal_(0.0, 30.0)


class Gain(nn.Module):
    """A parameter with no init function: on the meta device it has no defined value."""

    def __init__(self, n: int) -> None:
        super().__init__()
        self.g = nn.Parameter(torch.ones(n))

    def forward(self, x):
        return x * self.g


def mlp(hidden: type = nn.Linear, second: type = nn.Linear, extra: type | None = None,
        dtype=torch.float32) -> nn.Module:
    with torch.device("meta"):
        layers = [nn.Linear(32, 64), nn.ReLU(), hidden(64, 64), nn.ReLU(), second(64, 64), nn.ReLU(),
                  nn.Linear(64, 10)]
        if extra is not None:
            layers.insert(2, extra(64))
        return nn.Sequential(*layers).to(dtype)


def in_memory(model: nn.Module, seed: int = 0):
    """The in-memory check (no probe) of ``model`` materialised whole with the stream's seeds."""
    assert materialize(model, seed) == []
    params, nodes, _ = extract_params(model)
    return check_view(ModelView("torch", type(model).__name__, params, nodes), FAST)


def assert_same(streamed, memory, rows: bool = True) -> None:
    """Same findings (severity, kind, tensors, in order) and, with ``rows``, the same tensor table."""
    assert [(f.severity, f.kind, f.params) for f in streamed.findings] == \
        [(f.severity, f.kind, f.params) for f in memory.findings]
    if not rows:  # a constant tensor is in the streamed test budget only (stream docstring): alpha differs
        assert [t.name for t in streamed.tensors] == [t.name for t in memory.tensors]
        return
    a = [t.to_dict() for t in streamed.tensors]
    b = [t.to_dict() for t in memory.tensors]
    assert [r["name"] for r in a] == [r["name"] for r in b]
    for ra, rb in zip(a, b):
        for k, v in ra.items():
            assert v == (pytest.approx(rb[k], rel=1e-9) if isinstance(v, float) else rb[k]), (ra["name"], k)


# ------------------------------------------------------------------------------------------ plain torch


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
def test_streamed_mlp_equals_in_memory(dtype):
    streamed = check_streamed(mlp(dtype=dtype), profile=FAST, seed=3)
    memory = in_memory(mlp(dtype=dtype), 3)
    assert_same(streamed, memory)
    assert streamed.dtypes == memory.dtypes == {str(dtype).removeprefix("torch."): 8}  # the dtype read, stated
    assert not streamed.errors and streamed.status == "incomplete" and len(streamed.tensors) == 4
    cov = streamed.coverage
    assert (cov.tensors, cov.total_tensors, cov.share) == (8, 8, 1.0)
    assert cov.signal == SIGNAL_NOT_CHECKED and not cov.complete  # incomplete: no signal propagation


def test_streamed_random_bias_off_the_default_law_is_not_counted_as_analysed():
    """As in memory (modelcheck/coverage.py, bias_spread.py): a bias off torch's U(±1/√fan_in) default
    (Linear.reset_parameters) is partly analysed, never folded into the analysed share; the default passes."""
    bad = check_streamed(mlp(hidden=HugeBias), profile=FAST, seed=3)
    cov = bad.coverage
    assert [s.name for s in cov.partial] == ["2.bias"] and cov.values == cov.total_values - 64
    assert [s.name for s in cov.partial] == [s.name for s in in_memory(mlp(hidden=HugeBias), 3).coverage.partial]
    good = check_streamed(mlp(), profile=FAST, seed=3).coverage
    assert good.partial == [] and good.values == good.total_values


def test_same_seed_same_report_and_the_model_stays_on_meta():
    model = mlp()
    a, b = check_streamed(model, seed=5), check_streamed(model, seed=5)
    assert [t.to_dict() for t in a.tensors] == [t.to_dict() for t in b.tensors]
    assert [t.variance for t in check_streamed(model, seed=6).tensors] != [t.variance for t in a.tensors]
    assert all(p.is_meta for p in model.parameters()) and is_meta_model(model)
    assert module_seed(5, "0") != module_seed(5, "2") and module_seed(5, "0") == module_seed(5, "0")


def test_zeroed_projection_is_caught():
    bad = check_streamed(mlp(hidden=ZeroLinear), seed=0)
    assert "constant-tensor" in bad.kinds("error") and bad.find("constant-tensor")[0].params == ("2.weight",)
    assert_same(bad, in_memory(mlp(hidden=ZeroLinear), 0), rows=False)
    assert check_streamed(mlp(), seed=0, probe=False).ok  # known good (signal waived: healthy)


def test_copied_layer_is_caught():
    bad = check_streamed(mlp(hidden=SeededLinear, second=SeededLinear), seed=0)
    [f] = bad.find("identical-tensors")
    assert f.severity == "error" and set(f.params) >= {"2.weight", "4.weight"}
    assert_same(bad, in_memory(mlp(hidden=SeededLinear, second=SeededLinear), 0))


def test_module_without_init_is_listed_not_analysed():
    report = check_streamed(mlp(extra=Gain), seed=0)
    cov = report.coverage
    [skip] = cov.not_analysed
    assert skip.name == "2.g" and skip.n == 64 and "no init function" in skip.reason and "Gain" in skip.reason
    assert (cov.tensors, cov.total_tensors, cov.values + 64) == (8, 9, cov.total_values)
    assert all(t.name != "2.g" for t in report.tensors)


def test_values_an_init_leaves_unset_are_not_analysed():
    report = check_streamed(mlp(hidden=HalfInit), seed=0)
    [skip] = report.coverage.not_analysed
    assert skip.name == "2.weight" and "2048 of 4096 values left unset" in skip.reason
    assert all(t.name != "2.weight" for t in report.tensors) and report.coverage.tensors == 7


def test_check_model_dispatches_meta_models_and_probe_can_be_waived():
    report = check_model(mlp(), seed=0)
    assert report.coverage.signal == SIGNAL_NOT_CHECKED and "meta device" in report.probe
    packed = check_model((mlp(), torch.zeros(2, 32)), seed=0)  # an input packed with a meta model: no crash
    assert [t.to_dict() for t in packed.tensors] == [t.to_dict() for t in report.tensors]
    waived = check_streamed(mlp(), probe=False)  # the signal is still stated as not checked, but waived
    assert waived.coverage.signal == SIGNAL_NOT_CHECKED and not waived.coverage.probe_requested and waived.ok


def test_plan_reads_shapes_only():
    p = plan(mlp())
    assert p.values == 32 * 64 + 64 + 2 * (64 * 64 + 64) + 64 * 10 + 10
    assert p.largest[0] in ("2", "4") and p.bytes == 4 * p.values


# ------------------------------------------------------------------------------------------ HF Llama


@pytest.fixture(scope="module")
def llama():
    from tests.zoo._compat import available

    if not available("transformers"):
        pytest.skip("transformers is not installed")
    from transformers import LlamaConfig, LlamaForCausalLM

    cfg = LlamaConfig(hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4,
                      num_key_value_heads=2, vocab_size=128, tie_word_embeddings=True)

    def build(fault: str | None = None) -> nn.Module:
        with torch.device("meta"):
            model = LlamaForCausalLM(cfg)
        if fault is not None:
            inner, base = model.model, model.model._init_weights
            target = inner.layers[1].self_attn.o_proj

            def planted(module):  # the sub-model's _init_weights, as smart_apply dispatches it
                base(module)
                if fault == "zero" and module is target:
                    nn.init.zeros_(module.weight)
                if fault == "copy" and type(module).__name__ == "Linear" and module.weight.shape == (64, 64):
                    torch.manual_seed(7)
                    nn.init.normal_(module.weight, std=0.02)

            inner._init_weights = planted
        return model

    return build


def test_streamed_llama_equals_in_memory_and_ties_are_read_once(llama):
    model = llama()
    streamed = check_streamed(model, seed=0)
    assert_same(streamed, in_memory(llama(), 0))
    assert not streamed.errors and streamed.coverage.share == 1.0 and not streamed.coverage.not_analysed
    assert streamed.coverage.tied == {"model.embed_tokens.weight": ["lm_head.weight"]}
    names = [t.name for t in streamed.tensors]
    assert "model.embed_tokens.weight" in names and "lm_head.weight" not in names
    assert "lm_head.weight = model.embed_tokens.weight" in streamed.probe
    assert model.lm_head.weight is model.model.embed_tokens.weight  # ties restored, still on meta
    assert all(p.is_meta for p in model.parameters())
    # HF's Llama init: N(0, initializer_range^2) on every projection and the embedding
    assert all(any("std=0.02" in m for m in t.matches) for t in streamed.tensors)


@pytest.mark.parametrize("fault, kind, where", [
    ("zero", "constant-tensor", "model.layers.1.self_attn.o_proj.weight"),
    ("copy", "identical-tensors", "model.layers.1.self_attn.q_proj.weight"),
])
def test_planted_llama_faults_are_caught(llama, fault, kind, where):
    report = check_streamed(llama(fault), seed=0)
    assert kind in report.kinds("error")
    assert any(where in f.params for f in report.find(kind))


class ClampLinear(nn.Linear):
    """torch's default init, then 1% of the weight's entries written over with ±8σ (planted fault)."""

    def reset_parameters(self) -> None:
        super().reset_parameters()
        if self.weight.is_meta:  # the constructor's call on the meta device: nothing to write
            return
        with torch.no_grad():
            flat = self.weight.view(-1)
            idx = torch.randperm(flat.numel())[: flat.numel() // 100]
            flat[idx] = torch.where(torch.rand(idx.numel()) < 0.5, -8.0, 8.0) * float(flat.std())


def wide(middle: type = nn.Linear) -> nn.Module:
    with torch.device("meta"):
        return nn.Sequential(nn.Linear(256, 256), nn.ReLU(), middle(256, 256), nn.ReLU(), nn.Linear(256, 256),
                             nn.ReLU(), nn.Linear(256, 10))


def test_streamed_check_runs_the_whole_model_value_tests():
    """Extreme values are found in a streamed model as in memory (known bad), not in the clean one (known good)."""
    bad = check_streamed(wide(ClampLinear), seed=0, probe=False)
    assert [f.params for f in bad.find("extreme-values")] == [("2.weight",)], str(bad)
    assert not check_streamed(wide(), seed=0, probe=False).errors
