"""The scaling runners' conformance (invariants.frameworks.runner): the same MLP (tests/scaling/mlps.py, the twin
of invariants.scaling.examples) in SP and μP gets the verdicts theory predicts for every role on Flax linen and
Keras 3, as torch's does (tests/scaling/test_engine.py); the planted fault is caught with its slope; the cost is
estimated from shapes only; the runners are found through the framework registry; plain JAX is refused.

Widths 64..512 (the hidden sizes; 24 seeds for SP/μP; 64..256 and 8 seeds for the fault); α is 1e-6 per fit, so
no test flakes.  The time is JAX's compilation, once per model structure and width (a run is ~20 ms after it).
"""
from __future__ import annotations

import pytest

from invariants.frameworks.errors import BadModel
from invariants.frameworks.registry import frameworks, lookup
from invariants.scaling import GROWING, THETA1, VANISHING, scale_check
from invariants.scaling.target import builder
from tests.scaling import mlps

WIDTHS = [64, 128, 256, 512]
#: one worker runs this file: the module fixtures and the runners' compiled steps are shared by its tests
pytestmark = pytest.mark.xdist_group("scaling-runners")
#: per framework: (the package to skip without, the hidden layers' names, the output layer's name, the input
#: layer's name, the rows checked: 15 for each (gain, preact, update, output, output-change) + 3 act rows on
#: Keras, whose ReLU is a layer (linen's nn.relu is a function: no row, as torch's F.relu))
LAYERS = {"flax": ("flax", ["dense1", "dense2"], "dense3", "dense0", 15),
          "keras": ("keras", ["2", "4"], "6", "0", 18)}


@pytest.fixture(scope="module", params=sorted(LAYERS))
def fw(request):
    from invariants.frameworks.keras import choose_backend

    choose_backend()  # before Keras is imported: JAX, its one backend installed here
    pytest.importorskip(LAYERS[request.param][0])
    return request.param


@pytest.fixture(scope="module")
def reports(fw):
    def run(kind, **kw):
        return scale_check(getattr(mlps, f"{fw}_{kind}"), WIDTHS, **kw)

    return {"sp": run("sp", steps=[0, 1], seeds=24, optimizer="adam", expect="sp"),
            "mup": run("mup", steps=[0, 1], seeds=24, optimizer="adam", expect="mup"),
            "planted": scale_check(getattr(mlps, f"{fw}_planted"), WIDTHS[:3], steps=[0], seeds=8)}


def rows(report, kind, step):
    return {r.name: r for r in report.rows if r.kind == kind and r.step == step}


def test_sp_and_mup_get_the_verdicts_theory_predicts_for_every_role(fw, reports):
    _, hidden, out, first, n_checked = LAYERS[fw]
    sp, mup = reports["sp"], reports["mup"]
    for report in (sp, mup):
        assert report.config["framework"] == fw
        checked = [r for r in report.rows if r.expectation.checked]
        assert len(checked) >= n_checked and report.config["alpha"] <= 1e-6
        assert {r.kind for r in checked} >= {"preact", "gain", "output", "update"}
        assert all(r.matches for r in checked), [(r.label, r.fit.interval_text()) for r in checked if not r.matches]
        assert report.status == "ok" and report.exit_code == 0 and not report.errors
    # SP with Adam: hidden and output updates grow like width² (second moment), the input layer's is Θ(1);
    # μP: all Θ(1); at initialization μP's logits vanish like 1/width, SP's are Θ(1)
    sp_up, mup_up = rows(sp, "update", 1), rows(mup, "update", 1)
    assert sp_up[first].fit.verdict == THETA1
    for name in hidden + [out]:
        assert sp_up[name].fit.verdict == GROWING and abs(sp_up[name].fit.slope - 2.0) < 0.4, sp_up[name].fit
        assert mup_up[name].fit.verdict == THETA1
    assert rows(sp, "output-change", 1)["output"].fit.verdict == GROWING
    assert rows(sp, "output-change", 1)["output"].expectation.checked
    assert rows(mup, "output", 0)["output"].fit.verdict == VANISHING
    assert abs(rows(mup, "gain", 0)[out].fit.slope + 1.0) < 0.2
    assert rows(sp, "output", 0)["output"].fit.verdict == THETA1


def test_a_planted_fault_is_caught_with_its_slope(fw, reports):
    _, hidden, out, _, _ = LAYERS[fw]
    report = reports["planted"]
    faulty = hidden[1]
    gain = [f for f in report.errors if f.subject == f"{faulty} gain step 0"]
    assert len(gain) == 1 and abs(gain[0].figures["slope"] - 3.0) < 0.2  # Var(W)·fan_in ∝ width³
    assert "scaled by about width^+1.5 instead of width^-0.5" in gain[0].message
    assert all(f"inherited from layer {faulty}" in f.message for f in report.errors
               if f.subject != f"{faulty} gain step 0")
    assert {f.subject.split()[0] for f in report.errors} >= {faulty, out, "output"}
    assert not any(f.subject.split()[0] in hidden[:1] for f in report.errors)
    assert report.exit_code == 1


def test_the_cost_is_estimated_from_shapes_only(fw):
    n = 100_000  # 2·10¹⁰ weights: only shapes can hold them
    runner = lookup(fw).scaling_runner()
    params, acts = runner.size(builder(getattr(mlps, f"{fw}_sp"), "mlp"), n)
    assert params == 16 * n + 2 * n * n + 64 * n
    assert acts >= 3 * n  # at least the three hidden layers' outputs per example


