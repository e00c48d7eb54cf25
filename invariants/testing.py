"""Assertions for a project's own test suite: one call per initializer, one per model.

::

    from invariants.testing import assert_initializer, assert_init_healthy, assert_scales

    def test_conv_init():
        assert_initializer(my_conv_init, expect="he_normal", layer="conv2d(32,64,k=3)", framework="torch")

    def test_model_init():
        assert_init_healthy(build_model())          # torch, Keras, Flax (module, variables), reference

    def test_width_scaling():
        assert_scales(build_model, widths=(64, 128, 256, 512), expect="mup", steps=(0, 1))  # torch

Both raise ``AssertionError`` with the figures (measured vs expected variance, the explanation the
auditor found; each model finding with its parameter names), so pytest shows why.  Statistical
resolution follows the current profile (:mod:`invariants.modelcheck.profiles`: ``fast`` by default;
the pytest plugin's ``--invariants-profile=thorough`` for nightly runs).  Under the plugin the seeds
derive from the test's node id, so a failure reproduces when the test is rerun alone.
"""
from __future__ import annotations

import inspect
import textwrap
import warnings
from typing import TYPE_CHECKING, Any, Callable, Iterable, Mapping

from invariants.modelcheck.profiles import Profile, get_profile

if TYPE_CHECKING:  # pragma: no cover
    from invariants.audit import LayerArg
    from invariants.audit.auditor import AuditReport
    from invariants.modelcheck.report import ModelReport
    from invariants.scaling.report import ScaleReport
    from invariants.specs import Spec

#: set by the pytest plugin for the running test (see :func:`current_seed`)
_test_seed: int | None = None


def current_seed(default: int = 0) -> int:
    """The running test's seed under the pytest plugin, else ``default``."""
    return default if _test_seed is None else int(_test_seed)


def set_test_seed(seed: int | None) -> int | None:
    """Set the running test's seed (the pytest plugin, per test; ``None``: no test running).

    Returns:
        the seed set before, to restore after the test.
    """
    global _test_seed
    previous, _test_seed = _test_seed, seed
    return previous


def guess_framework(fn: Any) -> str:
    """The calling convention of ``fn``: the registered framework that owns it
    (:meth:`~invariants.frameworks.base.Framework.owns_callable`: ``torch.nn.init.*`` -> torch, ``keras.*``
    -> keras, ``jax.*`` -> jax, ``flax.*`` -> flax, ...), else by its required positional parameters: 1
    named ``shape`` -> keras (``f(shape, dtype=None)``), 1 other -> torch (``f(tensor)`` in place), 2 ->
    numpy (``f(shape, rng)``), 3 -> jax (``f(key, shape, dtype)``).  Pass ``framework=`` when in doubt."""
    from invariants.frameworks.registry import frameworks

    for fw in frameworks("initializers"):
        if fw.owns_callable(fn):
            return fw.name
    try:
        params = [p for p in inspect.signature(fn).parameters.values()
                  if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) and p.default is p.empty]
    except (TypeError, ValueError):
        return "numpy"
    if len(params) == 1:
        return "keras" if params[0].name == "shape" else "torch"
    return {2: "numpy", 3: "jax"}.get(len(params), "numpy")


def audit_config(profile: "str | Profile | None" = None, base_seed: int = 0) -> Any:
    """The :class:`~invariants.audit.auditor.AuditConfig` of a statistical profile (its ``rel_error``,
    ``power`` and ``total_alpha``) with ``base_seed``; ``profile`` as for :func:`get_profile`.

    Built here, above both engines: the profile belongs to the model check's layer, the config to the
    auditor's, and neither imports the other (``tests/core/test_layering.py``).
    """
    from invariants.audit.auditor import AuditConfig

    prof = get_profile(profile)
    return AuditConfig(rel_error=prof.rel_error, power=prof.power, total_alpha=prof.total_alpha,
                       base_seed=int(base_seed))


def _skip(message: str) -> None:
    try:
        import pytest
    except ImportError:  # pragma: no cover - pytest is a dependency
        raise AssertionError(message) from None
    pytest.skip(message)


