"""check-model without copies and with bounded memory (issue 17 item 3): read-only views of torch
parameters, whole-tensor checks without float64 copies, the decision shortcuts (KS, orthogonality) that
keep every verdict, and the cost estimate checked before work.  Each rule: a known-bad input it rejects
and a known-good one it accepts; the shortcuts are compared with the full computation they replace."""
from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402

from invariants import cli  # noqa: E402
from invariants.core.cost import Limits, ResourceLimit  # noqa: E402
from invariants.frameworks.torch.model import extract_params, probe_array, read_only  # noqa: E402
from invariants.modelcheck import check_model  # noqa: E402
from invariants.modelcheck.checks import may_be_orthogonal  # noqa: E402
from invariants.modelcheck.cost import (  # noqa: E402
    ACTIVATION_FACTOR,
    PER_VALUE_TEMP,
    activation_bytes,
    estimate,
    model_cost,
)
from invariants.modelcheck.extremes import extreme_test  # noqa: E402
from invariants.stats.shape import ks_passes, ks_test  # noqa: E402
from invariants.stats.structure import orthogonality_error  # noqa: E402
from tests.modelcheck.bf16_reports import same_report_as_float32  # noqa: E402


# ------------------------------------------------------------------------------------------ views


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.float16])
def test_torch_parameters_are_read_as_read_only_views_not_copies(dtype):
    lin = nn.Linear(8, 4).to(dtype)
    params, _, _ = extract_params(nn.Sequential(lin))
    w = next(p for p in params if p.name == "0.weight").value
    assert w.dtype == np.dtype(str(dtype).split(".")[1])
    assert np.shares_memory(w, lin.weight.detach().numpy())  # a view: no copy of the model
    assert not w.flags.writeable  # no check can alter the model through it
    with pytest.raises(ValueError):
        w[0, 0] = 1.0


def test_bfloat16_is_read_as_a_view_in_its_own_dtype_and_a_non_contiguous_tensor_keeps_its_values():
    """Known-good: a bfloat16 parameter (contiguous or a transposed view) is a read-only ml_dtypes view of
    the tensor's storage with the tensor's values; known-bad: writing through it raises.  The probe's
    reader widens bfloat16 to float32 (its statistics sum in numpy)."""
    ml_dtypes = pytest.importorskip("ml_dtypes")
    for t in (torch.randn(6, 5).to(torch.bfloat16), torch.randn(5, 6).to(torch.bfloat16).t()):
        a = read_only(t)
        assert a.dtype == np.dtype(ml_dtypes.bfloat16) and not a.flags.writeable
        assert np.array_equal(a.astype(np.float32), t.float().numpy())
        assert np.shares_memory(a, t.view(torch.int16).numpy())  # no copy of the model
        with pytest.raises(ValueError):
            a[0, 0] = 1.0
        p = probe_array(t)
        assert p.dtype == np.float32 and np.array_equal(p, t.float().numpy())
    nc = torch.randn(5, 6).t()  # a transposed view: strides kept, values equal
    assert np.array_equal(read_only(nc), nc.numpy()) and np.shares_memory(read_only(nc), nc.numpy())


def test_bfloat16_without_ml_dtypes_is_widened_exactly(monkeypatch):
    """An install without ml_dtypes (torch without the extra) still reads bfloat16, as a float32 copy."""
    import sys

    monkeypatch.setitem(sys.modules, "ml_dtypes", None)  # import ml_dtypes raises ImportError
    t = torch.randn(4, 3).to(torch.bfloat16)
    a = read_only(t)
    assert a.dtype == np.float32 and not a.flags.writeable and np.array_equal(a, t.float().numpy())


# ------------------------------------------------------------------------------------------ shortcuts


def test_ks_passes_decides_as_the_exact_test_in_both_directions():
    """Known-good: null samples pass as ks_test says; known-bad: a sample shifted by half a standard
    deviation fails as it says; the decisions agree on every sample, whichever bound was seen first."""
    rng = np.random.default_rng(17)
    dist = stats.norm()
    for i in range(60):
        shift = 0.5 if i % 3 == 0 else 0.0
        x = np.sort(rng.standard_normal(512) + shift)
        exact = ks_test(x, dist, 1e-6, presorted=True).passed
        assert ks_passes(x, dist, 1e-6) == exact
        assert exact == (shift == 0.0)


