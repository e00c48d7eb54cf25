"""Checks every framework must pass (as scikit-learn's ``parametrize_with_checks`` for estimators).

Each check takes a :class:`~invariants.frameworks.base.Framework` and returns ``None`` or raises
``AssertionError`` naming what is wrong; a check that needs the framework installed raises
:class:`~invariants.core.errors.FrameworkUnavailable` when it is not (a test suite skips then, saying
so).  :func:`checks` lists the checks that apply to a framework; :func:`parametrize_with_checks` turns
them into one pytest case per (framework, check)::

    from invariants.frameworks import conformance
    from invariants.frameworks.registry import frameworks

    @conformance.parametrize_with_checks(frameworks())
    def test_conformance(framework, check):
        check(framework)

The checks:

- :func:`check_identity`: name, requirements/install hint, layout, rows axis are well formed;
- :func:`check_unavailable`: with the framework missing, every entry point raises
  ``FrameworkUnavailable`` carrying the install hint, never another error;
- :func:`check_sampler_determinism` / :func:`check_sampler_independence` /
  :func:`check_draw_shape_dtype`: catalogue samplers (and wrapped example initializers) give the same
  array for the same seed, different arrays for different seeds (unless the expectation is a
  constant), of the subject's shape and a real floating dtype;
- :func:`check_sampler_isolation`: a draw depends on its seed alone, not on the state of any global RNG
  (Python's, numpy's, the framework's own);
- :func:`check_catalogue_well_formed`: names unique, every expectation and documented rule present,
  every documented rule cites its reference, framework fans computed on the subject's shape, packed
  blocks inside the tensor;
- :func:`check_layout_fans`: for every catalogue layer the weight shape in the framework's layout holds
  the layer's number of weights (as in the reference ``TORCH`` layout), and (ungrouped dense and conv
  layers) its layout's fan rule gives the textbook fans;
- :func:`check_owns_callable`: the framework recognises its example initializers and no other
  framework claims them;
- :func:`check_scaling_runner`: a framework with ``scale-check`` support returns a
  :class:`~invariants.frameworks.runner.ScalingRunner` of its own name (the runners' verdicts on the same
  SP/μP/faulty MLP are tests/scaling/test_runners.py's: they need the scaling engine, a layer above);
- :func:`check_model_view`: the view of the framework's small example model analyses every parameter
  value (``n_values`` equals the framework's own count), gives every random-role tensor a layer, and
  the probe runs.

The audit of the catalogue against the documented verdicts needs the auditor (a layer above this one)
and is run by the test suite (``tests/frameworks/test_conformance.py``) for every framework.
"""
from __future__ import annotations

import copy
import math
from typing import Any, Callable, Iterable, Sequence

import numpy as np

from invariants.core.errors import FrameworkUnavailable
from invariants.frameworks.base import Framework
from invariants.frameworks.model import RANDOM_ROLES
from invariants.frameworks.global_rng import all_seeded, global_rngs
from invariants.frameworks.subjects import Subject
from invariants.laws import flattening_name
from invariants.layers import TORCH, Conv, Dense, Layout, fans_from_shape
from invariants.specs import Constant, Normal

Check = Callable[[Framework], None]

#: how many catalogue subjects the sampler checks draw (spread over the catalogue): every subject
#: would cost a full catalogue build per seed, this keeps one framework's checks to seconds
SAMPLED_SUBJECTS = 6

#: the name a framework takes on when :func:`check_unavailable` simulates it missing
MISSING_MODULE = "invariants_conformance_missing_module"


# ---------------------------------------------------------------------------------------- helpers


