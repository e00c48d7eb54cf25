"""Clean zoo models (tests/zoo) with the expectations their library's init code states pass
``check-model --expect`` (issue 14, gap 6: no false accusation of correct library code).  Each list is
read from the installed source cited in the zoo entry's ``init``; the models cover fixed stds
(GPT-2 with its residual-scaled c_proj), torch's own fans of a depthwise conv (torchvision MobileNetV2:
``fan_out = C·k²``), packed LSTM gates under a uniform law, Keras' orthogonal ``recurrent_kernel`` over all
gates, and zero-init heads."""
from __future__ import annotations

import math

import pytest

from invariants.modelcheck import check_model
from tests.zoo.models import BY_NAME, factory
from tests.zoo.reports import group as zoo_group

TORCH_DEFAULT = "variance_scaling(scale=0.3333333333333333, mode=fan_in, distribution=uniform)"  # U(+-1/sqrt(fan_in))
HE_FAN_OUT = "variance_scaling(scale=2, mode=fan_out, distribution=normal)"  # kaiming_normal_(mode='fan_out')

EXPECT = {
    # transformers/models/gpt2/modeling_gpt2.py _init_weights: normal(0.02); c_proj 0.02/sqrt(2*n_layer) = 0.01
    "hf_gpt2": ["Conv1D=normal(std=0.02)", "*.c_proj.weight=normal(std=0.01)", "Embedding=normal(std=0.02)",
                "*.bias=zeros", "*ln_*.weight=ones"],
    # torchvision/models/mobilenetv2.py: kaiming_normal_(mode='fan_out') on torch's fans, classifier normal(0.01)
    "tv_mobilenet_v2": ["Conv2d=" + HE_FAN_OUT, "Linear=normal(std=0.01)", "classifier.*.bias=zeros"],
    # torchvision/models/vision_transformer.py: MLPBlock xavier_uniform_, zero head
    "tv_vit": ["*mlp.*.weight=xavier_uniform", "heads.head.weight=zeros", "heads.head.bias=zeros"],
    # torch/nn/modules/rnn.py: every LSTM tensor U(+-1/sqrt(hidden)); Embedding N(0, 1); Linear default
    "torch_lstm_lm": [f"lstm.*=uniform({-1 / math.sqrt(64)!r}, {1 / math.sqrt(64)!r})", "Embedding=normal(std=1)",
                      "Linear=" + TORCH_DEFAULT],
    # keras/src/layers/rnn/lstm.py: kernel glorot_uniform over the packed (in, 4*units) matrix, recurrent_kernel
    # orthogonal over all 4 gates
    "keras_lstm": ["Embedding=uniform(-0.05, 0.05)", "*recurrent_kernel=orthogonal", "*lstm_cell/kernel[packed]=glorot_uniform",
                   "Dense=glorot_uniform"],
}


# each on its zoo model's xdist group (tests/zoo/reports.py): the worker that built the model for the zoo's tests
# builds it again with the programs it already compiled (a Keras build compiles one program per kernel shape)
@pytest.mark.parametrize("name", [pytest.param(n, marks=[zoo_group(n)]) for n in sorted(EXPECT)])
def test_clean_zoo_model_meets_its_stated_expectations(name):
    z = BY_NAME[name]
    if not z.available():
        pytest.skip(f"{name} needs {', '.join(z.requires)}")
    report = check_model(factory(name)(), expect=EXPECT[name], name=name)
    assert report.ok, [str(f) for f in report.findings if f.severity == "error"]
    expected = report.coverage.expected
    assert expected and all(e["met"] for e in expected.values())
