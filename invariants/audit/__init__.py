"""Initializer auditing: specs as data, layers and fans, statistical conformance, fingerprinting.

Python API (mirrors ``invariants audit`` / ``invariants identify``)::

    from invariants import audit
    report = audit.initializer(my_init, expect="he_normal", layer="conv2d(32,64,k=3)", framework="numpy")
    report.ok, report.results, report.to_dict()
    audit.catalogue("torch")            # every torch initializer and layer default
    audit.identify(my_init)             # fingerprint: family, fan mode, scale constant

Frameworks are optional: a missing one gives a ``skipped`` result with the install hint.
"""
import time
import typing

from invariants.core import errors
from invariants.core.timeout import DEFAULT_TIMEOUT
from invariants.specs import (
    DISTRIBUTIONS,
    GLOROT_NORMAL,
    GLOROT_UNIFORM,
    HE_NORMAL,
    HE_UNIFORM,
    KAIMING_NORMAL_TORCH,
    LECUN_NORMAL,
    LECUN_UNIFORM,
    MODES,
    NAMED_SPECS,
    ONES,
    SPEC_ALIASES,
    TRUNCATED_NORMAL_STD,
    TRUNCATION,
    XAVIER_NORMAL_TORCH,
    ZEROS,
    Constant,
    Normal,
    Orthogonal,
    Spec,
    TruncatedNormal,
    Uniform,
    VarianceScaling,
    parse_spec,
)

# no ``from __future__ import annotations`` here: it would bind ``annotations`` among this package's public
# names; the annotations below name lazily imported types as strings instead
if typing.TYPE_CHECKING:  # pragma: no cover
    from invariants.audit.auditor import AuditConfig, AuditReport
    from invariants.core.cost import Limits
    from invariants.audit.fingerprint import Fingerprint
    from invariants.frameworks.subjects import Expectation
    from invariants.layers import Layer

#: layers used when ``initializer`` is given none: fan_in != fan_out and a receptive field > 1
DEFAULT_AUDIT_LAYERS = ("dense(300,100)", "conv2d(16,48,k=3)")

#: what ``layer=`` / ``layers=`` accept: layer text, a :class:`~invariants.layers.Layer`, a ``(fan_in, fan_out)``
#: pair of integers (``dense(fan_in, fan_out)``), or a list/tuple of those
LayerArg = typing.Union[str, "Layer", typing.Tuple[int, int], typing.Sequence[typing.Union[str, "Layer",
                                                                                         typing.Tuple[int, int]]]]

#: progress callback of an audit: ``progress(i, total, name, None)`` before each subject (one initializer call
#: of ``total``) and ``progress(i, total, name, result)`` after it, once per result (a packed tensor gives one
#: per block) (:func:`invariants.audit.auditor.audit_subjects`)
ProgressCallback = typing.Callable[[int, int, str, typing.Any], None]


