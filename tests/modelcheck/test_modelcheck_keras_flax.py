"""Model check on Keras (JAX backend) and Flax linen models: the fault kinds that apply, healthy models, the
unit layout checked against the frameworks themselves, and probe hygiene.  Skipped without the frameworks."""
from __future__ import annotations

import functools
import os

import numpy as np
import pytest

import modelcheck_models as M
from invariants.modelcheck import check_model
from invariants.modelcheck.cost import SECONDS_PER_COMPILED_LAYER, estimate, shape_pass
from invariants.render import render_model


@functools.lru_cache(maxsize=None)
def _report(factory: str):
    """check-model's report on ``modelcheck_models.<factory>()``, once per process: the fault-kind test and the
    figure tests below read the same report of the same model (the tests only read it; each module's tests
    share one xdist group through its module fixtures)."""
    return check_model(getattr(M, factory)(), name=factory)


def assert_fault_kinds(framework: str, factory: str, errors: set[str], notes: set[str]) -> None:
    """The model ``modelcheck_models.<factory>()`` is seen as ``framework`` and gives exactly these kinds."""
    report = _report(factory)
    assert report.framework == framework
    assert report.kinds("error") == errors, render_model(report)
    assert report.kinds("note") == notes, render_model(report)


# ------------------------------------------------------------------------------------------ keras

KERAS_CASES = [
    ("keras_healthy", set(), set()),
    ("keras_reused_seed", {"identical-tensors"}, set()),
    ("keras_zero_embedding", {"constant-tensor", "signal-forward"}, set()),
    ("keras_lstm", set(), {"packed-orthogonal"}),
    ("keras_squared_std", {"inconsistent-scale", "signal-forward", "signal-backward"}, set()),
    ("keras_glorot3", set(), set()),
    ("keras_glorot3_10x", {"peer-scale"}, {"signal-backward"}),
]


@pytest.fixture(scope="module")
def keras():
    os.environ.setdefault("KERAS_BACKEND", "jax")
    pytest.importorskip("jax")
    k = pytest.importorskip("keras")
    if k.backend.backend() != "jax":
        pytest.skip(f"the keras probe needs the jax backend, not {k.backend.backend()}")
    return k


@pytest.mark.parametrize("factory, errors, notes", KERAS_CASES, ids=[c[0] for c in KERAS_CASES])
def test_keras_fault_kinds(keras, factory, errors, notes):
    assert_fault_kinds("keras", factory, errors, notes)


def test_keras_auto_names_are_siblings_and_square_glorot_names_lecun_too(keras):
    """Keras names its first Dense ``dense`` and the next ``dense_1``, ``dense_2``: all three are one sibling
    class, so a 10x layer among them is judged against both others (as torch's ``0``, ``2``, ``4``); the
    square layer's match names both conventions that coincide there (trial items 4)."""
    (f,) = _report("keras_glorot3_10x").find("peer-scale")
    assert f.params[0] == "seq/dense_1/kernel" and "has E[w^2]" in f.message and "its 2 siblings" in f.message
    rows = {r.name: r.matches for r in _report("keras_glorot3").tensors}
    assert rows["seq/dense_1/kernel"] == ["lecun_uniform/glorot_uniform"]
    assert rows["seq/dense/kernel"] == ["glorot_uniform"]


def test_keras_figures_and_probe_hygiene(keras):
    m = M.keras_reused_seed()
    report = check_model(m)
    (f,) = report.find("identical-tensors")
    assert all(n.endswith("/kernel") for n in f.params) and len(f.params) == 2
    assert all("call" not in l.__dict__ for l in m.layers)  # the probe's wrappers are gone
    assert [l.activation.__name__ for l in m.layers] == ["relu", "relu", "relu", "linear"]
    (f,) = _report("keras_squared_std").find("inconsistent-scale")
    assert f.figures["fan_in_exponent"] > 1.7


