"""The width families of the scaling docs page (:mod:`invariants.studies.scale_families`): GPT-2's fixed
``normal(0.02)`` is caught as a growing gain in every hidden and output ``Linear`` (known-bad); the same decoder
with ``N(0, 1/fan_in)`` weights and the ResNet-style net under PyTorch's defaults are not flagged (known-good).
Tiny widths, fixed seeds (base seed 0): deterministic, no flake; α = 1e-6 per fit as in every scale check."""
from __future__ import annotations

import json

import pytest

pytest.importorskip("torch")

from invariants.scaling import GROWING, scale_check  # noqa: E402
from invariants.studies import scale_families as S  # noqa: E402

WIDTHS, SEEDS = (16, 32, 64), 8


def check(factory):
    return scale_check(factory, WIDTHS, steps=(0,), seeds=SEEDS, expect="sp")


def test_gpt2_fixed_std_gains_grow_with_their_cause():
    r = check(S.gpt2_family)
    growing = {x.name for x in r.rows if x.kind == "gain" and x.fit.verdict == GROWING}
    hidden = {f"h.{i}.{m}" for i in range(S.N_LAYER) for m in ("attn.c_attn", "attn.c_proj", "c_fc", "mlp_proj")}
    assert growing == hidden | {"lm_head"}
    for x in r.rows:
        if x.kind == "gain" and x.name in hidden:
            assert 0.75 < x.fit.slope < 1.25  # 0.02²·n: second-moment slope +1
    assert r.status == "findings"
    cause = [f for f in r.errors if f.subject.startswith("h.0.c_fc gain")]
    assert cause and "width-independent std such as normal(std=0.02)" in cause[0].message


@pytest.mark.parametrize("factory", [S.gpt2_fan_in_family, S.resnet_family])
def test_fan_in_families_are_not_flagged(factory):
    r = check(factory)
    assert not r.errors, [str(f) for f in r.errors]
    assert not [x.label for x in r.rows if x.fit.verdict == GROWING]


def test_factories_reject_bad_widths_and_give_width_independent_inputs():
    import torch

    with pytest.raises(ValueError, match="multiple of"):
        S.gpt2(24)
    with pytest.raises(ValueError, match="init"):
        S.gpt2(32, "xavier")
    with pytest.raises(ValueError, match="width"):
        S.resnet_family(0)
    torch.manual_seed(3)
    _, a = S.gpt2_family(32)
    torch.manual_seed(3)
    model, b = S.gpt2_family(64)
    assert torch.equal(a, b)
    assert model.lm_head.weight is model.wte.weight  # tied as in GPT-2
    assert S.gpt2_fan_in_family(32)[0].lm_head.weight is not S.gpt2_fan_in_family(32)[0].wte.weight


def test_run_stores_json_with_the_importable_target():
    from invariants.scaling.study import run

    data = run(widths=(16, 32), seeds=3, families=S.FAMILIES[2:])
    fam = data["families"]["resnet"]
    assert fam["target"] == "invariants.studies.scale_families:resnet_family"
    assert "seconds" not in fam["result"] and fam["result"]["rows"]
    json.dumps(data, allow_nan=False)