def as_layers(layer: "LayerArg | None", default: typing.Sequence[str] = DEFAULT_AUDIT_LAYERS,
              what: str = "layer") -> "list[Layer]":
    """The layers of a ``layer=`` argument, parsed.

    Args:
        layer: layer text (``"conv2d(32,64,k=3)"``), a :class:`~invariants.layers.Layer`, a pair of integers
            ``(fan_in, fan_out)`` (read as ``dense(fan_in, fan_out)``), or a list or tuple of those; ``None``:
            ``default``.
        default: the layers when ``layer`` is ``None``.
        what: the argument's name in error messages (``layer``, ``layers``).

    Raises:
        BadInput: malformed layer text, an integer tuple that is not a pair of sizes >= 0, an empty list,
            or an object of another type (one line naming the argument).
    """
    from invariants.core.errors import BadInput
    from invariants.layers import Layer, parse_layer

    def one(x: typing.Any) -> Layer:
        if isinstance(x, Layer):
            return x
        if isinstance(x, str):
            return parse_layer(x)
        if isinstance(x, tuple) and x and all(isinstance(v, int) and not isinstance(v, bool) for v in x):
            if len(x) != 2 or min(x) < 0:
                raise BadInput(f"{what}={x!r}: a tuple of integers means (fan_in, fan_out) of a dense layer and needs "
                               "2 sizes >= 0; give layer text for other layers, e.g. 'conv2d(32,64,k=3)'")
            return parse_layer(f"dense({x[0]},{x[1]})")
        raise BadInput(f"{what}: expected layer text such as 'dense(300,100)', a Layer, or a (fan_in, fan_out) pair, "
                       f"got {type(x).__name__} {x!r}"[:300])

    if layer is None:
        return [one(x) for x in default]
    if isinstance(layer, (str, Layer)) or (isinstance(layer, tuple) and layer
                                           and all(isinstance(v, int) for v in layer)):
        return [one(layer)]
    if not isinstance(layer, (list, tuple)):
        return [one(layer)]
    if not layer:
        raise BadInput(f"{what}: no layer given (an empty {type(layer).__name__})")
    return [one(x) for x in layer]


class NoSpec(errors.UsageError):
    """No ``expect`` was given for a function whose documented spec is not known (``.target``, ``.framework``)."""

    def __init__(self, target: str, framework: str) -> None:
        super().__init__(f"no expect given and {target} is not a known {framework} initializer; give a spec, e.g. "
                         "expect='he_normal' (or fingerprint it with invariants.audit.identify)")
        self.target, self.framework = target, framework


def _expectation(expect: typing.Any, framework: str, fn: typing.Any, name: str, adapter: typing.Any) -> "Expectation":
    from invariants.frameworks.subjects import Expectation
    from invariants.specs import framework_name

    if expect is None:
        expectation = adapter.known_expectation(fn)
        if expectation is None:
            raise NoSpec(name, framework)
        return expectation
    if isinstance(expect, Expectation):
        return expect
    if isinstance(expect, str):
        # a framework-ambiguous name (he_normal) means the framework's own law, and the label says which
        return Expectation(parse_spec(expect, framework=framework), label=framework_name(expect, framework) or "")
    if isinstance(expect, Spec):
        return Expectation(expect)
    raise errors.UsageError(f"expect: expected spec text such as 'he_normal', a Spec or an Expectation, got "
                     f"{type(expect).__name__} {expect!r}"[:300])