def assert_initializer(fn: "Callable[..., Any] | str", expect: "str | Spec | None" = None,
                       layer: "LayerArg | None" = None, *, framework: str = "auto",
                       profile: "str | Profile | None" = None, seed: int | None = None,
                       target: str | None = None) -> "AuditReport":
    """Assert that ``fn`` draws from ``expect`` on every ``layer`` (the auditor's full set of checks).

    Args:
        fn: the initializer (``"module:attr"`` works too) in ``framework``'s calling convention.
        expect: spec text (``"he_normal"``, ``"normal(std=0.02)"``, ``"orthogonal"``) or spec object;
            ``None`` for a framework function whose documented spec is known.
        layer: layer text (``"conv2d(32,64,k=3)"``, ``"dense(300,100)"``, ``"lstm(32,64)"``), a ``(fan_in,
            fan_out)`` pair, or a list of them (:func:`invariants.audit.as_layers`).
        framework: ``"auto"`` (:func:`guess_framework`), ``numpy``, ``torch``, ``jax``, ``flax``, ``keras``.
        profile: ``fast`` (5% variance error detected with power 0.99), ``thorough`` (1%), or the current.
        seed: base seed of the draws (default: the test's seed under the plugin, else 0).
        target: display name.

    Returns:
        the :class:`~invariants.audit.auditor.AuditReport`.

    Raises:
        AssertionError: some tensor deviates (documented framework conventions pass); the message has
            the measured and expected figures and the auditor's explanation.
        UserWarning (warned, not raised): a pass at a coarser resolution than the profile's ``rel_error``
            (``AuditConfig.max_draws`` capped a small tensor's draws), naming the tensors and the bound.
        ValueError: bad spec or layer text.  The test is skipped when the framework is not installed.
    """
    __tracebackhide__ = True  # pytest shows the caller's line and this message, not our frames
    from invariants import audit
    from invariants.audit.auditor import SKIPPED

    prof = get_profile(profile)
    fw = guess_framework(fn) if framework == "auto" else framework
    report = audit.initializer(fn, expect=expect, layer=layer, framework=fw,
                               config=audit_config(prof, current_seed() if seed is None else seed), target=target)
    if report.results and all(r.verdict == SKIPPED for r in report.results):
        _skip(report.results[0].message)
    if not report.ok:
        name = target or getattr(fn, "__qualname__", None) or str(fn)
        bad = [r for r in report.results if r.verdict not in ("conforms", "documented-deviation", "skipped")]
        lines = [f"{name} does not draw from {expect if expect is not None else 'its documented spec'} "
                 f"({len(bad)} of {len(report.results)} tensors; {prof.name} profile: variance errors >= "
                 f"{100 * prof.rel_error:g}% detected with power {prof.power:g}, family-wise alpha {prof.total_alpha:g}):"]
        for r in bad:
            lines.append(textwrap.fill(f"{r.verdict} on {r.layer or r.target}: {r.message}", 110,
                                       initial_indent="  - ", subsequent_indent="    "))
        raise AssertionError("\n".join(lines))
    if report.coverage:  # a pass at a coarser resolution than the profile asks is said, not hidden
        warnings.warn(report.coverage, stacklevel=2)
    return report


