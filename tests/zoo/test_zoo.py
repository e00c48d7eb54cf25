"""The model zoo of issue 13 (tests/zoo/models.py): definitions, builds, and check-model's verdicts.

Always run (a few seconds per library): the zoo's shape (≥ 20 entries, ≥ 3 sources, every family the issue
names), every cited init file exists in the installed library, every torch model builds and runs its example,
every planted fault (torch or Keras) changes the tensor it names.  Skipped per entry when its library
(transformers, timm, torchvision, keras, keras_hub) is not installed.

The verdict tests run ``check_model`` on every zoo model (its verdict, its coverage ≥ 95 % of the parameter
values, a probe that ran), on every planted fault (an error the clean model does not have) and on the models
whose probe must infer its input (``BARE_PROBES``): about 5 s per torch model and 30 s per keras.applications
model on one core.  Each model's tests share one xdist group (``--dist loadgroup``, the README's test command),
so the clean model's report is computed once per model (tests/zoo/reports.py, shared with the
finding-level tests on zoo targets in tests/modelcheck).  What the tool gets wrong is marked
``xfail(strict=True)`` with the reason in the tables below: a fix turns the mark into a failure to remove.
"""
from __future__ import annotations

import functools
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # `tests.zoo` is imported from the repository root (xdist workers included)
    sys.path.insert(0, str(ROOT))

from invariants.modelcheck.coverage import BIAS_NOT_JUDGED  # noqa: E402
from tests.zoo.models import ERRORS, FAULTS, HEALTHY, ZOO, factory  # noqa: E402
from tests.zoo.reports import group as _group  # noqa: E402
from tests.zoo.reports import report as _report  # noqa: E402

#: zoo models the current check-model calls unhealthy although the library init is correct (none since issue 13;
#: an entry here is a strict xfail: a fix turns it into a failure to remove)
FALSE_ACCUSATIONS: dict[str, str] = {}
#: planted faults the current check-model does not catch (no error the clean model lacks)
MISSED_FAULTS: dict[str, str] = {}
#: zoo models whose check analyses < 95 % of the parameter values
LOW_COVERAGE: dict[str, str] = {}
#: the error findings (kind, tensors) check-model must give on each zoo model whose library init is itself
#: faulty (``expected == ERRORS``): each a true finding read from the library source (the entry's ``init``) and
#: checked on the built model by test_zoo_errors_are_the_true_findings.  keras-hub's Llama and Gemma attention
#: pass one seeded initializer instance to every projection, so the same-shape key and value kernels of each
#: block are one draw (llama_attention.py LlamaAttention.__init__, gemma_attention.py CachedGemmaAttention.__init__)
TRUE_ERRORS: dict[str, set] = {
    "kh_llama": {("identical-tensors", (f"transformer_layer_{i}/self_attention/key/kernel",
                                        f"transformer_layer_{i}/self_attention/value/kernel")) for i in (0, 1)},
    "kh_gemma": {("identical-tensors", (f"decoder_block_{i}/attention/key/kernel",
                                        f"decoder_block_{i}/attention/value/kernel")) for i in (0, 1)},
}
#: models whose probe used to fail without an example input (the probe now infers one from the config)
BARE_PROBES = ("hf_t5", "hf_convnext", "hf_vit", "hf_swin", "timm_convnext", "timm_vit", "timm_vit_layerscale",
               "tv_convnext", "tv_vit")


def _need(z):
    if not z.available():
        pytest.skip(f"{z.name} needs {', '.join(z.requires)}")


def _library_root(module: str) -> Path:
    import importlib

    return Path(importlib.import_module(module).__file__).parent.parent


