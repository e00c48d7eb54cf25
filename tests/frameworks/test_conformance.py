"""Every registered framework passes the conformance checks (invariants.frameworks.conformance), and a
third-party framework added through the entry-point group (tests/frameworks/plugins) works end to end.

Frameworks that are not installed are skipped with their install hint (the offline checks still run).
"""
from __future__ import annotations

import importlib
import sys
from pathlib import Path

import numpy as np
import pytest

from invariants.core.errors import FrameworkUnavailable
from invariants.frameworks import conformance, registry
from invariants.frameworks.base import Framework
from invariants.frameworks.errors import UnknownFramework
from audit_fixtures import catalogue_group

PLUGINS = Path(__file__).parent / "plugins"


def _stub_module():
    """The stub plugin's module, imported for collection only (registered by the fixture below)."""
    sys.path.insert(0, str(PLUGINS))
    try:
        return importlib.import_module("stub_framework")
    finally:
        sys.path.remove(str(PLUGINS))


BUILTIN = registry.frameworks()
STUB = _stub_module().FRAMEWORK

def _one_worker(name: str):
    """The checks of one framework share an xdist group (``--dist loadgroup``) with its catalogue's tests
    (:func:`audit_fixtures.catalogue_group`): its first catalogue build and its first compiles (JAX/Keras: seconds
    each) are paid once, on one worker, not once per worker."""
    return catalogue_group(name)


CASES = [pytest.param(fw.name, c, marks=_one_worker(fw.name), id=f"{fw.name}-{c.__name__.removeprefix('check_')}")
         for fw in [*BUILTIN, STUB] for c in conformance.checks(fw)]


@pytest.fixture
def stub_installed(monkeypatch):
    """The stub plugin 'installed': its folder (a dist-info with the entry point) on sys.path."""
    monkeypatch.syspath_prepend(str(PLUGINS))
    registry.refresh()
    try:
        yield registry.lookup("stub")
    finally:
        monkeypatch.undo()
        registry.refresh()
    assert "stub" not in registry.names()


def _framework(name: str, request) -> Framework:
    return request.getfixturevalue("stub_installed") if name == "stub" else registry.lookup(name)


@pytest.mark.parametrize("name, check", CASES)
def test_conformance(name, check, request):
    fw = _framework(name, request)
    try:
        check(fw)
    except FrameworkUnavailable as exc:
        if check in conformance.OFFLINE_CHECKS:
            raise
        pytest.skip(f"{name} not installed: {exc.hint}")


AUDITED = [fw.name for fw in BUILTIN if fw.supports_initializers] + ["stub"]


@pytest.mark.parametrize("name", [pytest.param(n, marks=_one_worker(n)) for n in AUDITED])
def test_catalogue_sample_audits(name, request):
    """A sample of the catalogue audits without an error verdict, and only subjects with a documented
    rule may be documented deviations (the full catalogues are audited in tests/audit/test_audit_*.py and
    stored in docs/data/audit)."""
    from invariants.audit.auditor import DOCUMENTED, ERROR, AuditConfig, audit_subjects

    fw = _framework(name, request)
    try:
        subjects = conformance.sampled_subjects(fw, k=4)
    except FrameworkUnavailable as exc:
        pytest.skip(f"{name} not installed: {exc.hint}")
    subjects = subjects[:4]  # the catalogue part (the example initializers carry no real expectation)
    report = audit_subjects(subjects, AuditConfig(rel_error=0.1), catch=True)
    assert not [r for r in report.results if r.verdict == ERROR], [r.message for r in report.results]
    documented = sum(s.documented is not None for s in subjects)
    assert sum(r.verdict == DOCUMENTED for r in report.results) <= sum(max(1, len(s.blocks)) for s in subjects
                                                                      if s.documented is not None) or not documented


def test_stub_is_found_through_the_entry_point(stub_installed):
    assert "stub" in registry.names("initializers") and "stub" in registry.names("models")
    assert registry.get_framework("stub", "initializers") is stub_installed


def test_stub_works_end_to_end(stub_installed):
    """Audit, identify-style convention guessing and the model check all reach the plugin."""
    import stub_framework as S

    from invariants import audit
    from invariants.modelcheck import check_model
    from invariants.testing import guess_framework

    assert guess_framework(S.glorot_uniform) == "stub"
    report = audit.initializer(S.glorot_uniform, framework="stub", layer="dense(300,100)")
    assert report.ok, report.results
    bad = audit.initializer(S.normal, expect="he_normal", framework="stub", layer="dense(300,100)")
    assert not bad.ok
    model_report = check_model(S.StubMLP())
    assert model_report.framework == "stub"


