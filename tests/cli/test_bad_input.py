"""Bad-input catalogue: every malformed initializer, model, command line and API call gets ONE clear line.

Each command-line case runs the real command line (``cli.main(argv)``; a few as a separate
``python -m invariants`` process) and asserts exit code 2, exactly one line on stderr that starts with
``invariants`` and carries the words naming the problem, nothing on stdout, and no traceback.  The
initializers below are the misbehaviours the auditor must refuse *before* judging any statistics: an audit
of garbage would give a verdict about garbage.  Every command is covered (verify, audit, identify,
check-model, report, the bare program).

Each API case calls the Python API (:mod:`invariants.audit`, :func:`invariants.modelcheck.check_model`, the
``assert_*`` helpers of :mod:`invariants.testing`, ``parse_spec``, ``parse_layer``, ``AuditConfig``) and
asserts the right :class:`~invariants.core.errors.InvariantsError` subclass, a one-line message with the
words naming the problem, worded for the API (no command-line flag in it).

A framework that is not installed is bad input for every command (exit 2), the catalogue of one too
(``test_boundary.py``); only the Python API's ``catalogue`` returns a ``skipped`` result for it.
"""
from __future__ import annotations

import math
import os
import re
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


def exits(shape, rng):
    raise SystemExit(3)


def returns_list(shape, rng):
    """A nested list of the wrong (2-D) shape for a conv kernel."""
    return [[0.1] * shape[1]] * shape[0]


# ------------------------------------------------------------------------------ model factories
# convention: a zero-argument factory returning the model (torch models import torch inside)


def m_none():
    return None


def m_str():
    return "model"


def m_raises():
    raise ValueError("no weights file")


def m_exits():
    raise SystemExit(2)


def s_raises(width):
    raise ValueError("no such width")


def s_exits(width):
    raise SystemExit(4)


def s_numpy(width):
    return np.zeros((width, width))


def s_mlp(width):
    from invariants.scaling.examples import mlp_sp

    return mlp_sp(width)


def m_dict_no_model():
    return {"net": 1}


def m_class():
    from torch import nn

    return nn.Linear


def m_triple():
    from torch import nn

    return nn.Linear(8, 4), 1, 2


def m_four():
    from torch import nn

    return nn.Linear(8, 4), 1, 2, 3


def mlp():
    import torch
    from torch import nn

    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 4))


# ------------------------------------------------------------------------------ the catalogue

EXPECT = ["--expect", "he_normal"]
#: audit the numpy initializer ``ok`` as he_normal with the options that follow
AUDIT_OK = ["audit", f"{ME}:ok", "--expect", "he_normal"]