@pytest.mark.parametrize("factory", ["keras_healthy", "keras_lstm"])  # op by op; jitted (recurrent)
def test_keras_probe_sizes_its_pass_from_the_graph_and_checks_it(keras, factory, monkeypatch):
    """The probe sizes ``eps`` and ``r`` from the symbolic graph (``graph_shapes``) instead of tracing the model
    for its shapes first, and gets the very probe the traced shapes give; shapes that do not fit (known-bad: one
    node's ``z`` a row short, a node left out, or the last node's ``z`` and the output with an extra axis, which
    ``z + eps`` would broadcast to) are caught and the pass runs again from a trace, with the same probe."""
    import jax

    import invariants.frameworks.keras.model as km

    model = getattr(M, factory)()
    traces = []
    real_eval_shape, real_graph_shapes = jax.eval_shape, km.graph_shapes
    monkeypatch.setattr(jax, "eval_shape", lambda *a, **k: traces.append(1) or real_eval_shape(*a, **k))

    def probe_with(graph_shapes):
        monkeypatch.setattr(km, "graph_shapes", graph_shapes)
        traces.clear()
        pr = km.view(model, factory).probe
        return [(s.z.tobytes(), s.delta.tobytes(), s.input_moment, s.input_grad_moment) for s in pr.signals], \
            len(traces)

    def short_row(*args):
        out, zs, xs = real_graph_shapes(*args)
        name, z = next(iter(zs.items()))
        return out, {**zs, name: jax.ShapeDtypeStruct((z.shape[0] - 1,) + z.shape[1:], z.dtype)}, xs

    def one_left_out(*args):
        out, zs, xs = real_graph_shapes(*args)
        return out, dict(list(zs.items())[1:]), xs

    def broadcast_last(*args):
        (out,), zs, xs = real_graph_shapes(*args)
        name, z = list(zs.items())[-1]
        return [jax.ShapeDtypeStruct((1,) + out.shape, out.dtype)], \
            {**zs, name: jax.ShapeDtypeStruct((1,) + z.shape, z.dtype)}, xs

    traced, n_traced = probe_with(lambda *args: None)
    assert n_traced == 1 and traced
    assert real_graph_shapes(model, km.extract_params(model)[2], np.zeros((32, *model.inputs[0].shape[1:]),
                                                                          "float32")) is not None
    assert probe_with(real_graph_shapes) == (traced, 0)
    assert probe_with(short_row) == (traced, 1)
    assert probe_with(one_left_out) == (traced, 1)
    assert probe_with(broadcast_last) == (traced, 1)


@pytest.mark.parametrize("make", ["DepthwiseConv2D", "Conv2DTranspose"])  # the layouts Keras alone uses
def test_keras_output_units_match_keras_semantics(keras, make):
    L = keras.layers
    layer = {"DepthwiseConv2D": lambda: L.DepthwiseConv2D(3, depth_multiplier=2, use_bias=False),
             "Conv2DTranspose": lambda: L.Conv2DTranspose(5, 3, use_bias=False)}[make]()
    model = keras.Sequential([keras.Input((7, 7, 4)), layer])
    from invariants.frameworks.keras.model import extract_params

    (node,) = extract_params(model)[1]
    shape = tuple(layer.kernel.shape)
    rows = node.layer.unit_rows(layout="keras", w=np.arange(int(np.prod(shape))).reshape(shape))
    x = np.random.default_rng(0).normal(size=(2, 7, 7, 4)).astype("float32")
    for j in range(node.n_units):
        w = np.zeros(int(np.prod(shape)), dtype="float32")
        w[rows[j]] = 1.0
        layer.kernel.assign(w.reshape(shape))
        y = np.asarray(model(x))
        assert (np.abs(y).reshape(-1, node.n_units).sum(0) > 0).nonzero()[0].tolist() == [j]


# ------------------------------------------------------------------------------------------ flax

FLAX_CASES = [
    ("flax_healthy", set(), set()),
    ("flax_reused_key", {"identical-tensors"}, set()),
    ("flax_zero_middle", {"constant-tensor", "signal-forward"}, set()),
    ("flax_dirac_grouped", {"dead-units"}, set()),
]


@pytest.fixture(scope="module")
def flax():
    pytest.importorskip("jax")
    return pytest.importorskip("flax")


@pytest.mark.parametrize("factory, errors, notes", FLAX_CASES, ids=[c[0] for c in FLAX_CASES])
def test_flax_fault_kinds(flax, factory, errors, notes):
    assert_fault_kinds("flax", factory, errors, notes)


def test_flax_grouped_conv_semantics_and_dead_channels(flax):
    import flax.linen as nn
    import jax
    import jax.numpy as jnp

    report = _report("flax_dirac_grouped")
    (f,) = report.find("dead-units")
    assert f.params == ("params/Conv_1/kernel",) and f.figures["dead"] == 12
    assert any(r.layer == "conv2d(16,16,k=3,groups=4)" for r in report.tensors)

    conv = nn.Conv(6, (3, 3), feature_group_count=2, use_bias=False)
    x = jnp.asarray(np.random.default_rng(0).normal(size=(2, 7, 7, 4)), jnp.float32)
    variables = conv.init(jax.random.key(0), x)
    from invariants.frameworks.flax.model import extract_params

    (node,) = extract_params(variables, {"params": conv})[1]  # a bare Conv: its params sit at the root
    assert node.layer.describe() == "conv2d(4,6,k=3,groups=2)"
    shape = tuple(variables["params"]["kernel"].shape)
    rows = node.layer.unit_rows(layout="jax", w=np.arange(int(np.prod(shape))).reshape(shape))
    for j in range(6):
        w = np.zeros(int(np.prod(shape)), dtype="float32")
        w[rows[j]] = 1.0
        y = np.asarray(conv.apply({"params": {"kernel": jnp.asarray(w.reshape(shape))}}, x))
        assert (np.abs(y).reshape(-1, 6).sum(0) > 0).nonzero()[0].tolist() == [j]


