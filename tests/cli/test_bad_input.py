"""Bad-input catalogue: every malformed initializer and malformed command line gets ONE clear line.

Each case runs the real command line (``cli.main(argv)``; a few as a separate ``python -m invariants``
process) and asserts exit code 2, exactly one line on stderr that starts with ``invariants`` and
carries the words naming the problem, nothing on stdout, and no traceback.  The initializers below
are the misbehaviours the auditor must refuse *before* judging any statistics: an audit of garbage
would give a verdict about garbage.

Only the *catalogue* of a missing framework is not an error (``invariants audit keras`` without keras
is reported as skipped, exit 0, see ``test_audit_cli.py``); a ``MODULE:ATTR`` target whose
``--framework`` is missing cannot be called at all, so it is bad input (exit 2).
"""
from __future__ import annotations

import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from invariants import cli

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
ME = __name__  # this module is importable by name: its initializers are MODULE:ATTR targets

# ------------------------------------------------------------------------------ numpy initializers
# convention: f(shape, rng) -> array of shape ``shape``; the default layers are dense(300,100) -> (100, 300)


def ok(shape, rng):
    return rng.normal(0.0, math.sqrt(2.0 / shape[1]), size=shape)


def raises(shape, rng):
    raise RuntimeError("boom")


def raises_multiline(shape, rng):
    raise ValueError("first line\nsecond line\n\tthird")


def raises_memory(shape, rng):
    raise MemoryError()


def recurses(shape, rng):
    return recurses(shape, rng)


def one_argument(shape):
    return np.zeros(shape)


class NotAnInitializer:
    """A class: calling it with (shape, rng) fails."""


not_callable = 3


def returns_none(shape, rng):
    return None


def returns_str(shape, rng):
    return "weights"


def yields(shape, rng):
    yield ok(shape, rng)


def returns_scalar(shape, rng):
    return 0.1


def returns_transposed(shape, rng):
    return rng.normal(size=tuple(shape)[::-1])


def returns_1d(shape, rng):
    return rng.normal(size=(int(np.prod(shape)),))


def returns_empty(shape, rng):
    return np.zeros((0,) + tuple(shape[1:]))


def random_shape(shape, rng):
    """One draw in three has an extra row: the shape depends on the random stream."""
    rows = shape[0] + (1 if rng.integers(3) == 0 else 0)
    return rng.normal(0.0, math.sqrt(2.0 / shape[1]), size=(rows,) + tuple(shape[1:]))


def int_dtype(shape, rng):
    return rng.integers(-3, 4, size=shape)


def bool_dtype(shape, rng):
    return rng.random(shape) < 0.5


def complex_dtype(shape, rng):
    return ok(shape, rng) + 0j


def object_dtype(shape, rng):
    return ok(shape, rng).astype(object)


def one_nan(shape, rng):
    x = ok(shape, rng)
    x.flat[7] = np.nan
    return x


def one_inf(shape, rng):
    x = ok(shape, rng)
    x.flat[-1] = -np.inf
    return x


# ------------------------------------------------------------------------------ torch initializers
# convention: fn(tensor) fills a float32 tensor in place (or returns a new tensor of the same shape)


def t_nothing(t):
    """Forgets to fill the tensor (torch.empty would hand the audit arbitrary memory)."""