def initializer(
    fn: "typing.Callable[..., typing.Any] | str",
    expect: "str | Spec | Expectation | None" = None,
    layer: "LayerArg | None" = None,
    framework: str = "numpy",
    config: "AuditConfig | None" = None,
    target: "str | None" = None,
    dtype: typing.Any = None,
    progress: "ProgressCallback | None" = None,
    timeout: "float | None" = DEFAULT_TIMEOUT,
    limits: "Limits | None" = None,
) -> "AuditReport":
    """Audit one initializer against a spec on one or more layers.

    Args:
        fn: the initializer in ``framework``'s calling convention (numpy: ``f(shape, rng) -> array``;
            torch: ``f(tensor)`` in place), or ``"module:attr"``.
        expect: spec text (``"he_normal"``, ``"normal(std=0.02)"``, ...; a framework-ambiguous name such as
            ``he_normal`` is resolved by ``framework``, :func:`invariants.specs.parse_spec`), a spec object, or an
            :class:`~invariants.frameworks.subjects.Expectation`; ``None``: the framework's documented
            spec for a known function (e.g. ``torch.nn.init.xavier_uniform_``).
        layer: layer text (``"conv2d(32,64,k=3,groups=32)"``), a :class:`~invariants.layers.Layer`, a
            ``(fan_in, fan_out)`` pair (``dense``), or a list of them (:func:`as_layers`); default
            :data:`DEFAULT_AUDIT_LAYERS`.  Fans are the layer's textbook fans.
        framework: a registered framework with initializers (:func:`invariants.frameworks.registry.names`
            ``("initializers")``: ``numpy``, ``torch``, ``jax``, ``flax``, ``keras``, ...).
        config: :class:`~invariants.audit.auditor.AuditConfig` (default: its defaults).
        target: display name (default: the function's qualified name).
        dtype: ``float16``, ``bfloat16``, ``float32``, ``float64`` (or a numpy/torch/JAX dtype of that name):
            the tensor is requested from the framework in that dtype (torch: created in it; JAX and Keras:
            the initializer's ``dtype`` argument; numpy: a ``dtype`` keyword when ``fn`` takes one, else
            ``fn``'s result as it comes), the check ``dtype_returned`` fails a draw in another dtype, and the
            law is audited at that precision (:mod:`invariants.stats.precision`).  ``complex64`` is refused
            (no complex law).  ``None``: the framework's float32, unchecked.
        progress: called before and after each tensor (:data:`ProgressCallback`).
        timeout: seconds each call of ``fn`` may take (:mod:`invariants.core.timeout`: enforced on Unix in the
            main thread, else not, as the report's ``config["timeout_enforced"]`` says); ``0`` or ``None``: no
            limit.  Default :data:`~invariants.core.timeout.DEFAULT_TIMEOUT` (120 s).
        limits: :class:`~invariants.core.cost.Limits` on the estimated peak memory and time, checked before
            the first draw (:mod:`invariants.audit.costs`); ``None``: the defaults (4 GiB, 900 s);
            ``Limits(None, None)``: none.

    Returns:
        :class:`~invariants.audit.auditor.AuditReport` (``.ok``, ``.results``, ``.to_dict()``); a single
        ``skipped`` result when the framework is not installed.

    Raises:
        BadInput: bad spec or layer text, or a layer larger than ``config.max_elements`` (2^24 elements by
            default).
        NoSpec: no ``expect`` for an unknown function (a :class:`~invariants.core.errors.UsageError`).
        UsageError: an unknown or complex ``dtype``, or one the
            framework's adapter cannot request.
        BadInitializer: ``fn`` raises (``SystemExit`` included), returns a wrong shape/dtype or non-finite
            values, or ``"module:attr"`` cannot be imported; ``InitializerTimedOut`` (a subclass): a call of
            ``fn`` did not return within ``timeout``.
        UsageError: a negative or non-numeric ``timeout``.
        UnknownFramework: unknown ``framework``.
        ResourceLimit: the estimated cost is over ``limits`` (a :class:`~invariants.core.errors.UsageError`).
    """
    from dataclasses import replace

    from invariants.audit.auditor import AuditConfig, AuditReport, audit_subjects, skipped_result
    from invariants.audit.costs import AUDIT_LESS, audit_cost
    from invariants.core.cost import check as check_cost
    from invariants.core.errors import FrameworkUnavailable
    from invariants.core.timeout import check_seconds, per_call
    from invariants.frameworks.dtypes import parse_dtype, require_real
    from invariants.frameworks.registry import get_framework

    dtype = parse_dtype(dtype)
    seconds = check_seconds(timeout)
    try:
        adapter = get_framework(framework, "initializers")
    except FrameworkUnavailable as exc:
        return AuditReport(results=[skipped_result(target or str(fn), str(exc))], frameworks=(framework,))
    parsed = as_layers(layer)
    if isinstance(fn, str):
        name = target or fn
        fn = adapter.load(fn)
    else:
        name = target or f"{getattr(fn, '__module__', '') or ''}.{getattr(fn, '__qualname__', repr(fn))}".lstrip(".")
    expectation = _expectation(expect, framework, fn, name, adapter)
    require_real(dtype, expectation.spec.text())
    if hasattr(expectation.spec, "for_unit_axis"):  # orthogonal, dirac: the framework's own layout
        expectation = replace(expectation, spec=expectation.spec.for_unit_axis(adapter.layout.unit_axis))
    subjects = [adapter.subject_for(fn, lay, expectation, name, dtype) for lay in parsed]
    cfg = config or AuditConfig()
    check_cost(audit_cost(subjects, cfg, framework), limits,
               f"audit of {name} on {', '.join(lay.describe() for lay in parsed)} at rel_error {cfg.rel_error:g}",
               AUDIT_LESS)
    with per_call(seconds) as limit:
        report = audit_subjects(subjects, config, progress=progress)
    report.frameworks = (framework,)
    report.config.update({"dtype": dtype, **limit.to_dict()})
    return report