def test_orthogonality_screen_never_rules_out_an_orthogonal_matrix():
    """Known-good: orthogonal matrices (float32/64, both orientations, any gain) pass the screen and the
    full test; known-bad: a random matrix and one with a row scaled by 1e-3 are ruled out by the screen."""
    torch.manual_seed(0)
    for shape in ((16, 40), (40, 16), (32, 32)):
        for dtype in (torch.float32, torch.float64):
            w = torch.empty(*shape, dtype=dtype)
            nn.init.orthogonal_(w, gain=1.7)
            m = w.numpy()
            err, _, tol = orthogonality_error(m)
            assert err <= tol and may_be_orthogonal(m)
            bad = m.copy()
            bad[0] *= 1.001
            assert not may_be_orthogonal(bad) and orthogonality_error(bad)[0] > orthogonality_error(bad)[2]
    assert not may_be_orthogonal(np.random.default_rng(0).standard_normal((32, 64)))


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64, "bfloat16"])
def test_extreme_values_are_found_in_the_tensor_dtype_as_in_float64(dtype):
    """Known-bad: 3 entries stuck at a clamp far out are flagged (at their indices) in any dtype, with the
    same figures as in float64; known-good: a normal draw is not.  bfloat16 (ml_dtypes) orders its
    magnitudes by their bits (extremes.py says why): the same order statistic as float64's sort."""
    if dtype == "bfloat16":
        dtype = pytest.importorskip("ml_dtypes").bfloat16
    rng = np.random.default_rng(3)
    x = (rng.standard_normal(20000) * 0.02).astype(dtype)
    assert extreme_test(x, 1e-6) is None
    x[[5, 700, 19000]] = dtype(1.0)
    r, r64 = extreme_test(x, 1e-6), extreme_test(x.astype(np.float64), 1e-6)
    assert r is not None and list(r["indices"]) == [5, 700, 19000]
    assert {k: v for k, v in r.items() if k != "indices"} == {k: v for k, v in r64.items() if k != "indices"}


# ------------------------------------------------------------------------------------------ cost


def _mlp(dtype=torch.float32):
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 4)).to(dtype)


def test_cost_counts_values_and_copies_only_what_numpy_cannot_share():
    m = _mlp()
    n = sum(p.numel() for p in m.parameters())
    c32 = model_cost(m, 2**20)
    assert c32.values == n and c32.bytes >= PER_VALUE_TEMP * 64 * 128 and c32.seconds > 0
    c16 = model_cost(_mlp(torch.bfloat16), 2**20)  # bfloat16: read as a view too (ml_dtypes)
    assert c16.values == n and c16.bytes == c32.bytes


def test_a_model_beyond_the_limits_is_refused_before_work_and_one_within_is_checked(capsys):
    """Known-bad: a memory or time limit below the estimate raises ResourceLimit naming the keyword in the API
    and the flag on the command line (exit 2, one line, no report); known-good: the default limits check the
    same model."""
    m = _mlp()
    with pytest.raises(ResourceLimit, match=r"raise it with limits=Limits\(max_bytes=1 \* 2\*\*30\)") as info:
        check_model(m, limits=Limits(max_bytes=1024, max_seconds=None))
    assert "--max" not in str(info.value)
    with pytest.raises(ResourceLimit, match=r"raise it with limits=Limits\(max_seconds=\d+\)") as info:
        check_model(m, limits=Limits(max_bytes=None, max_seconds=1e-6))
    assert "--max" not in str(info.value)
    assert check_model(m, limits=Limits()).status in ("healthy", "unhealthy")
    code = cli.main(["check-model", "tests.coverage_models:gpt_block", "--max-memory", "1K"])
    err = capsys.readouterr().err
    assert code == 2 and "raise it with --max-memory 1G" in err and len(err.strip().splitlines()) == 1
    assert "limits=" not in err
    assert cli.main(["check-model", "tests.coverage_models:gpt_block", "--max-seconds", "-1"]) == 2  # 0: no limit, as --timeout 0
    assert "positive" in capsys.readouterr().err