def sampled_subjects(framework: Framework, k: int = SAMPLED_SUBJECTS) -> list[Subject]:
    """``k`` subjects spread evenly over the framework's catalogue (all when it has fewer), plus a
    subject wrapping each of its example initializers on ``dense(30,20)``."""
    from invariants.layers import parse_layer
    from invariants.frameworks.subjects import Expectation

    subjects = framework.catalogue()
    if len(subjects) > k:
        step = len(subjects) / k
        subjects = [subjects[int(i * step)] for i in range(k)]
    layer = parse_layer("dense(30,20)")
    for fn in framework.example_initializers():
        # the expectation is not tested here, only the sampler
        subjects.append(framework.subject_for(fn, layer, Expectation(Normal(0.0, 1.0)), f"example {fn!r}"))
    return subjects


def _missing(framework: Framework) -> Framework:
    clone = copy.copy(framework)
    clone.import_name = MISSING_MODULE  # type: ignore[misc]  an instance attribute shadows the class constant
    return clone


# ---------------------------------------------------------------------------------------- checks


def check_identity(framework: Framework) -> None:
    """Name, import name, requirements, layout (with a unit axis an orthogonal flattening keeps) and capabilities are well formed."""
    assert framework.name and framework.name.isidentifier(), f"bad name {framework.name!r}"
    assert framework.import_name, f"{framework.name}: no import name"
    assert framework.install_hint.startswith("pip install "), framework.install_hint
    assert isinstance(framework.layout, Layout), f"{framework.name}: layout {framework.layout!r} is not a Layout"
    try:
        flattening_name(framework.layout.unit_axis)
    except ValueError as exc:
        raise AssertionError(f"{framework.name}: its orthogonal initializers' flattening: {exc}") from None
    assert framework.supports_initializers or framework.supports_models, f"{framework.name} supports nothing"
    if framework.supports_models:
        assert framework.model_form, f"{framework.name}: checks models but states no model_form"
    if framework.supports_scaling:
        assert framework.scaling_form, f"{framework.name}: runs scale-check but states no scaling_form"


def check_unavailable(framework: Framework) -> None:
    """Missing, the framework says so with its install hint, from every entry point."""
    gone = _missing(framework)
    assert not gone.available()
    calls: list[tuple[str, Callable[[], Any]]] = [("require", gone.require)]
    if framework.supports_initializers:
        calls += [("catalogue", gone.catalogue), ("wrap", lambda: gone.wrap(lambda *a: None, (2, 3)))]
    if framework.supports_models:
        calls.append(("model_view", lambda: gone.model_view(object())))
    if framework.supports_scaling:
        calls.append(("scaling_runner", gone.scaling_runner))
    for what, call in calls:
        try:
            call()
        except FrameworkUnavailable as exc:
            assert exc.hint and framework.install_hint in str(exc), f"{framework.name}.{what}: hint missing: {exc}"
        else:
            raise AssertionError(f"{framework.name}.{what} with the framework missing raised nothing")


def check_sampler_determinism(framework: Framework) -> None:
    """The same seed gives the same array."""
    if not framework.supports_initializers:
        return
    for s in sampled_subjects(framework):
        a, b = s.sampler(7), s.sampler(7)
        assert np.array_equal(a, b), f"{s.name}: two draws with seed 7 differ"


def check_sampler_independence(framework: Framework) -> None:
    """Different seeds give different arrays (a constant expectation excepted)."""
    if not framework.supports_initializers:
        return
    for s in sampled_subjects(framework):
        if isinstance(s.expect.spec, Constant):
            continue
        assert not np.array_equal(s.sampler(1), s.sampler(2)), f"{s.name}: seeds 1 and 2 give the same draw"


def check_draw_shape_dtype(framework: Framework) -> None:
    """A draw is a numpy array of the subject's shape and a real floating dtype."""
    if not framework.supports_initializers:
        return
    for s in sampled_subjects(framework):
        x = s.sampler(0)
        assert isinstance(x, np.ndarray), f"{s.name}: draw is {type(x).__name__}, not a numpy array"
        assert x.shape == tuple(s.shape), f"{s.name}: draw of shape {x.shape}, subject says {s.shape}"
        assert x.dtype.kind == "f", f"{s.name}: draw of dtype {x.dtype}"