def test_zoo_covers_the_issue():
    assert len(ZOO) >= 20
    sources = {z.requires[0] for z in ZOO}
    assert len(sources - {"torch"}) >= 3, sources
    fam = " ".join(z.family for z in ZOO).lower()
    for needed in ("batchnorm", "depthwise", "grouped", "residual", "convnext", "vision transformer", "swin",
                   "encoder-only", "decoder-only", "encoder-decoder", "lstm"):
        assert needed in fam, needed
    assert len({z.name for z in ZOO}) == len(ZOO)
    for z in ZOO:
        assert z.expected in (HEALTHY, ERRORS)
        assert set(z.faults) <= set(FAULTS), z.name
    # an expected-errors entry states which errors are the true ones
    assert {z.name for z in ZOO if z.expected == ERRORS} == set(TRUE_ERRORS)


@pytest.mark.parametrize("z", ZOO, ids=lambda z: z.name)
def test_init_citation_names_an_installed_file(z):
    """The citation's first path (``lib/.../file.py``) exists in the installed library."""
    _need(z)
    path = re.match(r"([\w./]+\.py)", z.init)
    assert path, f"{z.name}: citation must start with the library file: {z.init[:80]}"
    rel = path.group(1)
    root = _library_root(rel.split("/")[0])
    assert (root / rel).is_file(), f"{z.name}: {rel} not under {root}"


#: Keras models (keras.applications, keras-hub) run in the verdict tests
TORCH_ZOO = [z for z in ZOO if z.requires[0] not in ("keras", "keras_hub")]


def _values(model) -> dict:
    """``{parameter name as check-model names it: values (numpy copy)}``: torch ``named_parameters()``, Keras
    variable paths."""
    import numpy as np

    if hasattr(model, "named_parameters"):
        return {k: v.detach().cpu().numpy().copy() for k, v in model.named_parameters()}
    return {v.path: np.array(v.value) for v in model.weights}


@functools.lru_cache(maxsize=None)
def _baseline(name: str) -> dict:
    """Parameter values of the zoo model ``name`` as built (copied once per test process)."""
    z = next(z for z in ZOO if z.name == name)
    return _values(z.build())


@pytest.mark.parametrize("z", [pytest.param(z, marks=[_group(z.name)]) for z in TORCH_ZOO], ids=lambda z: z.name)
def test_torch_model_builds_and_runs(z):
    import numpy as np
    import torch

    _need(z)
    model = z.build()
    assert isinstance(model, torch.nn.Module)
    # seeded builders: a second build is bit-identical (what the fault tests compare against)
    base = _baseline(z.name)
    assert all(np.array_equal(base[k], v) for k, v in _values(model).items())
    with torch.no_grad():
        model(*z.example(model))
        if z.kwargs is not None:
            model(**z.kwargs(model))


#: every planted fault, torch and Keras (a Keras fault names its variable by path: ``kh_bert__scaled_x100``)
FAULT_CASES = [(z, f) for z in ZOO for f in z.faults]


@pytest.mark.parametrize("z,fault", [pytest.param(z, f, marks=[_group(z.name)]) for z, f in FAULT_CASES],
                         ids=[f"{z.name}__{f}" for z, f in FAULT_CASES])
def test_fault_changes_its_tensor(z, fault):
    import numpy as np

    _need(z)
    before = _baseline(z.name)
    model, _ = factory(f"{z.name}__{fault}")()
    after = _values(model)
    target = z.faults[fault].split("<-")[0]
    changed = [k for k in before if not np.array_equal(before[k], after[k])]
    assert changed, f"{fault} changed nothing"
    if target != "*":
        assert changed == [target], changed


def _errors(report) -> set:
    return {(f.kind, tuple(f.params)) for f in report.findings if f.severity == "error"}


def _marks(table: dict[str, str], key: str):
    return [pytest.mark.xfail(strict=True, reason=table[key])] if key in table else []


@pytest.mark.parametrize("z", [pytest.param(z, marks=_marks(FALSE_ACCUSATIONS, z.name) + [_group(z.name)])
                               for z in ZOO], ids=lambda z: z.name)
def test_zoo_verdict(z):
    """The library's own init gets the expected verdict (healthy: exit 0, with the probe run; notes allowed)."""
    _need(z)
    report = _report(z.name)
    assert report.status == z.expected, str(report)
    assert report.coverage.signal is None, report.coverage.signal