def _conv():
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.Flatten(), nn.Linear(8 * 16 * 16, 10))


def test_the_estimate_counts_the_probes_activations_from_a_shape_pass():
    """The probe's layer outputs are summed from shapes (meta tensors), each leaf module's output once:
    conv (4, 8, 16, 16), ReLU and Flatten the same count, Linear (4, 10), float32.  The model is untouched
    (its parameters stay real, on the CPU).  Known-bad: before, the estimate ignored the activations, so a
    tiny-parameter conv net on large images was admitted (Keras MobileNetV2: 299 MiB estimated, 5.4 GB
    measured); known-good: without a probe nothing is added."""
    m = _conv()
    x = torch.randn(4, 3, 16, 16)
    assert activation_bytes(m, x) == 4 * (3 * 4 * 8 * 16 * 16 + 4 * 10)
    assert all(p.device.type == "cpu" for p in m.parameters())
    cost, excludes = estimate(m, 2**20, x)
    act = activation_bytes(m, x)
    assert excludes is None and cost.bytes == model_cost(m, 2**20).bytes + int(ACTIVATION_FACTOR * act)
    assert estimate(m, 2**20, x, probe=False) == (model_cost(m, 2**20), None)
    assert activation_bytes(m, None, batch=32) == 8 * activation_bytes(m, x)  # the inferred input: batch 32


def test_a_model_whose_activations_exceed_the_limit_is_refused_before_the_probe():
    """Known-bad: 64 images of 256x256 through a 3 -> 8 conv (about 0.4 GiB of outputs; 7 KiB of
    parameters) is refused under a 512 MiB limit, by ``input_shape`` as by ``--input-shape``; known-good: 4
    images of 16x16 pass under the same limit."""
    m = _conv()
    m[3] = nn.Linear(8 * 256 * 256, 10)
    with pytest.raises(ResourceLimit, match="over the memory limit 512 MiB"):
        check_model(m, input_shape=(64, 3, 256, 256), limits=Limits(max_bytes=512 * 2**20, max_seconds=None))
    assert check_model(_conv(), input_shape=(4, 3, 16, 16), limits=Limits(max_bytes=512 * 2**20)).coverage


def test_the_command_line_prints_the_estimate_before_the_work_and_not_with_quiet(capsys):
    """One line on stderr naming the estimate before any check (as scale-check does); none with --quiet."""
    assert cli.main(["check-model", "tests.coverage_models:gpt_block"]) in (0, 1, 3)
    err = capsys.readouterr().err
    assert "check-model tests.coverage_models:gpt_block: estimated " in err and "peak memory" in err
    cli.main(["check-model", "tests.coverage_models:gpt_block", "-q"])
    assert "estimated" not in capsys.readouterr().err


def test_a_bfloat16_model_gets_its_probe_pass():
    """bfloat16 activations and gradients are read as float32 (numpy has no bfloat16; before, the probe
    failed and every bfloat16 model was incomplete).  Known-good: a He-initialized ReLU MLP is healthy with
    its signal measured; known-bad: the same stack at a tenth of the He std is unhealthy with a forward
    signal error, which only the probe can find."""
    def mlp(scale: float):
        torch.manual_seed(0)
        layers = []
        for _ in range(12):
            lin = nn.Linear(64, 64, dtype=torch.bfloat16)
            nn.init.normal_(lin.weight, std=scale * (2 / 64) ** 0.5)
            nn.init.zeros_(lin.bias)
            layers += [lin, nn.ReLU()]
        return nn.Sequential(*layers, nn.Linear(64, 4, dtype=torch.bfloat16))

    good = check_model(mlp(1.0))
    assert good.status == "healthy" and good.coverage.signal is None, [f.message for f in good.findings]
    bad = check_model(mlp(0.1))
    assert bad.status == "unhealthy" and any(f.kind == "signal-forward" and f.severity == "error"
                                             for f in bad.findings), [f.message for f in bad.findings]