def test_flax_accepts_params_only_and_dict_forms(flax):
    module, variables = M.flax_healthy()
    a = check_model((module, variables["params"]))
    b = check_model({"module": module, "variables": variables, "input": np.ones((4, 16), np.float32)})
    assert a.ok and b.ok and b.probe.startswith("4 inputs")
    from invariants.modelcheck import BadModel

    with pytest.raises(BadModel, match="needs its variables"):
        check_model(module)


# ------------------------------------------------------------------------------------------ memory estimate


@pytest.mark.parametrize("dtype", ["float32", "bfloat16"])
def test_the_memory_estimate_counts_the_copies_each_reader_makes(keras, flax, dtype):
    """check-model's estimate (:func:`invariants.modelcheck.cost.tensor_sizes`) counts what the readers do:
    Flax's ``np.asarray`` shares each array's memory in its own dtype (bfloat16 too: no copy counted), and so
    does the Keras reader on the JAX backend (``np.asarray(v.value)``).  Known-bad: the estimate counted a
    4-byte float32 copy of every bfloat16 Flax/Keras array; the Keras reader copied every weight
    (``convert_to_numpy``), so a 1 GiB model needed 1.5 GiB beyond itself."""
    import flax.linen as nn
    import jax
    import jax.numpy as jnp

    from invariants.frameworks.flax.model import extract_params as flax_params
    from invariants.frameworks.keras.model import extract_params as keras_params
    from invariants.modelcheck.cost import tensor_sizes

    dt = getattr(jnp, dtype)
    module = nn.Dense(8, dtype=dt, param_dtype=dt)
    variables = module.init(jax.random.key(0), jnp.zeros((1, 6), dt))
    leaves = jax.tree_util.tree_leaves(variables)
    assert [c for _, c, _ in tensor_sizes((module, variables))] == [0, 0]
    params, _ = flax_params(variables)
    for p in params:
        assert p.value.dtype.name == dtype
        assert any(np.shares_memory(p.value, np.asarray(leaf)) for leaf in leaves)  # a view: nothing copied
    model = keras.Sequential([keras.Input((6,)), keras.layers.Dense(8, dtype=dtype)])
    assert keras.backend.backend() == "jax"
    assert [c for _, c, _ in tensor_sizes(model)] == [0, 0]
    for p in keras_params(model)[0]:
        assert p.value.dtype.name == dtype
        v = next(w for w in model.weights if tuple(w.shape) == p.value.shape)
        assert np.shares_memory(p.value, np.asarray(v.value))  # a view: nothing copied


def test_the_estimate_counts_keras_layer_outputs_and_says_when_it_leaves_them_out(keras, flax):
    """Keras: every layer's symbolic output per sample x the batch x 4 bytes (the input layer's (16, 16, 3),
    conv (16, 16, 8), flatten 2048, dense 10), scaled by the example input's size (a 32x32 image: 4x the maps; the dense layer's 10 too, an
    overestimate); known-bad: before, the probe's activations were not counted at all (MobileNetV2 ran to
    5.4 GB under a 4 GiB limit).  Flax: the module's output (4, 8) from shapes when the input is given, and
    on the probe's inferred input (32, 6) otherwise."""
    import flax.linen as nn
    import jax
    import jax.numpy as jnp

    from invariants.modelcheck.cost import activation_bytes, estimate

    model = keras.Sequential([keras.Input((16, 16, 3)), keras.layers.Conv2D(8, 3, padding="same"),
                              keras.layers.Flatten(), keras.layers.Dense(10)])
    per_sample = 4 * (16 * 16 * 3 + 16 * 16 * 8 * 2 + 10)
    assert activation_bytes(model, None, batch=32) == 32 * per_sample
    assert activation_bytes(model, np.zeros((4, 32, 32, 3), np.float32)) == 4 * 4 * per_sample
    module = nn.Dense(8)
    variables = module.init(jax.random.key(0), jnp.zeros((1, 6)))
    # an inferred input: the probe's own, (32, 6) for a Dense(8) on 6 features (it said "excludes" before)
    assert activation_bytes((module, variables), batch=32) == 32 * 8 * 4
    assert estimate((module, variables), 2**20)[1] is None
    x = np.zeros((4, 6), np.float32)  # a given input: jax.eval_shape of the captured intermediates
    assert activation_bytes((module, variables), x) == 4 * 8 * 4 and estimate((module, variables), 2**20, x)[1] is None