def check_catalogue_well_formed(framework: Framework) -> None:
    """Unique names, expectations and documented references present, fans and blocks fit the shape."""
    if not framework.supports_initializers:
        return
    subjects = framework.catalogue()
    assert subjects, f"{framework.name}: empty catalogue"
    seen: dict[tuple[str, ...], Subject] = {}
    for s in subjects:
        # one tensor may be listed once per expectation on different blocks (an LSTM bias: zeros, ones)
        key = (s.name, s.layer.describe() if s.layer is not None else "", s.call, s.expect.describe(),
               *(b.name for b in s.blocks))
        assert key not in seen, f"{framework.name}: subject {s.name} on {key[1]} listed twice"
        seen[key] = s
        assert s.expect is not None and s.expect.describe(), f"{s.name}: no expectation"
        if s.documented is not None:
            assert s.documented.reference, f"{s.name}: documented rule without a reference"
        if s.framework_fans is not None:
            # below 2 dims only a framework whose layout says so computes fans (Keras: (n, n), (1, 1))
            assert (len(s.shape) >= 2 or framework.layout.small_fans) and all(f > 0 for f in s.framework_fans), \
                f"{s.name}: fans {s.framework_fans}"
        for b in s.blocks:
            part = np.empty(s.shape, dtype=np.bool_)[b.index]
            assert part.size > 0, f"{s.name}[{b.name}]: block outside the tensor of shape {s.shape}"


def check_layout_fans(framework: Framework) -> None:
    """For every catalogue layer the layout shape holds the layer's weights, and the layout's fan rule
    gives the textbook fans on ungrouped dense and conv layers."""
    if not framework.supports_initializers:
        return
    layers = {s.layer.describe(): s.layer for s in framework.catalogue() if s.layer is not None}
    assert layers, f"{framework.name}: no catalogue subject names its layer"
    for text, layer in layers.items():
        shape = framework.shape(layer)
        n = math.prod(layer.shape(TORCH))  # the weights the layer has (the reference layout's count)
        assert math.prod(shape) == n, f"{framework.name}: {text} has shape {shape} in layout " \
            f"{framework.layout.name}, {math.prod(shape)} values for {n} weights"
        if isinstance(layer, (Dense, Conv)) and layer.groups == 1:
            got = fans_from_shape(shape, framework.layout)
            assert got == layer.textbook_fans(), f"{framework.name}: {text}: layout fans {got} != textbook " \
                f"{layer.textbook_fans()}"


def check_owns_callable(framework: Framework, others: Sequence[Framework] | None = None) -> None:
    """The framework owns its example initializers; no other framework (default: every registered
    one) owns them; it owns no plain Python function."""
    if not framework.supports_initializers:
        return
    if others is None:
        from invariants.frameworks.registry import frameworks

        others = frameworks()

    def plain(shape: Any, rng: Any) -> Any:  # a user's function: nobody's own initializer
        return None

    assert not framework.owns_callable(plain), f"{framework.name} claims a plain user function"
    for fn in framework.example_initializers():
        assert framework.owns_callable(fn), f"{framework.name} does not recognise its own {fn!r}"
        for other in others:
            if other.name != framework.name:
                assert not other.owns_callable(fn), f"{other.name} claims {framework.name}'s {fn!r}"


def check_model_view(framework: Framework) -> None:
    """The view of the framework's example model analyses every parameter value and the probe runs."""
    if not framework.supports_models:
        return
    example = framework.example_model()
    assert example is not None, f"{framework.name} checks models but gives no example model"
    obj, n_values = example
    assert framework.owns_model(obj), f"{framework.name} does not own its example model"
    view = framework.model_view(obj, "example", seed=0)
    assert view.framework == framework.name, f"view.framework {view.framework!r}"
    assert view.n_values == n_values, f"{framework.name}: view holds {view.n_values} of {n_values} parameter values"
    for p in view.params:
        if p.role in RANDOM_ROLES:
            assert p.layer is not None, f"{framework.name}: {p.name} ({p.role}) has no layer semantics"
    assert view.nodes, f"{framework.name}: no node with output units in the example model"
    assert view.probe is not None, f"{framework.name}: no probe pass: {view.probe_error}"