def _faulty(fault: str):
    """A ReLU MLP (and an LSTM LM for the packed/padding paths) with one planted fault, in float32."""
    torch.manual_seed(0)
    if fault == "lstm":
        class LM(nn.Module):
            def __init__(self):
                super().__init__()
                self.emb = nn.Embedding(100, 32, padding_idx=0)
                self.rnn = nn.LSTM(32, 48, batch_first=True)
                nn.init.orthogonal_(self.rnn.weight_hh_l0)  # orthogonal as a whole, no gate block is
                self.out = nn.Linear(48, 100)

            def forward(self, x):
                return self.out(self.rnn(self.emb(x))[0])
        return LM()
    m = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 128), nn.ReLU(), nn.Linear(128, 128),
                      nn.ReLU(), nn.Linear(128, 10))
    with torch.no_grad():
        w, b = m[2].weight, m[2].bias
        if fault == "duplicated-units":
            w[1:5], b[1:5] = w[0].clone(), b[0].clone()
        elif fault == "dead-units":
            w[3:9] = 0
        elif fault == "non-finite":
            w[0, 0] = float("nan")
        elif fault == "extreme-values":
            w[0, :3] = 1.0
        elif fault == "identical-tensors":
            m[4].weight.copy_(w)
        elif fault == "constant-tensor":
            w.fill_(0.01)
    return m


@pytest.mark.parametrize("fault", ["none", "duplicated-units", "dead-units", "non-finite", "extreme-values",
                                   "identical-tensors", "constant-tensor", "lstm"])
def test_bfloat16_read_in_its_own_dtype_reports_what_a_float32_reader_of_the_same_values_does(fault):
    """Every parameter check on a bfloat16 model (ml_dtypes views: digests, row ties, extremes, NaN, constants,
    the battery on a widened sample) gives the report, to the byte, of the float32 model holding the same
    values (the probe is off: it computes in the model's dtype).  Known-bad: each planted fault is found;
    known-good: the clean MLP has no error.  A bfloat16 row once failed to hash (numpy's buffer protocol has
    no bfloat16) and its ties were skipped in silence."""
    bf = _faulty(fault).to(torch.bfloat16)
    wide = _faulty(fault).to(torch.bfloat16).float()  # the same values, read as float32
    a = same_report_as_float32(bf, wide, fault)
    if fault == "lstm":
        assert {f.kind for f in a.findings} == {"padding-row", "packed-orthogonal"}


def test_the_report_states_the_dtype_each_tensor_was_read_in(tmp_path, capsys):
    """The text report's header and the JSON's ``dtypes`` say what the checks read: a bfloat16 model read as
    bfloat16 views, a float32 one as float32, a mixed one both with the counts (known-bad: before, no report
    said it, so a bfloat16 model widened to float32 and one read in its own dtype printed the same lines)."""
    import json

    from invariants.render import render_model

    bf, wide = _mlp(torch.bfloat16), _mlp()
    mixed = _mlp()
    mixed[2].to(torch.bfloat16)
    for model, dtypes, words in ((bf, {"bfloat16": 4}, "values read as bfloat16;"),
                                 (wide, {"float32": 4}, "values read as float32;"),
                                 (mixed, {"bfloat16": 2, "float32": 2}, "read as bfloat16 (2 tensors), float32 (2);")):
        report = check_model(model, probe=False, name="m")
        assert report.dtypes == dtypes and report.to_dict()["dtypes"] == dtypes
        assert words in " ".join(render_model(report).splitlines()[:2])
    target = tmp_path / "bfm.py"
    target.write_text("import torch\ndef m():\n    return torch.nn.Linear(8, 4).to(torch.bfloat16)\n")
    import sys

    sys.path.insert(0, str(tmp_path))
    try:
        rc = cli.main(["check-model", "bfm:m", "--no-probe", "--json", str(tmp_path / "r.json")])
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop("bfm", None)
    assert rc == 0 and "2 parameter tensors, 36 values read as bfloat16" in capsys.readouterr().out
    assert json.loads((tmp_path / "r.json").read_text())["dtypes"] == {"bfloat16": 2}