def test_the_runners_are_found_through_the_registry():
    found = {f.name for f in frameworks("scaling")}
    assert {"torch", "flax", "keras"} <= found and "jax" not in found
    assert lookup("jax").scaling_runner() is None


def plain_jax(width):
    jnp = pytest.importorskip("jax.numpy")
    return lambda x: jnp.tanh(x @ jnp.ones((16, width)))


def test_plain_jax_is_refused_in_one_line():
    pytest.importorskip("jax")
    with pytest.raises(BadModel, match="plain JAX functions and parameter pytrees have no layers") as err:
        scale_check(plain_jax, [8, 16])
    assert "\n" not in str(err.value)


def test_a_flax_module_without_its_input_is_refused():
    nn = pytest.importorskip("flax.linen")
    with pytest.raises(BadModel, match="a Flax module needs its example input"):
        scale_check(lambda w: nn.Dense(w), [8, 16])


def test_the_cli_runs_a_flax_factory_and_refuses_plain_jax(capsys, tmp_path):
    pytest.importorskip("flax")
    import json

    from invariants import cli, schemas

    path = tmp_path / "f.json"
    rc = cli.main(["scale-check", "tests.scaling.mlps:flax_planted", "--widths", "64,128,256", "--seeds", "8",  # as above
                   "--quiet", "--json", str(path)])
    out, _ = capsys.readouterr()
    data = json.loads(path.read_text())
    schemas.validate(data, "scale-check")
    assert rc == 1 and data["config"]["framework"] == "flax" and "dense2 gain step 0" in out, (data["status"], out)
    rc = cli.main(["scale-check", f"{__name__}:plain_jax", "--widths", "8,16"])
    _, err = capsys.readouterr()
    assert rc == 2 and "plain JAX functions and parameter pytrees have no layers" in err


def test_the_jax_optimizers_are_torchs():
    torch = pytest.importorskip("torch")
    pytest.importorskip("jax")
    import numpy as np

    from invariants.frameworks.jax.coordcheck import jitted_step, optimizer_init

    rng = np.random.default_rng(3)
    w, grads = rng.standard_normal((4, 3)), [rng.standard_normal((4, 3)) for _ in range(3)]
    for name, cls, lr in (("sgd", torch.optim.SGD, 0.1), ("adam", torch.optim.Adam, 0.01)):
        p = torch.tensor(w, dtype=torch.float32, requires_grad=True)
        opt = cls([p], lr=lr)
        params, state = [np.float32(w)], optimizer_init(name, [np.float32(w)])
        for g in grads:
            p.grad = torch.tensor(g, dtype=torch.float32)
            opt.step()
            params, state = jitted_step(name, params, [np.float32(g)], state, [lr])
        np.testing.assert_allclose(np.asarray(params[0]), p.detach().numpy(), rtol=1e-5, atol=1e-6)
    wrong = jitted_step("sgd", [np.float32(w)], [np.float32(grads[0])], None, [2 * lr])[0]  # a known-bad rate
    assert not np.allclose(np.asarray(wrong[0]), np.float32(w) - lr * np.float32(grads[0]))


def test_keras_shape_builds_leave_nothing_to_initialize():
    from invariants.frameworks.keras import choose_backend

    choose_backend()
    pytest.importorskip("keras")
    from keras.src.backend.common import global_state

    runner = lookup("keras").scaling_runner()
    before = list(global_state.get_global_attribute("uninitialized_variables") or [])
    assert runner.size(builder(mlps.keras_sp, "keras_sp"), 50_000)[0] == 16 * 50_000 + 2 * 50_000 ** 2 + 64 * 50_000
    assert list(global_state.get_global_attribute("uninitialized_variables") or []) == before


def test_the_scaling_conformance_check_rejects_a_misnamed_runner():
    pytest.importorskip("torch")
    from invariants.frameworks import conformance
    from invariants.frameworks.runner import ScalingRunner

    torch_fw = lookup("torch")
    conformance.check_scaling_runner(torch_fw)  # known good

    class Misnamed(type(torch_fw)):
        def scaling_runner(self):
            return type("Other", (ScalingRunner,), {"name": "other"})()

    with pytest.raises(AssertionError, match="its scaling runner is named 'other'"):
        conformance.check_scaling_runner(Misnamed())


def test_keras_depth_mode_meets_the_mean_field_prediction():
    from invariants.frameworks.keras import choose_backend

    choose_backend()
    pytest.importorskip("keras")
    report = scale_check(mlps.keras_depth_lecun, [2, 4, 8], mode="depth", width=64, seeds=4)
    d = report.depth_scale  # LeCun init under ReLU: the second moment halves per layer
    assert d["agrees"] is True and abs(d["predicted_slope"] + 1.0) < 0.05 and d["activation"] == "relu"
    assert abs(d["measured_slope"] + 1.0) < 0.2


def test_the_memory_estimate_refuses_before_work(fw):
    from invariants.core.cost import Limits, ResourceLimit

    with pytest.raises(ResourceLimit, match=r"limits=Limits\(max_bytes="):
        scale_check(getattr(mlps, f"{fw}_sp"), [64, 100_000], limits=Limits(max_bytes=2**20))


def test_a_framework_without_a_runner_is_named():
    eqx = pytest.importorskip("equinox")
    jax = pytest.importorskip("jax")
    with pytest.raises(BadModel, match="equinox models have no scale-check runner in this version"):
        scale_check(lambda w: eqx.nn.Linear(4, w, key=jax.random.key(0)), [8, 16])