def catalogue(framework: str, config: "AuditConfig | None" = None, progress: "ProgressCallback | None" = None,
              dtype: typing.Any = None, dtype_check: bool = True,
              timeout: "float | None" = DEFAULT_TIMEOUT, limits: "Limits | None" = None) -> "AuditReport":
    """Audit a framework's whole catalogue of initializers and layer defaults.

    Args:
        framework: a registered framework with initializers.
        config: :class:`~invariants.audit.auditor.AuditConfig`.
        progress: as :func:`~invariants.audit.auditor.audit_subjects`.
        dtype: audit the catalogue's initializers in this dtype only (as :func:`initializer`'s ``dtype``;
            layer defaults and initializers that cannot be asked for a dtype are left out; one the framework
            does not implement in it is ``skipped``).
        dtype_check: without ``dtype``, also audit each initializer once in the framework's low-precision
            dtype (:data:`invariants.audit.precision.LOW_PRECISION_DTYPE`: bfloat16 for torch, JAX, Equinox
            and MLX, float16 for Keras; Flax's layer defaults and numpy's reference samplers none), results
            marked ``@dtype``; the run's Bonferroni split counts them.
        timeout: seconds each call of an initializer may take, as :func:`initializer`'s; a call past it makes
            that subject an ``error`` result (not checked, never a pass) and the run goes on.  Calls the
            framework adapter makes without :func:`invariants.frameworks.subjects.call_initializer` (torch
            layer constructors) are not limited.
        limits: as :func:`initializer`'s.

    Returns:
        :class:`~invariants.audit.auditor.AuditReport`; one ``skipped`` result if the framework is not
        installed (with the install hint; the command line refuses that case instead, exit 2).

    Raises:
        UnknownFramework: unknown ``framework``.
        UsageError: an unknown or complex ``dtype``, a ``dtype`` no initializer of the catalogue can be asked
            for (Flax's, numpy's: nothing would be audited), a negative or non-numeric ``timeout``.
        ResourceLimit: the estimated cost is over ``limits``.
    """
    from invariants.audit.auditor import AuditConfig, AuditReport, audit_subjects, skipped_result
    from invariants.audit.costs import AUDIT_LESS, audit_cost
    from invariants.core.cost import check as check_cost
    from invariants.audit.precision import dtype_pass
    from invariants.core.errors import FrameworkUnavailable
    from invariants.core.timeout import check_seconds, per_call
    from invariants.frameworks.dtypes import parse_dtype, require_real
    from invariants.frameworks.registry import get_framework

    t0 = time.perf_counter()
    dtype = parse_dtype(dtype)
    seconds = check_seconds(timeout)
    require_real(dtype, f"the {framework} catalogue")
    try:
        adapter = get_framework(framework, "initializers")
        subjects = adapter.catalogue()
    except FrameworkUnavailable as exc:
        return AuditReport(results=[skipped_result(framework, str(exc))], frameworks=(framework,))
    if dtype is not None:
        subjects = dtype_pass(framework, subjects, dtype)
        if not subjects:  # an audit of nothing must not read as a pass
            raise errors.UsageError(f"dtype {dtype}: no initializer of the {framework} catalogue can be asked for a "
                                    f"dtype (it is drawn in float32 only), so nothing would be audited; audit it "
                                    "without a dtype")
    elif dtype_check:
        subjects = subjects + dtype_pass(framework, subjects)
    cfg = config or AuditConfig()
    check_cost(audit_cost(subjects, cfg, framework), limits,
               f"audit of the {framework} catalogue at rel_error {cfg.rel_error:g}", AUDIT_LESS)
    with per_call(seconds) as limit:
        report = audit_subjects(subjects, config, progress=progress, catch=True)
    report.frameworks = (framework,)
    report.config.update({"dtype": dtype, **limit.to_dict()})
    # the whole run, not only audit_subjects' loop: importing the framework and building its catalogue count too
    report.seconds = time.perf_counter() - t0
    report.timed = "loading the framework, building the catalogue, drawing and testing"
    return report