def check_sampler_isolation(framework: Framework) -> None:
    """A draw depends on its seed alone: reseeding every global RNG of the process
    (:func:`~invariants.frameworks.global_rng.global_rngs`, the framework's own included) between two draws
    with the same seed changes nothing."""
    if not framework.supports_initializers:
        return
    rngs = global_rngs()
    assert all(r.name for r in framework.global_rngs()), f"{framework.name}: a global RNG without a name"
    for s in sampled_subjects(framework):
        with all_seeded(rngs, 1):
            a = s.sampler(7)
        with all_seeded(rngs, 2):
            b = s.sampler(7)
        assert np.array_equal(a, b), f"{s.name}: the draw with seed 7 changes with the global RNGs' state"


def check_generator(framework: Framework) -> None:
    """``generator(seed)`` returns the framework's seeded generator."""
    assert framework.generator(0) is not None, f"{framework.name}: generator(0) is None"


def check_scaling_runner(framework: Framework) -> None:
    """The framework's ``scale-check`` runner is a :class:`~invariants.frameworks.runner.ScalingRunner` naming the
    framework; none where it has no scaling support."""
    from invariants.frameworks.runner import ScalingRunner

    runner = framework.scaling_runner()
    if not framework.supports_scaling:
        assert runner is None, f"{framework.name}: a scaling runner without scaling_module"
        return
    assert isinstance(runner, ScalingRunner), f"{framework.name}: scaling runner {runner!r} is no ScalingRunner"
    assert runner.name == framework.name, f"{framework.name}: its scaling runner is named {runner.name!r}"


ALL_CHECKS: tuple[Check, ...] = (
    check_identity, check_unavailable, check_generator, check_sampler_determinism, check_sampler_independence,
    check_draw_shape_dtype, check_catalogue_well_formed, check_layout_fans, check_owns_callable, check_model_view,
    check_sampler_isolation, check_scaling_runner,
)

#: checks that run without the framework installed
OFFLINE_CHECKS: tuple[Check, ...] = (check_identity, check_unavailable)


def checks(framework: Framework) -> list[Check]:
    """The checks that apply to ``framework`` (initializer checks only if it has initializers, the
    model check only if it checks models)."""
    out = list(OFFLINE_CHECKS) + [check_generator]
    if framework.supports_initializers:
        out += [check_sampler_determinism, check_sampler_independence, check_draw_shape_dtype,
                check_catalogue_well_formed, check_layout_fans, check_owns_callable, check_sampler_isolation]
    if framework.supports_models:
        out.append(check_model_view)
    if framework.supports_scaling:
        out.append(check_scaling_runner)
    return out


def parametrize_with_checks(frameworks: Iterable[Framework]) -> Any:
    """A ``pytest.mark.parametrize("framework, check", ...)`` over every applicable check of every
    framework, with ids ``<framework>-<check>``."""
    import pytest

    cases = [(fw, c) for fw in frameworks for c in checks(fw)]
    return pytest.mark.parametrize("framework, check", cases,
                                   ids=[f"{fw.name}-{c.__name__.removeprefix('check_')}" for fw, c in cases])


__all__ = [
    "ALL_CHECKS", "Check", "MISSING_MODULE", "OFFLINE_CHECKS", "SAMPLED_SUBJECTS", "check_catalogue_well_formed",
    "check_draw_shape_dtype", "check_generator", "check_identity", "check_layout_fans", "check_model_view",
    "check_owns_callable", "check_sampler_determinism", "check_sampler_independence", "check_sampler_isolation",
    "check_scaling_runner",
    "check_unavailable", "checks",
    "parametrize_with_checks", "sampled_subjects",
]