@pytest.mark.parametrize("name", [pytest.param(n, marks=[_group(n)]) for n in TRUE_ERRORS])
def test_zoo_errors_are_the_true_findings(name):
    """A model whose library init is faulty gets exactly its true errors, and each holds on the built model
    (identical-tensors: the two tensors are bit-identical as the library built them)."""
    import numpy as np

    z = next(z for z in ZOO if z.name == name)
    _need(z)
    values = _baseline(name)
    for kind, params in TRUE_ERRORS[name]:
        assert kind == "identical-tensors", kind  # the only kind whose ground truth this test can read off
        assert np.array_equal(values[params[0]], values[params[1]]), params
    assert _errors(_report(name)) == TRUE_ERRORS[name]


@_group("kh_gemma")
def test_zoo_gemma_rms_zero_scale_is_no_dead_branch():
    """keras-hub Gemma's RMSNormalization draws its scale as zeros and applies x*(1+scale)
    (keras_hub/src/models/gemma/rms_normalization.py RMSNormalization.call): the identity at init, so no
    zero-residual-branch note (which would say the normalized output is its shift)."""
    import numpy as np

    z = next(z for z in ZOO if z.name == "kh_gemma")
    _need(z)
    scales = {k: v for k, v in _baseline("kh_gemma").items() if k.endswith("_norm/scale")}
    assert scales and all(not np.any(v) for v in scales.values()), sorted(scales)  # the case this test is about
    kinds = {f.kind for f in _report("kh_gemma").findings}
    assert "zero-residual-branch" not in kinds, kinds


@pytest.mark.parametrize("z", [pytest.param(z, marks=_marks(LOW_COVERAGE, z.name) + [_group(z.name)]) for z in ZOO],
                         ids=lambda z: z.name)
def test_zoo_coverage(z):
    """At least 95 % of the parameter values analysed, every other tensor listed with its reason."""
    _need(z)
    cov = _report(z.name).coverage
    assert cov.share >= 0.95, cov.to_dict()
    # the values left out of the share: the tensors not analysed and the random-valued biases whose spread no check
    # judges (partly analysed, invariants.modelcheck.coverage.BIAS_NOT_JUDGED), each listed
    unjudged = sum(s.n for s in cov.partial if s.reason == BIAS_NOT_JUDGED)
    assert cov.total_values - cov.values == sum(s.n for s in cov.not_analysed) + unjudged, cov.to_dict()
    assert all(s.reason for s in cov.not_analysed)


@pytest.mark.parametrize("name", [pytest.param(n, marks=[_group(n)]) for n in BARE_PROBES])
def test_zoo_probe_infers_its_input(name):
    """Without an example input the probe builds one from the model's config and runs."""
    z = next(z for z in ZOO if z.name == name)
    _need(z)
    report = _report(f"{name}__bare")
    assert report.coverage.signal is None, report.coverage.signal
    assert report.status == z.expected, str(report)


@pytest.mark.parametrize("z,fault", [pytest.param(z, f, marks=_marks(MISSED_FAULTS, f"{z.name}__{f}") + [_group(z.name)])
                                     for z, f in FAULT_CASES], ids=[f"{z.name}__{f}" for z, f in FAULT_CASES])
def test_planted_fault_is_caught(z, fault):
    """The faulted model has an error finding the clean model does not have."""
    _need(z)
    assert _errors(_report(f"{z.name}__{fault}")) - _errors(_report(z.name))


def test_readme_real_models_table_is_generated_from_the_zoo():
    """README's "Real models" table is :func:`tests.zoo.table.readme_section` (regenerate it with
    ``python3 tests/zoo/table.py --readme`` after changing the zoo)."""
    from tests.zoo.table import README_END, README_START, readme_section

    text = (ROOT / "README.md").read_text()
    block = text[text.index(README_START): text.index(README_END) + len(README_END)]
    assert block == readme_section()
