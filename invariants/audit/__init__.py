"""Initializer auditing: specs as data, layers and fans, statistical conformance, fingerprinting.

Python API (mirrors ``invariants audit`` / ``invariants identify``)::

    from invariants import audit
    report = audit.initializer(my_init, expect="he_normal", layer="conv2d(32,64,k=3)", framework="numpy")
    report.ok, report.results, report.to_dict()
    audit.catalogue("torch")            # every torch initializer and layer default
    audit.identify(my_init)             # fingerprint: family, fan mode, scale constant

Frameworks are optional: a missing one gives a ``skipped`` result with the install hint.
"""
from __future__ import annotations

from typing import Any, Sequence

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

#: layers used when ``initializer`` is given none: fan_in != fan_out and a receptive field > 1
DEFAULT_AUDIT_LAYERS = ("dense(300,100)", "conv2d(16,48,k=3)")


def initializer(
    fn: Any,
    expect: "str | Spec | Any | None" = None,
    layer: "str | Any | Sequence[str | Any] | None" = None,
    framework: str = "numpy",
    config: Any = None,
    target: str | None = None,
    dtype: Any = None,
) -> Any:
    """Audit one initializer against a spec on one or more layers.

    Args:
        fn: the initializer in ``framework``'s calling convention (numpy: ``f(shape, rng) -> array``;
            torch: ``f(tensor)`` in place), or ``"module:attr"``.
        expect: spec text (``"he_normal"``, ``"normal(std=0.02)"``, ...; a framework-ambiguous name such as
            ``he_normal`` is resolved by ``framework``, :func:`invariants.specs.parse_spec`), a spec object, or an
            :class:`~invariants.frameworks.subjects.Expectation`; ``None``: the framework's documented
            spec for a known function (e.g. ``torch.nn.init.xavier_uniform_``).
        layer: layer text (``"conv2d(32,64,k=3,groups=32)"``), a :class:`~invariants.layers.Layer`,
            or a list of them; default :data:`DEFAULT_AUDIT_LAYERS`.  Fans are the layer's textbook fans.
        framework: a registered framework with initializers (:func:`invariants.frameworks.registry.names`
            ``("initializers")``: ``numpy``, ``torch``, ``jax``, ``flax``, ``keras``, ...).
        config: :class:`~invariants.audit.auditor.AuditConfig`.
        target: display name (default: the function's qualified name).
        dtype: ``float16``, ``bfloat16``, ``float32``, ``float64`` (or a numpy/torch/JAX dtype of that name):
            the tensor is requested from the framework in that dtype (torch: created in it; JAX and Keras:
            the initializer's ``dtype`` argument; numpy: a ``dtype`` keyword when ``fn`` takes one, else
            ``fn``'s result as it comes), the check ``dtype_returned`` fails a draw in another dtype, and the
            law is audited at that precision (:mod:`invariants.stats.precision`).  ``complex64`` is refused
            (no complex law).  ``None``: the framework's float32, unchecked.

    Returns:
        :class:`~invariants.audit.auditor.AuditReport` (``.ok``, ``.results``, ``.to_dict()``); a single
        ``skipped`` result when the framework is not installed.

    Raises:
        ValueError: bad spec or layer text, no ``expect`` for an unknown function, or a layer larger than
            ``config.max_elements`` (2^24 elements by default).
        UsageError: an unknown or complex ``dtype``, or one the framework's adapter cannot request.
        BadInitializer: ``fn`` raises, returns a wrong shape/dtype or non-finite values, or ``"module:attr"``
            cannot be imported.
        UnknownFramework: unknown ``framework``.
    """
    from dataclasses import replace

    from invariants.audit.auditor import AuditReport, audit_subjects, skipped_result
    from invariants.core.errors import FrameworkUnavailable
    from invariants.frameworks.dtypes import parse_dtype, require_real
    from invariants.frameworks.registry import get_framework
    from invariants.frameworks.subjects import Expectation
    from invariants.layers import Layer, parse_layer
    from invariants.specs import framework_name

    dtype = parse_dtype(dtype)
    try:
        adapter = get_framework(framework, "initializers")
    except FrameworkUnavailable as exc:
        return AuditReport(results=[skipped_result(target or str(fn), str(exc))])
    if isinstance(fn, str):
        name = target or fn
        fn = adapter.load(fn)
    else:
        name = target or f"{getattr(fn, '__module__', '') or ''}.{getattr(fn, '__qualname__', repr(fn))}".lstrip(".")
    if expect is None:
        expectation = adapter.known_expectation(fn)
        if expectation is None:
            raise ValueError(f"no --expect given and {name} is not a known {framework} initializer; "
                             "give a spec, e.g. he_normal (or fingerprint it with `invariants identify`)")
    elif isinstance(expect, Expectation):
        expectation = expect
    else:
        # a framework-ambiguous name (he_normal) means the framework's own law, and the label says which
        expectation = Expectation(parse_spec(expect, framework=framework), label=framework_name(expect, framework) or
                                  "") if isinstance(expect, str) else Expectation(expect)
    require_real(dtype, expectation.spec.text())
    if hasattr(expectation.spec, "for_unit_axis"):  # orthogonal, dirac: the framework's own layout
        expectation = replace(expectation, spec=expectation.spec.for_unit_axis(adapter.layout.unit_axis))
    if layer is None:
        layers = list(DEFAULT_AUDIT_LAYERS)
    elif isinstance(layer, (str, Layer)):
        layers = [layer]
    else:
        layers = list(layer)
    if not layers:
        raise ValueError("no layer given")
    parsed = [parse_layer(x) if isinstance(x, str) else x for x in layers]
    subjects = [adapter.subject_for(fn, lay, expectation, name, dtype) for lay in parsed]
    return audit_subjects(subjects, config)