def with_spec(text: str) -> list[str]:
    """Audit the numpy initializer ``ok`` against the spec ``text``."""
    return ["audit", f"{ME}:ok", "--expect", text]
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
    ("no-command", [], "the following arguments are required: COMMAND"),
    ("global-option-unknown", ["--bogus"], "the following arguments are required: COMMAND"),
    # verify
    ("verify-unknown-claim", ["verify", "--only", "NO-SUCH-01"], "unknown claim id 'NO-SUCH-01'; invariants verify --list lists"),  # noqa: E501
    ("verify-claim-prefix", ["verify", "--only", "SYM-CONST"], "unknown claim id 'SYM-CONST'; did you mean SYM-CONST-01?"),  # noqa: E501
    ("verify-jobs-0", ["verify", "--jobs", "0"], "argument --jobs/-j: expected an integer >= 1, got '0'"),
    ("verify-jobs-text", ["verify", "--jobs", "abc"], "expected an integer >= 1, got 'abc'"),
    ("verify-positional", ["verify", "extra"], "unrecognized arguments: extra"),
    ("verify-only-no-value", ["verify", "--only"], "argument --only: expected one argument"),
    ("verify-json-dir-missing", ["verify", "--json", "/nonexistent-b8/v.json"], "--json: directory '/nonexistent-b8'"),
    ("verify-json-is-a-directory", ["verify", "--json", str(HERE)], "is a directory"),
    ("verify-json-no-value", ["verify", "--json"], "argument --json: expected one argument"),
    ("verify-json-proc", ["verify", "--json", "/proc/b16.json"], "--json: cannot write '/proc/b16.json'"),
    # audit options
    ("dtype-complex", AUDIT_OK + ["--dtype", "complex64"],  # no complex law: not offered (the API refuses it too)
     "argument --dtype: invalid choice: 'complex64'"),
    ("dtype-unknown", AUDIT_OK + ["--dtype", "int8"],
     "argument --dtype: invalid choice: 'int8'"),
    ("seed-not-a-number", AUDIT_OK + ["--seed", "abc"], "invalid int value: 'abc'"),
    ("seed-fraction", AUDIT_OK + ["--seed", "1.5"], "invalid int value: '1.5'"),
    ("rel-error-zero", AUDIT_OK + ["--rel-error", "0"], "got 0.0"),
    ("rel-error-negative", AUDIT_OK + ["--rel-error", "-0.1"], "got -0.1"),
    ("rel-error-inf", AUDIT_OK + ["--rel-error", "inf"], "got inf"),
    ("max-draws-too-few", AUDIT_OK + ["--max-draws", "3"], "--max-draws: must be >= 4 (the fewest draws per tensor), got 3"),
    ("max-draws-negative", AUDIT_OK + ["--max-draws", "-5"], "--max-draws: must be >= 4"),
    ("max-draws-not-a-number", AUDIT_OK + ["--max-draws", "lots"], "--max-draws: expected an integer >= 4, got 'lots'"),
    ("max-draws-fraction", AUDIT_OK + ["--max-draws", "2.5"], "--max-draws: expected an integer >= 4, got '2.5'"),
    ("identify-max-draws-too-few", ["identify", f"{ME}:ok", "--max-draws", "0"], "--max-draws: must be >= 4"),
    ("json-empty-path", AUDIT_OK + ["--json", ""], "--json: cannot write ''"),
    ("json-proc", AUDIT_OK + ["--json", "/proc/b16.json"], "cannot write"),
    ("json-sys", AUDIT_OK + ["--json", "/sys/b16.json"], "Permission denied"),
    # audit layers
    ("layer-unbalanced", ON_LAYER + ["dense(3,4"], "cannot parse layer 'dense(3,4'"),
    ("layer-letters", ON_LAYER + ["dense(a,b)"], "expected an integer, got 'a'"),
    ("layer-kernel-0", ON_LAYER + ["conv2d(32,64,k=0)"], "k must be an integer >= 1, got 0"),
    ("layer-3-args", ON_LAYER + ["dense(3,4,5)"], "dense takes 2 integer arguments (in, out)"),
    ("layer-embedding-arity", ON_LAYER + ["embedding(0)"], "embedding takes 2 integer arguments"),
    ("layer-lstm-arity", ON_LAYER + ["lstm(32)"], "lstm takes 2 integer arguments (input size, hidden size)"),
    ("layer-qkv-0", ON_LAYER + ["qkv(0)"], "in_features must be an integer >= 1, got 0"),
    ("layer-stride-0", ON_LAYER + ["conv2d(4,4,k=3,stride=0)"], "stride must be an integer >= 1, got 0"),
    ("layer-unknown-option", ON_LAYER + ["dense(3,4,bogus=1)"], "dense has no option 'bogus'"),
    # audit specs
    ("spec-uniform-one-bound", with_spec("uniform(-1)"), "uniform() needs both bounds"),
    ("spec-negative-gain", with_spec("orthogonal(gain=-1)"), "gain must be > 0, got -1"),
    ("spec-unknown-mode", with_spec("variance_scaling(scale=2, mode=fan_bogus)"),
     "unknown mode 'fan_bogus'"),
    ("spec-zero-scale", with_spec("variance_scaling(scale=0)"),
     "scale must be finite and > 0, got 0"),
    ("spec-name-called", with_spec("he_normal(gain=2)"), "unknown spec function 'he_normal'"),
    ("spec-overflowing-std", with_spec("normal(std=1e400)"), "std must be a finite real number"),
    ("spec-unknown-argument", with_spec("constant(val=nan)"), "has no argument 'val'"),
    ("spec-empty-value", with_spec("normal(std=)"), "cannot read value ''"),
    ("spec-unknown-distribution", with_spec("variance_scaling(scale=1, distribution=cauchy)"),
     "unknown distribution 'cauchy'"),
    ("spec-inverted-truncation", with_spec("truncated_normal(std=0.1, a=1, b=-1)"),
     "truncated_normal needs a < b"),
    # audit targets and initializers
    ("target-empty-module", ["audit", ":f"] + EXPECT, "target ':f' is not MODULE:ATTR"),
    ("target-blank", ["audit", "  "] + EXPECT, "unknown target ' '"),
    ("target-dotted-module", ["audit", f"{ME}.:ok"] + EXPECT, "cannot import module"),
    ("initializer-sys-exit", ["audit", f"{ME}:exits"] + EXPECT, "exits raised SystemExit(3) (it called sys.exit)"),
    ("initializer-nested-list", ["audit", f"{ME}:returns_list"] + EXPECT + ["--layer", "conv2d(16,48,k=3)"],
     "returns_list returned shape (48, 16), expected (48, 16, 3, 3)"),
    ("catalogue-layer", ["audit", "numpy", "--layer", "dense(3,4)"], "apply to a MODULE:ATTR target"),
    ("catalogue-complex", ["audit", "numpy", "--dtype", "complex64"], "argument --dtype: invalid choice: 'complex64'"),
    ("catalogue-json-dir-missing", ["audit", "numpy", "--json", "/nonexistent-b8/x.json"], "does not exist"),
    # identify
    ("identify-rel-error", ["identify", f"{ME}:ok", "--rel-error", "5"], "rel_error must lie in (0, 1), got 5.0"),
    ("identify-rel-error-nan", ["identify", f"{ME}:ok", "--rel-error", "nan"], "got nan"),
    ("identify-complex", ["identify", f"{ME}:ok", "--dtype", "complex64"], "invalid choice: 'complex64'"),
    ("identify-bad-layer", ["identify", f"{ME}:ok", "--layer", "bogus"], "cannot parse layer 'bogus'"),
    ("identify-json-dir-missing", ["identify", f"{ME}:ok", "--json", "/nonexistent-b8/x.json"], "does not exist"),
    ("identify-module-missing", ["identify", "nomod_b8:f"], "cannot import module 'nomod_b8'"),
    ("identify-attribute-missing", ["identify", f"{ME}:nope"], "has no attribute 'nope'"),
    ("identify-sys-exit", ["identify", f"{ME}:exits"], "exits raised SystemExit(3)"),
    ("identify-target-missing", ["identify"], "the following arguments are required: TARGET"),
    ("identify-second-layer-bad", ["identify", f"{ME}:ok", "--layer", "dense(4,3)", "--layer", "dense(3,4"],
     "cannot parse layer 'dense(3,4'"),
    # check-model options that fail before any model is built
    ("model-target-no-colon", ["check-model", "nocolon"], "target 'nocolon' is not MODULE:FACTORY"),
    ("model-module-missing", ["check-model", "nomod_b8:f"], "cannot import module 'nomod_b8'"),
    ("model-attribute-missing", ["check-model", f"{ME}:nope"], "has no attribute 'nope'"),
    ("model-factory-raises", ["check-model", f"{ME}:m_raises"], "m_raises() raised ValueError: no weights file"),
    ("model-factory-exits", ["check-model", f"{ME}:m_exits"], "m_exits() raised SystemExit(2)"),
    ("model-returns-none", ["check-model", f"{ME}:m_none"], "unsupported model object builtins.NoneType"),
    ("model-returns-str", ["check-model", f"{ME}:m_str"], "unsupported model object builtins.str"),
    ("model-returns-dict", ["check-model", f"{ME}:m_dict_no_model"], "unsupported model object builtins.dict"),
    ("model-target-missing", ["check-model"], "the following arguments are required: TARGET"),
    ("model-seed-text", ["check-model", f"{ME}:m_none", "--seed", "x"], "invalid int value: 'x'"),
    ("model-seed-negative", ["check-model", f"{ME}:m_none", "--seed", "-1"], "--seed must be >= 0, got -1"),
    ("model-coverage-above-1", ["check-model", f"{ME}:m_none", "--min-coverage", "2"], "expected a share in [0, 1]"),
    ("model-coverage-negative", ["check-model", f"{ME}:m_none", "--min-coverage", "-1"], "got -1.0"),
    ("model-coverage-text", ["check-model", f"{ME}:m_none", "--min-coverage", "abc"], "invalid float value: 'abc'"),
    ("model-profile-unknown", ["check-model", f"{ME}:m_none", "--profile", "bogus"], "unknown profile 'bogus'"),
    ("model-input-shape-x", ["check-model", f"{ME}:m_none", "--input-shape", "4,x7"], "got '4,x7'"),
    ("model-input-shape-0", ["check-model", f"{ME}:m_none", "--input-shape", "0,3"], "got '0,3'"),
    ("model-input-shape-empty", ["check-model", f"{ME}:m_none", "--input-shape", ""], "got ''"),
    ("model-input-shape-mixed", ["check-model", f"{ME}:m_none", "--input-shape", "a=1,2", "--input-shape", "3,4"],
     "give one positional shape, or NAME=SHAPE for every keyword input"),
    ("model-input-shape-two", ["check-model", f"{ME}:m_none", "--input-shape", "3,4", "--input-shape", "5,6"],
     "give one positional shape"),
    ("model-json-dir-missing", ["check-model", f"{ME}:m_none", "--json", "/nonexistent-b8/x.json"], "does not exist"),
    # report
    ("report-out-proc", ["report", "--out", "/proc/b16"], "--out: cannot write '/proc/b16'"),
    ("report-out-file", ["report", "--out", str(Path(__file__))], "is not a directory"),
    ("report-check-missing", ["report", "--check", "--out", "/nonexistent-b8"], "--check: '/nonexistent-b8' does not exist"),
    ("report-option-unknown", ["report", "--bogus"], "unrecognized arguments: --bogus"),
    # resource limits (--max-memory SIZE, --max-seconds S: invariants.core.cost), checked before any draw
    ("max-memory-text", AUDIT_OK + ["--max-memory", "lots"], "--max-memory: 'lots' is not a size"),
    ("max-memory-unit", AUDIT_OK + ["--max-memory", "8Q"], "--max-memory: '8Q' is not a size"),
    ("max-memory-word", AUDIT_OK + ["--max-memory", "never"], "--max-memory: 'never' is not a size"),
    ("max-memory-negative", AUDIT_OK + ["--max-memory=-1G"], "--max-memory: '-1G' is not a size"),
    ("max-memory-empty", AUDIT_OK + ["--max-memory", ""], "--max-memory: '' is not a size"),
    ("max-memory-no-value", AUDIT_OK + ["--max-memory"], "argument --max-memory: expected one argument"),
    ("max-seconds-text", AUDIT_OK + ["--max-seconds", "soon"], "--max-seconds: 'soon' is not a positive number"),
    ("max-seconds-word", AUDIT_OK + ["--max-seconds", "never"], "--max-seconds: 'never' is not a positive number"),
    ("max-seconds-negative", AUDIT_OK + ["--max-seconds=-5"], "--max-seconds: '-5' is not a positive number"),
    ("max-seconds-nan", AUDIT_OK + ["--max-seconds", "nan"], "--max-seconds: 'nan' is not a positive number"),
    ("max-seconds-inf", AUDIT_OK + ["--max-seconds", "inf"], "--max-seconds: 'inf' is not a positive number"),
    ("over-memory-limit", AUDIT_OK + ["--max-memory", "1K"],
     "over the memory limit 1 KiB; raise it with --max-memory 1G"),
    ("over-time-limit", AUDIT_OK + ["--max-seconds", "1e-6"], "over the time limit"),
    ("catalogue-over-memory-limit", ["audit", "numpy", "--max-memory", "1K"], "audit of the numpy catalogue"),
    ("catalogue-max-seconds-text", ["audit", "numpy", "--max-seconds", "x"], "--max-seconds: 'x' is not"),
    ("identify-max-memory-text", ["identify", f"{ME}:ok", "--max-memory", "lots"], "--max-memory: 'lots' is not a size"),
    ("identify-max-seconds-negative", ["identify", f"{ME}:ok", "--max-seconds", "-1"], "--max-seconds: '-1' is not"),
    ("identify-over-memory-limit", ["identify", f"{ME}:ok", "--rel-error", "1e-3"],
     "over the memory limit 4 GiB; raise it with --max-memory"),
    ("identify-over-time-limit", ["identify", f"{ME}:ok", "--max-seconds", "0.001"], "over the time limit"),
]