def t_half(t):
    t[: t.shape[0] // 2].normal_(0.0, 0.1)


def t_returns_numpy(t):
    return np.zeros(tuple(t.shape), dtype=np.float32)


def t_returns_wrong_shape(t):
    return t.new_zeros((3, 3)).normal_()


def t_resizes(t):
    t.resize_(5, 5).normal_()


def t_returns_int(t):
    return t.new_ones(tuple(t.shape)).long()


def t_fills_nan(t):
    t.fill_(float("nan"))


def t_raises(t):
    raise RuntimeError("CUDA out of memory")


# ------------------------------------------------------------------------------ the catalogue

EXPECT = ["--expect", "he_normal"]
#: audit the numpy initializer ``ok`` as he_normal on the layer that follows
ON_LAYER = ["audit", f"{ME}:ok", "--expect", "he_normal", "--layer"]

# (id, argv, words that must appear in the single stderr line)
CASES = [
    # the initializer raises
    ("raises", ["audit", f"{ME}:raises"] + EXPECT, "raises raised RuntimeError: boom"),
    ("raises-multiline", ["audit", f"{ME}:raises_multiline"] + EXPECT, "ValueError: first line second line third"),
    ("raises-memory-error", ["audit", f"{ME}:raises_memory"] + EXPECT, "raised MemoryError"),
    ("infinite-recursion", ["audit", f"{ME}:recurses"] + EXPECT, "raised RecursionError"),
    ("wrong-signature", ["audit", f"{ME}:one_argument"] + EXPECT, "raised TypeError"),
    ("class-not-initializer", ["audit", f"{ME}:NotAnInitializer"] + EXPECT, "raised TypeError"),
    ("not-callable", ["audit", f"{ME}:not_callable"] + EXPECT, "is not callable"),
    # the initializer returns something that is not an array of the shape
    ("returns-none", ["audit", f"{ME}:returns_none"] + EXPECT, "returned None, not an array of shape (100, 300)"),
    ("returns-str", ["audit", f"{ME}:returns_str"] + EXPECT, "returned a str, not an array"),
    ("returns-generator", ["audit", f"{ME}:yields"] + EXPECT, "returned a generator, not an array"),
    ("returns-scalar", ["audit", f"{ME}:returns_scalar"] + EXPECT, "returned a float, not an array"),
    ("wrong-shape", ["audit", f"{ME}:returns_transposed"] + EXPECT, "returned shape (300, 100), expected (100, 300)"),
    ("1d-shape", ["audit", f"{ME}:returns_1d"] + EXPECT, "returned shape (30000,), expected (100, 300)"),
    ("0-size-shape", ["audit", f"{ME}:returns_empty"] + EXPECT, "returned shape (0, 300), expected (100, 300)"),
    ("nondeterministic-shape", ["audit", f"{ME}:random_shape"] + EXPECT, "returned shape (101, 300), expected (100, 300)"),
    # wrong dtype, non-finite values
    ("integer-dtype", ["audit", f"{ME}:int_dtype"] + EXPECT, "returned dtype int64, expected a real floating dtype"),
    ("bool-dtype", ["audit", f"{ME}:bool_dtype"] + EXPECT, "returned dtype bool"),
    ("complex-dtype", ["audit", f"{ME}:complex_dtype"] + EXPECT, "returned dtype complex128"),
    ("object-dtype", ["audit", f"{ME}:object_dtype"] + EXPECT, "returned dtype object"),
    ("nan", ["audit", f"{ME}:one_nan"] + EXPECT, "returned 1 non-finite value(s) (NaN or inf)"),
    ("inf", ["audit", f"{ME}:one_inf"] + EXPECT, "returned 1 non-finite value(s) (NaN or inf)"),
    ("identify-bad-initializer", ["identify", f"{ME}:returns_none"], "returned None, not an array"),
    # targets and modules
    ("module-missing", ["audit", "no_such_module_b8:f"] + EXPECT, "cannot import module 'no_such_module_b8'"),
    ("module-import-error", ["audit", "b8_broken_import:f"] + EXPECT,
     "cannot import module 'b8_broken_import': ModuleNotFoundError"),
    ("module-syntax-error", ["audit", "b8_broken_syntax:f"] + EXPECT, "SyntaxError"),
    ("module-raises-on-import", ["audit", "b8_raises_on_import:f"] + EXPECT, "RuntimeError: config file missing"),
    ("attribute-missing", ["audit", f"{ME}:nope"] + EXPECT, "has no attribute 'nope'"),
    ("target-two-colons", ["audit", "a:b:c"] + EXPECT, "is not MODULE:ATTR"),
    ("target-empty-attr", ["audit", f"{ME}:"] + EXPECT, "is not MODULE:ATTR"),
    ("target-unknown", ["audit", "bogus"], "unknown target 'bogus'"),
    ("identify-not-module-attr", ["identify", "torch"], "identify needs a MODULE:ATTR target"),
    # spec text
    ("spec-unknown", ["audit", f"{ME}:ok", "--expect", "laplace"], "unknown spec"),
    ("spec-unparsable", ["audit", f"{ME}:ok", "--expect", "he_normal(oops"], "cannot parse spec"),
    ("spec-empty", ["audit", f"{ME}:ok", "--expect", ""], "cannot parse spec ''"),
    ("spec-negative-std", ["audit", f"{ME}:ok", "--expect", "normal(std=-1)"], "std must be > 0"),
    ("spec-nan-std", ["audit", f"{ME}:ok", "--expect", "normal(std=nan)"], "std must be a finite real number"),
    ("spec-inverted-bounds", ["audit", f"{ME}:ok", "--expect", "uniform(1,-1)"], "uniform needs a < b"),
    ("spec-missing", ["audit", f"{ME}:ok"], "no --expect given"),
    ("spec-on-catalogue", ["audit", "numpy", "--expect", "he_normal"], "apply to a MODULE:ATTR target"),
    # layer text
    ("layer-unknown", ["audit", f"{ME}:ok", "--expect", "he_normal", "--layer", "conv9d(1,2)"], "unknown layer"),
    ("layer-arity", ["audit", f"{ME}:ok", "--expect", "he_normal", "--layer", "dense(5)"], "2 integer arguments"),
    ("layer-negative", ["audit", f"{ME}:ok", "--expect", "he_normal", "--layer", "dense(5,-3)"],
     "out_features must be an integer >= 0"),
    ("kernel-duplicate-axis", ON_LAYER + ["kernel(shape=(512,8,64),in_axes=(0,0),out_axes=(1,2))"],
     "in_axes: axis 0 is given twice"),
    ("kernel-axis-out-of-range", ON_LAYER + ["kernel(shape=(512,8,64),in_axes=(3,),out_axes=(1,2))"],
     "in_axes: axis 3 is out of range for a 3-D kernel"),
    ("kernel-overlapping-axes", ON_LAYER + ["kernel(shape=(512,8,64),in_axes=(0,),out_axes=(0,2))"],
     "axis 0 is in both in_axes and out_axes"),
    ("kernel-no-shape", ON_LAYER + ["kernel(in_axes=(0,),out_axes=(1,))"], "missing shape="),
    ("vector-fan-based-numpy", ON_LAYER + ["vector(64)"], "he_normal is fan-based and vector(64) has no fans"),
    ("layer-0-groups", ["audit", f"{ME}:ok", "--expect", "he_normal", "--layer", "conv2d(4,4,k=3,groups=0)"],
     "groups must be an integer >= 1, got 0"),
    ("layer-not-integer", ["audit", f"{ME}:ok", "--expect", "he_normal", "--layer", "dense(1.5,5)"],
     "expected an integer, got '1.5'"),
    ("layer-bad-groups", ["audit", f"{ME}:ok", "--expect", "he_normal", "--layer", "conv2d(32,64,k=3,groups=5)"],
     "groups=5 must divide"),
    ("layer-no-kernel", ["audit", f"{ME}:ok", "--expect", "he_normal", "--layer", "conv2d(32,64)"], "missing k="),
    ("layer-empty", ["audit", f"{ME}:ok", "--expect", "he_normal", "--layer", ""], "cannot parse layer ''"),
    ("huge-fans", ["audit", f"{ME}:ok", "--expect", "he_normal", "--layer", "dense(100000,100000)"],
     "has 10,000,000,000 elements, more than the audit limit of 16,777,216"),
    ("huge-packed-layer", ["audit", f"{ME}:ok", "--expect", "he_normal", "--layer", "qkv(100000)"],
     "more than the audit limit"),
    ("astronomical-fan", ["audit", f"{ME}:ok", "--expect", "he_normal", "--layer", "dense(99999999999999999999,1)"],
     "more than the audit limit"),
    ("identify-vector", ["identify", f"{ME}:ok", "--layer", "vector(64)"],
     "identify needs layers with fans and values; vector(64) has no textbook fans"),
    ("identify-zero-size", ["identify", f"{ME}:ok", "--layer", "dense(0,4)"],
     "identify needs layers with fans and values; dense(0,4) has a zero size"),
    ("identify-huge-layer", ["identify", f"{ME}:ok", "--layer", "conv2d(4096,4096,k=3)"], "more than the audit limit"),
    # frameworks
    ("framework-unknown", ["audit", f"{ME}:ok", "--expect", "he_normal", "--framework", "caffe"],
     "unknown framework 'caffe'"),
    ("identify-framework-unknown", ["identify", f"{ME}:ok", "--framework", "caffe"], "unknown framework 'caffe'"),
    ("framework-contradicts-catalogue", ["audit", "numpy", "--framework", "torch"], "contradicts the catalogue"),
    # options
    ("rel-error-out-of-range", ["audit", f"{ME}:ok", "--expect", "he_normal", "--rel-error", "2"],
     "rel_error must lie in (0, 1)"),
    ("rel-error-nan", ["audit", f"{ME}:ok", "--expect", "he_normal", "--rel-error", "nan"], "rel_error must lie in (0, 1)"),
    ("rel-error-not-a-number", ["audit", f"{ME}:ok", "--expect", "he_normal", "--rel-error", "abc"],
     "invalid float value: 'abc'"),
    ("seed-negative", ["audit", f"{ME}:ok", "--expect", "he_normal", "--seed", "-1"], "--seed must be >= 0, got -1"),
    ("json-dir-missing", ["audit", f"{ME}:ok", "--expect", "he_normal", "--json", "/nonexistent-b8/x.json"],
     "does not exist"),
    ("json-is-a-directory", ["audit", f"{ME}:ok", "--expect", "he_normal", "--json", str(HERE)], "is a directory"),
    # argparse's own errors (one line, usage folded in)
    ("command-unknown", ["frobnicate"], "invalid choice: 'frobnicate'"),
    ("target-missing", ["audit"], "the following arguments are required: TARGET"),
    ("option-unknown", ["audit", "numpy", "--bogus"], "unrecognized arguments: --bogus"),
]

TORCH_CASES = [
    ("torch-modifies-nothing", ["audit", f"{ME}:t_nothing"], "t_nothing did not fill the tensor in place"),
    ("torch-fills-half", ["audit", f"{ME}:t_half"], "t_half left 15000 of 30000 entries of the tensor unwritten"),
    ("torch-returns-numpy", ["audit", f"{ME}:t_returns_numpy"], "returned ndarray, not a torch.Tensor"),
    ("torch-returns-other-shape", ["audit", f"{ME}:t_returns_wrong_shape"], "returned shape (3, 3), expected (100, 300)"),
    ("torch-resizes", ["audit", f"{ME}:t_resizes"], "resized the tensor to shape (5, 5)"),
    ("torch-integer-tensor", ["audit", f"{ME}:t_returns_int"], "returned dtype int64"),
    ("torch-nan", ["audit", f"{ME}:t_fills_nan"], "returned 30000 non-finite value(s)"),
    ("torch-raises", ["audit", f"{ME}:t_raises"], "t_raises raised RuntimeError: CUDA out of memory"),
    # torch refuses fans below 2 dims: a fan-based expectation on a vector cannot be audited (the cause named)
    ("torch-he-on-vector", ["audit", f"{ME}:t_half", "--layer", "vector(64)"],
     "torch computes no fans for a tensor with fewer than 2 dims "
     "(torch.nn.init._calculate_fan_in_and_fan_out raises ValueError)"),
    ("torch-identify-modifies-nothing", ["identify", f"{ME}:t_nothing"], "did not fill the tensor in place"),
]

BROKEN_MODULES = {
    "b8_broken_import": "import numpy_does_not_exist_b8\n",
    "b8_broken_syntax": "def f(:\n    pass\n",
    "b8_raises_on_import": "raise RuntimeError('config file missing')\n",
}


@pytest.fixture
def broken_modules(tmp_path, monkeypatch):
    for name, text in BROKEN_MODULES.items():
        (tmp_path / f"{name}.py").write_text(text)
    monkeypatch.syspath_prepend(str(tmp_path))
    yield tmp_path
    for name in BROKEN_MODULES:
        sys.modules.pop(name, None)


def assert_one_line(rc: int, out: str, err: str, words: str) -> None:
    assert rc == 2, (rc, out, err)
    assert "Traceback" not in err and "Traceback" not in out
    assert out == "", out
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("invariants") and "error: " in lines[0], lines[0]
    assert words in lines[0], lines[0]


def test_catalogue_has_at_least_30_bad_inputs():
    assert len(CASES) + len(TORCH_CASES) >= 30
    ids = [c[0] for c in CASES + TORCH_CASES]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("argv, words", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_one_line_exit_2(argv, words, capsys, broken_modules):
    rc = cli.main(argv)
    out, err = capsys.readouterr()
    assert_one_line(rc, out, err, words)


@pytest.mark.parametrize("argv, words", [c[1:] for c in TORCH_CASES], ids=[c[0] for c in TORCH_CASES])
def test_bad_torch_initializer_one_line_exit_2(argv, words, capsys):
    pytest.importorskip("torch")
    rc = cli.main(argv + ["--framework", "torch"] + (EXPECT if argv[0] == "audit" else []))
    out, err = capsys.readouterr()
    assert_one_line(rc, out, err, words)


@pytest.mark.parametrize("command", ["audit", "identify"])
@pytest.mark.parametrize("framework", ["keras", "torch"])
def test_missing_framework_for_a_callable_is_bad_input(framework, command, monkeypatch, capsys):
    # simulate an uninstalled framework: importlib.util.find_spec returns None for a None module entry
    monkeypatch.setitem(sys.modules, framework, None)
    argv = [command, f"{ME}:ok", "--framework", framework] + (EXPECT if command == "audit" else [])
    rc = cli.main(argv)
    out, err = capsys.readouterr()
    assert_one_line(rc, out, err, f"--framework {framework}: not available: pip install {framework}")


def test_in_place_sentinel_does_not_reject_a_correct_torch_initializer(capsys):
    torch = pytest.importorskip("torch")
    from invariants.frameworks.registry import get_framework

    sample = get_framework("torch", "initializers").wrap(torch.nn.init.kaiming_normal_, (100, 300))
    x = sample(0)
    assert x.shape == (100, 300) and np.isfinite(x).all()
    assert abs(float(np.var(x)) / (2 / 300) - 1) < 0.05


def _run(argv, tmp_path):
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(tmp_path), str(HERE), str(ROOT), env.get("PYTHONPATH", "")])
    return subprocess.run([sys.executable, "-m", "invariants"] + argv, capture_output=True, text=True, env=env,
                          cwd=tmp_path, timeout=300)


@pytest.mark.parametrize("argv, words", [
    (["audit", "test_bad_input:returns_none", "--expect", "he_normal"], "returned None, not an array"),
    (["audit", "b8_broken_import:f", "--expect", "he_normal"], "cannot import module 'b8_broken_import'"),
    (["audit", "test_bad_input:ok", "--expect", "he_normal", "--layer", "dense(100000,100000)"], "audit limit"),
    (["audit", "test_bad_input:ok", "--expect", "laplace"], "unknown spec"),
    (["audit", "numpy", "--rel-error"], "expected one argument"),
], ids=["returns-none", "module-import-error", "huge-fans", "spec-unknown", "argparse"])
def test_bad_input_in_a_real_process(argv, words, tmp_path):
    for name, text in BROKEN_MODULES.items():
        (tmp_path / f"{name}.py").write_text(text)
    proc = _run(argv, tmp_path)
    assert_one_line(proc.returncode, proc.stdout, proc.stderr, words)
