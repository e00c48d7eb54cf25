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

    Returns:
        :class:`~invariants.audit.auditor.AuditReport` (``.ok``, ``.results``, ``.to_dict()``); a single
        ``skipped`` result when the framework is not installed.

    Raises:
        ValueError: bad spec or layer text, no ``expect`` for an unknown function, or a layer larger than
            ``config.max_elements`` (2^24 elements by default).
        BadInitializer: ``fn`` raises, returns a wrong shape/dtype or non-finite values, or ``"module:attr"``
            cannot be imported.
        UnknownFramework: unknown ``framework``.
    """
    from dataclasses import replace

    from invariants.audit.auditor import AuditReport, audit_subjects, skipped_result
    from invariants.core.errors import FrameworkUnavailable
    from invariants.frameworks.registry import get_framework
    from invariants.frameworks.subjects import Expectation
    from invariants.layers import Layer, parse_layer
    from invariants.specs import framework_name

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
    if isinstance(expectation.spec, Orthogonal):
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
    subjects = [adapter.subject_for(fn, lay, expectation, name) for lay in parsed]
    return audit_subjects(subjects, config)


def catalogue(framework: str, config: Any = None, progress: Any = None) -> Any:
    """Audit a framework's whole catalogue of initializers and layer defaults.

    Returns:
        :class:`~invariants.audit.auditor.AuditReport`; one ``skipped`` result if the framework is not
        installed (with the install hint).

    Raises:
        UnknownFramework: unknown ``framework``.
    """
    from invariants.audit.auditor import AuditReport, audit_subjects, skipped_result
    from invariants.core.errors import FrameworkUnavailable
    from invariants.frameworks.registry import get_framework

    try:
        adapter = get_framework(framework, "initializers")
        subjects = adapter.catalogue()
    except FrameworkUnavailable as exc:
        return AuditReport(results=[skipped_result(framework, str(exc))])
    return audit_subjects(subjects, config, progress=progress, catch=True)


def identify(fn: Any, framework: str = "numpy", layers: Any = None, config: Any = None) -> Any:
    """Fingerprint an initializer; see :func:`invariants.audit.fingerprint.identify`."""
    from invariants.audit.fingerprint import identify as _identify

    return _identify(fn, framework, layers, config)


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