def identify(fn: "typing.Callable[..., typing.Any] | str", framework: str = "numpy", layers: "LayerArg | None" = None,
             config: "AuditConfig | None" = None, dtype: typing.Any = None,
             timeout: "float | None" = DEFAULT_TIMEOUT, limits: "Limits | None" = None) -> "Fingerprint":
    """Fingerprint an initializer (drawn in ``dtype``, as :func:`initializer`'s); ``layers`` as
    :func:`initializer`'s ``layer`` (default :data:`invariants.audit.fingerprint.DEFAULT_LAYERS`); ``timeout``
    and ``limits`` as :func:`initializer`'s; see :func:`invariants.audit.fingerprint.identify`.

    Raises:
        BadInput: malformed ``layers`` (:func:`as_layers`), or layers without fans or values.
        BadInitializer: ``fn`` misbehaves (``InitializerTimedOut``: a call past ``timeout``).
        UsageError: a negative or non-numeric ``timeout``.
        FrameworkUnavailable, UnknownFramework: as :func:`invariants.frameworks.registry.get_framework`.
        ResourceLimit: the estimated cost is over ``limits``.
    """
    from invariants.audit.fingerprint import DEFAULT_LAYERS
    from invariants.audit.fingerprint import identify as fingerprint
    from invariants.core.timeout import check_seconds, per_call

    seconds = check_seconds(timeout)
    with per_call(seconds) as limit:
        fp = fingerprint(fn, framework, as_layers(layers, DEFAULT_LAYERS, "layers"), config, dtype=dtype,
                         limits=limits)
    fp.config.update(limit.to_dict())
    return fp


def __getattr__(name: str) -> typing.Any:
    # lazy re-exports of the auditor types (keeps ``import invariants.audit`` light)
    if name in ("AuditConfig", "AuditReport", "AuditResult", "audit_subjects"):
        from invariants.audit import auditor

        return getattr(auditor, name)
    if name in ("Layer", "parse_layer"):
        from invariants import layers

        return getattr(layers, name)
    raise AttributeError(f"module 'invariants.audit' has no attribute {name!r}")


__all__ = [
    "DEFAULT_AUDIT_LAYERS",
    "DEFAULT_TIMEOUT",
    "DISTRIBUTIONS",
    "GLOROT_NORMAL",
    "GLOROT_UNIFORM",
    "HE_NORMAL",
    "HE_UNIFORM",
    "KAIMING_NORMAL_TORCH",
    "LECUN_NORMAL",
    "LECUN_UNIFORM",
    "MODES",
    "NAMED_SPECS",
    "ONES",
    "SPEC_ALIASES",
    "TRUNCATED_NORMAL_STD",
    "TRUNCATION",
    "XAVIER_NORMAL_TORCH",
    "ZEROS",
    "AuditConfig",
    "AuditReport",
    "AuditResult",
    "Constant",
    "Layer",
    "Normal",
    "Orthogonal",
    "Spec",
    "TruncatedNormal",
    "Uniform",
    "VarianceScaling",
    "LayerArg",
    "NoSpec",
    "ProgressCallback",
    "as_layers",
    "audit_subjects",
    "catalogue",
    "identify",
    "initializer",
    "parse_layer",
    "parse_spec",
]