def catalogue(framework: str, config: Any = None, progress: Any = None, dtype: Any = None,
              dtype_check: bool = True) -> Any:
    """Audit a framework's whole catalogue of initializers and layer defaults.

    Args:
        framework: a registered framework with initializers.
        config: :class:`~invariants.audit.auditor.AuditConfig`.
        progress: as :func:`~invariants.audit.auditor.audit_subjects`.
        dtype: audit the catalogue's initializers in this dtype only (as :func:`initializer`'s ``dtype``;
            layer defaults and initializers that cannot be asked for a dtype are left out).
        dtype_check: without ``dtype``, also audit each initializer once in the framework's low-precision
            dtype (:func:`invariants.audit.precision.dtype_pass`: bfloat16, Keras and numpy float16),
            results marked ``@dtype``; the run's Bonferroni split counts them.

    Returns:
        :class:`~invariants.audit.auditor.AuditReport`; one ``skipped`` result if the framework is not
        installed (with the install hint).

    Raises:
        UnknownFramework: unknown ``framework``.
        UsageError: an unknown or complex ``dtype``.
    """
    from invariants.audit.auditor import AuditReport, audit_subjects, skipped_result
    from invariants.audit.precision import dtype_pass
    from invariants.core.errors import FrameworkUnavailable
    from invariants.frameworks.dtypes import parse_dtype, require_real
    from invariants.frameworks.registry import get_framework

    dtype = parse_dtype(dtype)
    require_real(dtype, f"the {framework} catalogue")
    try:
        adapter = get_framework(framework, "initializers")
        subjects = adapter.catalogue()
    except FrameworkUnavailable as exc:
        return AuditReport(results=[skipped_result(framework, str(exc))])
    if dtype is not None:
        subjects = dtype_pass(framework, subjects, dtype)
    elif dtype_check:
        subjects = subjects + dtype_pass(framework, subjects)
    return audit_subjects(subjects, config, progress=progress, catch=True)


def identify(fn: Any, framework: str = "numpy", layers: Any = None, config: Any = None, dtype: Any = None) -> Any:
    """Fingerprint an initializer (drawn in ``dtype``, as :func:`initializer`'s); see
    :func:`invariants.audit.fingerprint.identify`."""
    from invariants.audit.fingerprint import identify as _identify

    return _identify(fn, framework, layers, config, dtype=dtype)


def __getattr__(name: str) -> Any:
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
    "audit_subjects",
    "catalogue",
    "identify",
    "initializer",
    "parse_layer",
    "parse_spec",
]