def test_the_estimate_counts_the_values_the_keras_reader_reads(keras):
    """The estimate's value count is the report's: the Keras reader takes ``trainable_weights`` only, so a
    BatchNormalization's moving mean and variance are not counted.  Known-bad: counting ``model.weights``
    (the trial's MobileNetV2: 3,538,984 estimated against 3,504,872 read)."""
    from invariants.frameworks.keras.model import extract_params as keras_params
    from invariants.modelcheck.cost import tensor_sizes

    model = keras.Sequential([keras.Input((6,)), keras.layers.Dense(8), keras.layers.BatchNormalization(),
                              keras.layers.Dense(3)])
    read = sum(p.value.size for p in keras_params(model)[0])
    counted = sum(n for n, _, _ in tensor_sizes(model))
    assert counted == read == 6 * 8 + 8 + 8 + 8 + 8 * 3 + 3
    assert sum(int(np.prod(w.shape)) for w in model.weights) == read + 16  # the moving statistics


# ---- the compile term of the time estimate (the Flax, Equinox and note tests: test_compile_estimate.py)


def keras_cnn(keras, depth: int):
    layers = [keras.Input((16, 16, 3))]
    layers += [keras.layers.Conv2D(8, 3, padding="same", activation="relu") for _ in range(depth)]
    return keras.Sequential(layers + [keras.layers.GlobalAveragePooling2D(), keras.layers.Dense(10)])


def test_a_conv_keras_probe_gets_the_compile_term_and_says_cold(keras):
    model = keras_cnn(keras, 3)
    x = np.zeros((4, 16, 16, 3), np.float32)
    cost, note = estimate(model, 2**20, x)
    layers = shape_pass(model, x)[1]
    assert layers == 6  # the input layer, 3 convolutions, the pooling, the dense head
    without, _ = estimate(model, 2**20, x, probe=False)
    assert cost.seconds > without.seconds + SECONDS_PER_COMPILED_LAYER * layers * 0.999
    assert "XLA compile" in note and "a cold cache" in note and f"({layers} layers," in note


def test_the_compile_term_grows_with_the_layers(keras):
    x = np.zeros((4, 16, 16, 3), np.float32)
    shallow, deep = (estimate(keras_cnn(keras, d), 2**20, x)[0].seconds for d in (2, 8))
    assert deep - shallow >= 6 * SECONDS_PER_COMPILED_LAYER * 0.999


def test_nothing_compiled_gets_no_term(keras):
    """Known-bad inputs for the term: a dense-only model (the probe runs op by op), no probe, torch."""
    dense = keras.Sequential([keras.Input((8,)), keras.layers.Dense(16), keras.layers.Dense(4)])
    assert shape_pass(dense, np.zeros((4, 8), np.float32))[1] == 0
    assert estimate(dense, 2**20, np.zeros((4, 8), np.float32))[1] is None
    assert estimate(keras_cnn(keras, 3), 2**20, np.zeros((4, 16, 16, 3), np.float32), probe=False)[1] is None
    torch = pytest.importorskip("torch")
    conv = torch.nn.Sequential(torch.nn.Conv2d(3, 8, 3), torch.nn.ReLU(), torch.nn.Conv2d(8, 8, 3))
    assert shape_pass(conv, torch.zeros(4, 3, 16, 16))[1] == 0
    assert estimate(conv, 2**20, torch.zeros(4, 3, 16, 16))[1] is None


def test_the_estimate_compiles_nothing(keras):
    """No compile to estimate a compile: XLA's backend compile never runs during the estimate (the shape pass
    reads Keras' symbolic graph); the probe itself does compile (known-good for the listener)."""
    import jax

    events, listening = [], [False]

    def listen(event: str, duration: float, **_: object) -> None:
        if listening[0] and event == "/jax/core/compile/backend_compile_duration":
            events.append(duration)

    jax.monitoring.register_event_duration_secs_listener(listen)
    model = keras_cnn(keras, 2)
    x = np.zeros((2, 16, 16, 3), np.float32)
    listening[0] = True
    try:
        estimate(model, 2**20, x)
        assert events == []
        jax.clear_caches()  # the probe's program is compiled (or read from the persistent cache) again
        check_model(model, example_input=x)
    finally:
        listening[0] = False
    assert events  # the probe's jitted pass reached XLA