def test_a_bfloat16_tensor_is_constant_exactly_when_its_float32_values_are():
    """The bit comparison that speeds up bfloat16 keeps float semantics: +0 and -0 are one constant, NaNs
    never equal, a single entry is constant only if it is 0 (known-bad and known-good rows alike)."""
    from invariants.frameworks.model import Param

    bf = pytest.importorskip("ml_dtypes").bfloat16
    nan = float("nan")
    for v in ([1, 1, 1], [1, 1, 2], [0, -0.0, 0], [-0.0, 0.0], [nan, nan], [1, 1, nan], [0, 0, 1], [2.0], [0.0],
              [0.01] * 5, [-3, -3]):
        expected = Param("w", np.array(v, dtype=np.float32), "weight").is_constant()
        assert Param("w", np.array(v, dtype=bf), "weight").is_constant() == expected, v


def test_a_flax_bfloat16_model_is_checked_not_crashed():
    """Flax hands its bfloat16 arrays over as ml_dtypes arrays (np.asarray of a jax.Array); before, hashing
    them crashed the check ("cannot include dtype 'E' in a buffer").  Known-good: the MLP in bfloat16 is
    healthy; known-bad: the same with one kernel copied into another is an identical-tensors error."""
    jax = pytest.importorskip("jax")
    linen = pytest.importorskip("flax.linen")
    jnp = jax.numpy

    class MLP(linen.Module):
        @linen.compact
        def __call__(self, x):
            for _ in range(3):
                x = linen.relu(linen.Dense(64)(x))
            return linen.Dense(10)(x)

    x = jnp.ones((8, 32), jnp.bfloat16)
    v = jax.tree_util.tree_map(lambda a: a.astype(jnp.bfloat16), MLP().init(jax.random.PRNGKey(0), x))
    good = check_model((MLP(), v, x), probe=False)  # the parameter checks crashed; the probe is not the point
    assert good.status == "healthy", [f.message for f in good.findings]
    p = v["params"]
    copied = {"params": {**p, "Dense_2": {**p["Dense_2"], "kernel": p["Dense_1"]["kernel"]}}}
    bad = check_model((MLP(), copied, x), probe=False)
    assert bad.status == "unhealthy" and {f.kind for f in bad.errors} == {"identical-tensors"}, \
        [f.message for f in bad.findings]


def test_an_equinox_bfloat16_model_is_read_in_its_dtype_without_a_copy():
    """Equinox parameters are np.asarray views of the arrays' host buffers, bfloat16 too (before: a float32
    copy of every tensor, as torch's).  Known-good: read-only bfloat16 values equal to the array's."""
    jax = pytest.importorskip("jax")
    eqx = pytest.importorskip("equinox")
    from invariants.frameworks.equinox.model import extract_params as eqx_params

    jnp = jax.numpy
    m = eqx.nn.MLP(8, 4, 16, 2, key=jax.random.PRNGKey(0))
    m = jax.tree_util.tree_map(lambda a: a.astype(jnp.bfloat16) if eqx.is_array(a) else a, m)
    params, _, _ = eqx_params(m)
    w = next(p for p in params if p.value.ndim == 2).value
    assert w.dtype.name == "bfloat16" and not w.flags.writeable
    assert np.array_equal(w.astype(np.float32), np.asarray(m.layers[0].weight.astype(jnp.float32)))


def test_a_factory_returning_model_and_input_has_its_activations_counted():
    """``(model, x)``: torch reads the second element as the probe input, so the shape pass must too.
    Known-bad (the second new-user trial): four 64-channel convs on a (32, 3, 128, 128) input returned by
    the factory were estimated at 297 MiB (no activations, and no note saying so) and took 3.4 GB."""
    from invariants.modelcheck.cost import activation_bytes

    torch.manual_seed(0)
    m = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.Flatten(), nn.Linear(8 * 16 * 16, 4))
    x = torch.randn(5, 3, 16, 16)
    outputs = 5 * (8 * 16 * 16 * 3 + 4) * 4  # conv, ReLU, Flatten outputs and the logits, float32
    assert activation_bytes((m, x)) == activation_bytes(m, example_input=x) == outputs