def test_plugin_gone_without_its_entry_point():
    assert "stub" not in registry.names()
    with pytest.raises(UnknownFramework):
        registry.lookup("stub")


def test_unknown_framework_is_a_usage_error():
    from invariants.core.errors import UsageError

    with pytest.raises(UsageError, match="unknown framework 'nope'; known: numpy, torch"):
        registry.get_framework("nope")


def test_a_builtin_name_cannot_be_taken_by_a_plugin(monkeypatch):
    class Impostor(Framework):
        name = "torch"
        import_name = "numpy"
        initializers_module = "x"

    real = registry.metadata.entry_points

    class EP:
        name = "torch"

        def load(self):
            return Impostor

    monkeypatch.setattr(registry.metadata, "entry_points",
                        lambda group=None, **kw: [EP()] if group == registry.ENTRY_POINT_GROUP else real(group=group, **kw))
    registry.refresh()
    try:
        assert type(registry.lookup("torch")).__name__ == "TorchFramework"
    finally:
        monkeypatch.undo()
        registry.refresh()


# ------------------------------------------------------------------ mutation self-test of the checks
def _mutant(stub: Framework, **overrides) -> Framework:
    """The stub framework with one part broken (a subclass overriding exactly that part)."""
    return type("Mutant", (type(stub),), overrides)()


def _seedless(self, fn, shape):  # every seed gives the same draw
    draw = np.random.default_rng(0).normal(size=shape).astype(np.float32)
    return lambda seed: draw.copy()


def _stateful(self, fn, shape):  # draws from hidden state, not from the seed
    rng = np.random.default_rng(0)
    return lambda seed: rng.normal(size=shape).astype(np.float32)


def _global(self, fn, shape):  # draws from numpy's global RNG, not from the seed alone
    return lambda seed: (np.random.default_rng(seed).normal(size=shape)
                         + np.random.normal(size=shape)).astype(np.float32)


def _integer(self, fn, shape):  # a non-floating draw
    return lambda seed: np.random.default_rng(seed).integers(-3, 3, size=shape)


def _short(self, fn, shape):  # one value short of the subject's shape
    return lambda seed: np.random.default_rng(seed).normal(size=(shape[0], shape[1] - 1)).astype(np.float32)


def _padded_shape(self, layer):  # a layout that stores more values than the layer has weights
    return (*type(self).__mro__[1].shape(self, layer), 2)


def _greedy(self, fn):  # claims every callable
    return True


def _lossy_view(self, module, parts, name, batch, seed):  # drops the last parameter tensor
    view = type(self).__mro__[1].view(self, module, parts, name, batch, seed)
    return type(view)(view.framework, view.name, view.params[:-1], view.nodes[:-1], view.probe)


MUTANTS = [
    ("seed ignored", {"wrap": _seedless}, conformance.check_sampler_independence),
    ("hidden RNG state", {"wrap": _stateful}, conformance.check_sampler_determinism),
    ("global RNG beside the seed", {"wrap": _global}, conformance.check_sampler_isolation),
    ("integer draws", {"wrap": _integer}, conformance.check_draw_shape_dtype),
    ("wrong draw shape", {"wrap": _short}, conformance.check_draw_shape_dtype),
    ("layout holds extra values", {"shape": _padded_shape}, conformance.check_layout_fans),
    ("claims every callable", {"owns_callable": _greedy}, conformance.check_owns_callable),
    ("view drops a tensor", {"view": _lossy_view}, conformance.check_model_view),
    ("bad name", {"name": "not a name"}, conformance.check_identity),
]


@pytest.mark.parametrize("what, overrides, check", MUTANTS, ids=[m[0] for m in MUTANTS])
def test_check_rejects_a_broken_framework(what, overrides, check, stub_installed):
    """Each conformance check fails on a framework broken in the way it guards against ..."""
    with pytest.raises(AssertionError):
        check(_mutant(stub_installed, **overrides))


@pytest.mark.parametrize("what, overrides, check", MUTANTS, ids=[m[0] for m in MUTANTS])
def test_check_accepts_the_intact_framework(what, overrides, check, stub_installed):
    """... and passes on the same framework intact."""
    check(stub_installed)