def assert_init_healthy(model: Any, *, example_input: Any = None, profile: "str | Profile | None" = None,
                        seed: int | None = None, allow: Iterable[str] = (), strict: bool = False,
                        allow_incomplete: bool = False,
                        expect: "Iterable[str] | Mapping[str, Any] | None" = None) -> "ModelReport":
    """Assert that a model's initialization is healthy (:func:`invariants.modelcheck.check_model`): no errors,
    and a complete check (coverage and signal propagation), so an unread model never passes.

    Args:
        model: a torch ``nn.Module``, a Keras model, a Flax ``(module, variables)`` pair, a reference
            ``(Architecture, params)`` pair, or ``"module:factory"``.
        example_input: probe input (default: inferred from the first layer).
        profile: statistical profile (default: the current one).
        seed: probe seed (default: the test's seed under the plugin, else 0).
        allow: finding kinds to accept (e.g. ``("signal-forward",)`` for a deliberately deep net).
        strict: fail on notes too.
        allow_incomplete: accept an ``incomplete`` report (less than the profile's coverage analysed, or
            no probe pass); by default it fails with the reasons, since what was not checked did not pass.
        expect: expected schemes, e.g. ``["Linear=normal(std=0.02)", "*.bias=zeros"]`` (``PATTERN=SPEC``, see
            :mod:`invariants.modelcheck.expect`); a tensor that does not match fails with an ``expectation``
            finding (measured vs expected std, the scheme it does match).

    Returns:
        the :class:`~invariants.modelcheck.report.ModelReport`.

    Raises:
        AssertionError: errors (or, with ``strict``, notes), each finding with its parameters and figures;
            or an incomplete check (unless ``allow_incomplete``), with what was not checked.
        BadModel: not a supported model.
        UsageError: an expectation that is malformed or selects no tensor.
    """
    __tracebackhide__ = True
    from invariants.modelcheck import check_model

    prof = get_profile(profile)
    report = check_model(model, example_input=example_input, profile=prof, seed=current_seed() if seed is None else seed,
                         expect=expect)
    allowed = set(allow)
    bad = [f for f in report.findings if f.kind not in allowed and (f.severity == "error" or strict)]
    if not bad and report.coverage is not None and not report.coverage.complete and not allow_incomplete:
        raise AssertionError(f"{report.model} ({report.framework}): the initialization check is incomplete: "
                             f"{'; '.join(report.coverage.why_incomplete())} (pass allow_incomplete=True to accept "
                             "a partial check)")
    if bad:
        lines = [f"{report.model} ({report.framework}) initialization is not healthy: {len(bad)} finding(s) "
                 f"({prof.name} profile; probe: {report.probe}):"]
        for f in bad:
            lines.append(textwrap.fill(f"{f.severity} {f}", 110, initial_indent="  - ", subsequent_indent="    "))
        lines.append("(`invariants check-model MODULE:FACTORY` prints the per-tensor table and the signal profile)")
        raise AssertionError("\n".join(lines))
    return report


def assert_scales(factory: "Callable[[int], Any] | str", widths: Iterable[int] = (64, 128, 256, 512), *,
                  expect: str = "theta1", steps: Iterable[int] = (0,), seeds: int = 16, optimizer: str = "adam",
                  lr: float | None = None, allow_incomplete: bool = False) -> "ScaleReport":
    """Assert that a model family scales as expected with width (:func:`invariants.scaling.scale_check`).

    Args:
        factory: ``factory(width) -> torch.nn.Module`` (or ``(module, example_input)``), or ``"module:factory"``.
        widths: at least 2 distinct widths.
        expect: ``theta1`` (every tensor Θ(1)), ``sp`` or ``mup`` (the parametrization's predicted slopes).
        steps: optimizer steps at which to record (0: initialization).
        seeds: seeds per width (the slopes' t-intervals are over them; 16 decide most MLP roles).
        optimizer, lr: the optimizer of ``steps`` and its base rate.
        allow_incomplete: accept undecided quantities and failed widths.

    Returns:
        the :class:`~invariants.scaling.report.ScaleReport`.

    Raises:
        AssertionError: a quantity scales against the expectation (each finding with its slope, interval and
            cause), or the check is incomplete (unless ``allow_incomplete``).
        UsageError: a malformed request; BadModel: an unusable factory.
    """
    __tracebackhide__ = True
    from invariants.scaling import scale_check

    report = scale_check(factory, list(widths), steps=list(steps), seeds=seeds, optimizer=optimizer, lr=lr,
                         expect=expect)
    if report.errors or (report.status == "incomplete" and not allow_incomplete):
        shown = report.errors or [f for f in report.findings if f.kind == "undecided"]
        lines = [report.summary] + [textwrap.fill(f"{f.severity} {f}", 110, initial_indent="  - ",
                                                  subsequent_indent="    ") for f in shown]
        lines += [f"  - size {n} failed: {why}" for n, why in report.coverage.failed.items()]
        raise AssertionError("\n".join(lines))
    return report


__all__ = ["assert_init_healthy", "assert_initializer", "assert_scales", "audit_config", "current_seed", "guess_framework",
           "set_test_seed"]