#: check-model cases that need torch (the model is built, then refused)
MODEL_CASES = [
    ("model-returns-class", ["check-model", f"{ME}:m_class"], "unsupported model object builtins.type"),
    ("model-returns-3-tuple", ["check-model", f"{ME}:m_triple"], "got a 3-tuple (Linear, int, int)"),
    ("model-returns-4-tuple", ["check-model", f"{ME}:m_four"], "unsupported model object builtins.tuple"),
    ("model-framework-unknown", ["check-model", f"{ME}:mlp", "--framework", "caffe"], "unknown framework 'caffe'"),
    ("model-framework-not-its-own", ["check-model", f"{ME}:mlp", "--framework", "keras"], "not a keras model"),
    ("model-expect-no-equals", ["check-model", f"{ME}:mlp", "--expect", "nonsense"], "expected PATTERN=SPEC"),
    ("model-expect-empty-pattern", ["check-model", f"{ME}:mlp", "--expect", "=zeros"], "empty PATTERN"),
    ("model-expect-unknown-spec", ["check-model", f"{ME}:mlp", "--expect", "Linear=laplace"], "unknown spec 'laplace'"),
    ("model-expect-selects-nothing", ["check-model", f"{ME}:mlp", "--expect", "Conv2d=zeros"], "selects no tensor"),
    ("model-token-ids-without-vocabulary", ["check-model", f"{ME}:mlp", "--input-shape", "input_ids=4,8"],
     "cannot read the model's vocabulary size for token ids"),
] + [  # scale-check: every malformed request is refused before a model is trained
    (f"scale-{case}", ["scale-check"] + argv, words) for case, argv, words in [
        ("target-no-colon", ["nocolon", "--widths", "8,16"], "target 'nocolon' is not MODULE:FACTORY"),
        ("module-missing", ["nomod_b8:f", "--widths", "8,16"], "cannot import module 'nomod_b8'"),
        ("attribute-missing", [f"{ME}:nope", "--widths", "8,16"], "has no attribute 'nope'"),
        ("not-callable", [f"{ME}:not_callable", "--widths", "8,16"], "is not callable"),
        ("factory-raises", [f"{ME}:s_raises", "--widths", "8,16"], "s_raises(8) raised ValueError: no such width"),
        ("factory-exits", [f"{ME}:s_exits", "--widths", "8,16"], "s_exits(8) raised SystemExit(4)"),
        ("factory-takes-no-width", [f"{ME}:m_raises", "--widths", "8,16"], "m_raises(8) raised TypeError"),
        ("returns-not-torch", [f"{ME}:s_numpy", "--widths", "8,16"], "runs on torch.nn.Module models"),
        ("widths-malformed", [f"{ME}:s_mlp", "--widths", "8,x"], "expected comma-separated integers >= 1"),
        ("widths-zero", [f"{ME}:s_mlp", "--widths", "0,16"], "expected comma-separated integers >= 1, got '0,16'"),
        ("widths-one-size", [f"{ME}:s_mlp", "--widths", "16,16"], "--widths: need at least 2 distinct sizes"),
        ("steps-negative", [f"{ME}:s_mlp", "--widths", "8,16", "--steps", "-1"], "integers >= 0"),
        ("seeds-one", [f"{ME}:s_mlp", "--widths", "8,16", "--seeds", "1"], "needs at least 2 seeds"),
        ("optimizer-unknown", [f"{ME}:s_mlp", "--widths", "8,16", "--optimizer", "lbfgs"], "invalid choice: 'lbfgs'"),
        ("expect-unknown", [f"{ME}:s_mlp", "--widths", "8,16", "--expect", "ntk"], "invalid choice: 'ntk'"),
        ("lr-negative", [f"{ME}:s_mlp", "--widths", "8,16", "--lr", "-1"], "--lr: expected a positive number"),
        ("widths-and-depths", [f"{ME}:s_mlp", "--widths", "8,16", "--depths", "2,4"], "not both"),
        ("width-without-depths", [f"{ME}:s_mlp", "--width", "8"], "--width is the fixed width of depth mode"),
        ("max-memory-malformed", [f"{ME}:s_mlp", "--widths", "8,16", "--max-memory", "lots"], "is not a size"),
        ("max-seconds-malformed", [f"{ME}:s_mlp", "--widths", "8,16", "--max-seconds", "soon"],
         "--max-seconds: 'soon' is not a positive number of seconds"),
        ("over-memory-limit", [f"{ME}:s_mlp", "--widths", "8,4096", "--max-memory", "1M"],
         "over the memory limit 1 MiB; raise it with --max-memory"),
        ("over-time-limit", [f"{ME}:s_mlp", "--widths", "8,8192", "--max-seconds", "1"],
         "over the time limit 1 s; raise it with --max-seconds"),
        ("plot-directory-missing", [f"{ME}:s_mlp", "--widths", "8,16", "--plot", "/no/such/dir/x.png"],
         "--plot: directory '/no/such/dir' does not exist"),
    ]
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


def test_catalogue_has_at_least_150_bad_inputs():
    ids = [c[0] for c in CASES + TORCH_CASES + MODEL_CASES] + API_CASES
    assert len(ids) + len(REAL_PROCESS) + 4 >= 150  # + the 4 missing-framework cases
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("argv, words", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_one_line_exit_2(argv, words, capsys, broken_modules):
    rc = cli.main(argv)
    out, err = capsys.readouterr()
    assert_one_line(rc, out, err, words)


@pytest.mark.parametrize("argv, words", [c[1:] for c in MODEL_CASES], ids=[c[0] for c in MODEL_CASES])
def test_bad_model_one_line_exit_2(argv, words, capsys):
    pytest.importorskip("torch")
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


#: one real process per way a bad input reaches exit 2: a BadInput raised by the engine, an import that fails
#: in a fresh interpreter, argparse's own exit, the user's code calling sys.exit.  Every case is also in the
#: in-process catalogue above (with the audit-limit and unknown-spec ones, which take the BadInput path too)
REAL_PROCESS = [
    (["audit", "test_bad_input:returns_none", "--expect", "he_normal"], "returned None, not an array"),
    (["audit", "b8_broken_import:f", "--expect", "he_normal"], "cannot import module 'b8_broken_import'"),
    (["audit", "numpy", "--rel-error"], "expected one argument"),
    (["audit", "test_bad_input:exits", "--expect", "he_normal"], "raised SystemExit(3)"),
]


@pytest.mark.parametrize("argv, words", REAL_PROCESS,
                         ids=["returns-none", "module-import-error", "argparse", "sys-exit"])
def test_bad_input_in_a_real_process(argv, words, tmp_path):
    for name, text in BROKEN_MODULES.items():
        (tmp_path / f"{name}.py").write_text(text)
    proc = _run(argv, tmp_path)
    assert_one_line(proc.returncode, proc.stdout, proc.stderr, words)


# ------------------------------------------------------------------------------ the Python API


def _api_cases():
    from invariants import audit, testing
    from invariants.audit import AuditConfig, parse_layer, parse_spec
    from invariants.core.cost import Limits, ResourceLimit
    from invariants.core.errors import BadInput, UsageError
    from invariants.frameworks.errors import BadInitializer, BadModel, UnknownFramework
    from invariants.modelcheck import check_model

    def torch_mlp():
        pytest.importorskip("torch")
        return mlp()

    def scale(**kw):
        pytest.importorskip("torch")
        from invariants.scaling import scale_check

        return scale_check(kw.pop("target", s_mlp), kw.pop("sizes", [8, 16]), **kw)

    return {
        "api-scale-one-size": (lambda: scale(sizes=[8, 8]), UsageError,
                               "sizes: need at least 2 distinct integers >= 1, got [8]"),
        "api-scale-one-seed": (lambda: scale(seeds=1), UsageError, "a slope's interval needs at least 2 seeds"),
        "api-scale-optimizer": (lambda: scale(optimizer="lbfgs"), UsageError, "optimizer: expected one of sgd, adam"),
        "api-scale-depth-expect": (lambda: scale(mode="depth", width=8, expect="mup"), UsageError,
                                   "expect='mup' is a width parametrization"),
        "api-scale-module-missing": (lambda: scale(target="nomod_b18:f"), BadModel, "cannot import module 'nomod_b18'"),
        "api-scale-factory-raises": (lambda: scale(target=s_raises), BadModel,
                                     "s_raises(8) raised ValueError: no such width"),
        "api-assert-scales-not-torch": (lambda: testing.assert_scales(s_numpy, [8, 16]), BadModel,
                                        "runs on torch.nn.Module models"),
        "api-spec-unknown": (lambda: audit.initializer(ok, expect="laplace", layer=(3, 4)), BadInput,
                             "unknown spec 'laplace'"),
        "api-spec-negative": (lambda: audit.initializer(ok, expect="normal(std=-1)", layer=(3, 4)), BadInput,
                              "std must be > 0, got -1"),
        "api-spec-object": (lambda: audit.initializer(ok, expect=3.5, layer=(3, 4)), UsageError,
                            "expect: expected spec text such as 'he_normal', a Spec or an Expectation, got float 3.5"),
        "api-no-spec": (lambda: audit.initializer(ok, layer=(3, 4)), audit.NoSpec,
                        "no expect given and test_bad_input.ok is not a known numpy initializer"),
        "api-layer-unknown": (lambda: audit.initializer(ok, expect="he_normal", layer="conv9d(1,2)"), BadInput,
                              "unknown layer 'conv9d'"),
        "api-layer-3-tuple": (lambda: audit.initializer(ok, expect="he_normal", layer=(1, 2, 3)), BadInput,
                              "layer=(1, 2, 3): a tuple of integers means (fan_in, fan_out)"),
        "api-layer-empty-list": (lambda: audit.initializer(ok, expect="he_normal", layer=[]), BadInput,
                                 "layer: no layer given (an empty list)"),
        "api-layer-float": (lambda: audit.initializer(ok, expect="he_normal", layer=3.5), BadInput, "got float 3.5"),
        "api-layer-negative-pair": (lambda: audit.initializer(ok, expect="he_normal", layer=(-1, 3)), BadInput,
                                    "needs 2 sizes >= 0"),
        "api-layer-huge": (lambda: audit.initializer(ok, expect="he_normal", layer=(100000, 100000)), BadInput,
                           "more than the audit limit of 16,777,216 (AuditConfig.max_elements)"),
        "api-framework-unknown": (lambda: audit.initializer(ok, expect="he_normal", framework="caffe"),
                                  UnknownFramework, "unknown framework 'caffe'"),
        "api-dtype-unknown": (lambda: audit.initializer(ok, expect="he_normal", layer=(3, 4), dtype="int8"),
                              UsageError, "dtype 'int8' is not one of float16"),
        "api-dtype-complex": (lambda: audit.initializer(ok, expect="he_normal", layer=(3, 4), dtype="complex64"),
                              UsageError, "complex initializers are not supported for spec he_normal"),
        "api-config-rel-error": (lambda: AuditConfig(rel_error=2), UsageError, "rel_error must lie in (0, 1), got 2"),
        "api-config-seed": (lambda: AuditConfig(base_seed=-1), UsageError, "the base seed must be an integer >= 0"),
        "api-config-power": (lambda: AuditConfig(power=1.5), UsageError, "power must lie in (alpha, 1), got 1.5"),
        "api-config-draws": (lambda: AuditConfig(min_draws=1), UsageError, "need 2 <= min_draws <= max_draws"),
        "api-module-missing": (lambda: audit.initializer("nomod_b16:f", expect="he_normal"), BadInitializer,
                               "cannot import module 'nomod_b16'"),
        "api-attribute-missing": (lambda: audit.initializer(f"{ME}:nope", expect="he_normal"), BadInitializer,
                                  "has no attribute 'nope'"),
        "api-over-memory-limit": (lambda: audit.initializer(ok, expect="he_normal", layer=(3, 4),
                                                            limits=Limits(max_bytes=1024)), ResourceLimit,
                                  "over the memory limit 1 KiB; raise it with limits=Limits(max_bytes=1 * 2**30)"),
        "api-over-time-limit": (lambda: audit.initializer(ok, expect="he_normal", layer=(3, 4),
                                                          limits=Limits(max_seconds=1e-6)), ResourceLimit,
                                "over the time limit"),
        "api-catalogue-over-limit": (lambda: audit.catalogue("numpy", limits=Limits(max_bytes=1024)), ResourceLimit,
                                     "audit of the numpy catalogue"),
        "api-identify-over-limit": (lambda: audit.identify(ok, config=AuditConfig(rel_error=1e-3)), ResourceLimit,
                                    "over the memory limit 4 GiB; raise it with limits=Limits(max_bytes="),
        "api-returns-none": (lambda: audit.initializer(returns_none, expect="he_normal", layer=(3, 4)),
                             BadInitializer, "returns_none returned None, not an array of shape (4, 3)"),
        "api-sys-exit": (lambda: audit.initializer(exits, expect="he_normal", layer=(3, 4)), BadInitializer,
                         "exits raised SystemExit(3) (it called sys.exit)"),
        "api-not-callable": (lambda: audit.initializer(3, expect="he_normal", layer=(3, 4)), BadInitializer,
                             "'int' object is not callable"),
        "api-catalogue-unknown": (lambda: audit.catalogue("caffe"), UnknownFramework, "unknown framework 'caffe'"),
        "api-catalogue-complex": (lambda: audit.catalogue("numpy", dtype="complex64"), UsageError,
                                  "not supported for spec the numpy catalogue"),
        "api-identify-vector": (lambda: audit.identify(ok, layers=["vector(3)"]), BadInput,
                                "identify needs layers with fans and values; vector(3) has no textbook fans"),
        "api-identify-framework": (lambda: audit.identify(ok, framework="caffe"), UnknownFramework,
                                   "unknown framework 'caffe'"),
        "api-identify-bad-pair": (lambda: audit.identify(ok, layers=[(3, 3, 3)]), BadInput,
                                  "layers=(3, 3, 3): a tuple of integers"),
        "api-identify-returns-none": (lambda: audit.identify(returns_none), BadInitializer,
                                      "returned None, not an array of shape (100, 300)"),
        "api-parse-spec": (lambda: parse_spec("he_normal("), BadInput, "cannot parse spec 'he_normal('"),
        "api-parse-layer": (lambda: parse_layer("dense(1)"), BadInput, "dense takes 2 integer arguments"),
        "api-parse-layer-object": (lambda: parse_layer(3), BadInput, "layer must be a string, got int"),
        "api-model-int": (lambda: check_model(3), BadModel, "unsupported model object builtins.int"),
        "api-model-target": (lambda: check_model("nocolon"), BadModel, "target 'nocolon' is not MODULE:FACTORY"),
        "api-model-import": (lambda: check_model("nomod_b16:f"), BadModel, "cannot import module 'nomod_b16'"),
        "api-model-factory-raises": (lambda: check_model(f"{ME}:m_raises"), BadModel,
                                     "m_raises() raised ValueError: no weights file"),
        "api-model-factory-exits": (lambda: check_model(f"{ME}:m_exits"), BadModel, "m_exits() raised SystemExit(2)"),
        "api-model-3-tuple": (lambda: check_model(f"{ME}:m_triple"), BadModel, "got a 3-tuple (Linear, int, int)"),
        "api-model-profile": (lambda: check_model(torch_mlp(), profile="bogus"), UsageError,
                              "unknown profile 'bogus'; expected one of fast, thorough"),
        "api-model-profile-list": (lambda: check_model(torch_mlp(), profile=["fast"]), UsageError,
                                   "unknown profile ['fast']"),
        "api-model-expect": (lambda: check_model(torch_mlp(), expect=["nonsense"]), UsageError,
                             "expect 'nonsense': expected PATTERN=SPEC"),
        "api-model-expect-text": (lambda: check_model(torch_mlp(), expect="Conv2d=zeros"), UsageError,
                                  "expect 'Conv2d=zeros' selects no tensor"),
        "api-model-framework": (lambda: check_model(torch_mlp(), framework="caffe"), UnknownFramework,
                                "unknown framework 'caffe'"),
        "api-model-framework-not-its-own": (lambda: check_model(torch_mlp(), framework="keras"), BadModel,
                                            "framework 'keras': the object is a torch"),
        "api-model-coverage": (lambda: check_model(torch_mlp(), min_coverage=2), UsageError,
                               "min_coverage: expected a share in [0, 1], got 2"),
        "api-model-seed": (lambda: check_model(torch_mlp(), seed=-1), UsageError,
                           "seed: expected an integer >= 0, got -1"),
        "api-model-token-ids": (lambda: check_model(torch_mlp(), input_shape={"input_ids": (4, 8)}), BadModel,
                                "input shape 'input_ids': cannot read the model's vocabulary size"),
        "api-assert-spec": (lambda: testing.assert_initializer(ok, expect="laplace", layer=(3, 4)), BadInput,
                            "unknown spec 'laplace'"),
        "api-assert-layer": (lambda: testing.assert_initializer(ok, expect="he_normal", layer=(1, 2, 3)), BadInput,
                             "layer=(1, 2, 3)"),
        "api-assert-framework": (lambda: testing.assert_initializer(ok, expect="he_normal", framework="caffe"),
                                 UnknownFramework, "unknown framework 'caffe'"),
        "api-assert-returns-none": (lambda: testing.assert_initializer(returns_none, expect="he_normal", layer=(3, 4),
                                                                       framework="numpy"), BadInitializer,
                                    "returned None"),
        "api-assert-model-int": (lambda: testing.assert_init_healthy(3), BadModel, "unsupported model object"),
        "api-assert-model-target": (lambda: testing.assert_init_healthy("nocolon"), BadModel,
                                    "is not MODULE:FACTORY"),
        "api-assert-model-profile": (lambda: testing.assert_init_healthy(torch_mlp(), profile="bogus"), UsageError,
                                     "unknown profile 'bogus'"),
        "api-assert-model-expect": (lambda: testing.assert_init_healthy(torch_mlp(), expect=["=zeros"]), UsageError,
                                    "expect '=zeros': empty PATTERN"),
    }


API_CASES = sorted(_api_cases())

#: a command-line flag in a message (``--expect``): the API's errors name its arguments instead
FLAG = re.compile(r"(^|[\s'(])--[a-z]")


@pytest.mark.parametrize("case", API_CASES)
def test_bad_api_call_raises_one_api_worded_line(case):
    from invariants.core.errors import InvariantsError

    call, kind, words = _api_cases()[case]
    with pytest.raises(InvariantsError) as info:
        call()
    assert isinstance(info.value, kind), (type(info.value), info.value)
    message = str(info.value)
    assert "\n" not in message and words in message, message
    assert not FLAG.search(message), message
