"""A torch initializer that returns bfloat16 without being asked for it (stop 26: torch widened the draw to
float32 while MLX kept bfloat16).  Both keep it now: the audit judges the law at bfloat16's precision and
states its quantization band.  Known-bad (the widened pool): a bfloat16 draw audited as float32 claimed a
~1% detectable variance error its values cannot resolve.  Known-good: a float32 initializer keeps its
float32 resolution."""
from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("ml_dtypes")

from invariants.audit import initializer  # noqa: E402


def bf16_kaiming(t):
    return torch.nn.init.kaiming_normal_(torch.empty(t.shape, dtype=torch.bfloat16))


def f32_kaiming(t):
    return torch.nn.init.kaiming_normal_(t)


def test_an_unrequested_bfloat16_draw_is_judged_at_bfloat16():
    (bf,) = initializer(bf16_kaiming, expect="kaiming_normal_torch", layer="dense(300,100)", framework="torch").results
    (f32,) = initializer(f32_kaiming, expect="kaiming_normal_torch", layer="dense(300,100)", framework="torch").results
    assert bf.verdict == f32.verdict == "conforms"
    assert bf.min_detectable_rel_error > 0.1 > 0.02 > f32.min_detectable_rel_error
