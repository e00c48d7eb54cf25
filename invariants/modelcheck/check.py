"""``check_model``: run every check on a model and collect the report."""
from __future__ import annotations

import time
from typing import Any

from invariants.core.imports import import_attribute
from invariants.frameworks.errors import BadModel
from invariants.frameworks.model import ModelView
from invariants.frameworks.registry import framework_of, lookup
from invariants.modelcheck import checks as C
from invariants.modelcheck.profiles import Profile, get_profile
from invariants.modelcheck.report import ERROR, NOTE, Finding, ModelReport
from invariants.modelcheck.signal import signal
from invariants.modelcheck.stream import check_streamed, streams
from invariants.modelcheck.variance import constant_row, match, model_budget, units, variance_findings


def load_target(target: str) -> Any:
    """Import ``module:attr`` and return the model object: ``attr`` itself if it is already a model (or a
    tuple/dict of one), else ``attr()`` (a zero-argument factory).

    Raises:
        BadModel: malformed target, import failure, missing attribute, or a factory that raises.
    """
    if not isinstance(target, str) or target.count(":") != 1 or not all(target.split(":")):
        raise BadModel(f"target {target!r} is not MODULE:FACTORY (e.g. mypkg.models:build_model)")
    mod_name, attr = target.split(":")
    obj = import_attribute(mod_name, attr, BadModel)
    if _is_model_like(obj) or not callable(obj):
        return obj
    try:
        return obj()
    except Exception as exc:  # noqa: BLE001  the user's factory may raise anything
        raise BadModel(f"{target}() raised {type(exc).__name__}: {' '.join(str(exc).split())}") from None


def _is_model_like(obj: Any) -> bool:
    if isinstance(obj, type):
        return False
    try:
        framework_of(obj)
        return True
    except BadModel:
        return False


def model_view(obj: Any, name: str = "model", example_input: Any = None, batch: int = 32, seed: int = 0,
               framework: str | None = None) -> ModelView:
    """The :class:`~invariants.frameworks.model.ModelView` of any accepted model object.

    Args:
        obj: the model, or a tuple/dict packing it (:class:`~invariants.frameworks.model.ModelParts`).
        name: display name.
        example_input: probe input (overrides one packed in ``obj``).
        batch: probe batch size when the input is inferred.
        seed: seed of the probe input, the probe loss's ``r`` and the framework RNG (dropout).
        framework: force a framework (default: the registered framework that owns ``obj``).

    Raises:
        BadModel: an unsupported object or inconsistent parts.
        FrameworkMissing: the framework is named but not installed.
        UnknownFramework: ``framework`` is not a framework with a model check.
    """
    fw = lookup(framework, "models") if framework else framework_of(obj)
    return fw.model_view(obj, name, example_input, batch, seed)


def check_view(view: ModelView, profile: Profile) -> ModelReport:
    """Run the checks on an extracted view."""
    t0 = time.perf_counter()
    findings: list[Finding] = []
    if view.probe is None and view.probe_error:
        findings.append(Finding(NOTE, "probe", (), f"no probe pass: {view.probe_error}. Signal propagation is not "
                                "measured and gradient-based decisions (ties, revival) fall back to static rules."))
    findings += C.identical_tensors(view)
    findings += C.constant_tensors(view)
    findings += C.dead_units(view)
    findings += C.interchangeable_units(view)
    findings += C.packed_orthogonal(view)
    us = units(view, profile.max_values)
    alpha = model_budget(us, profile.total_alpha).per_check
    results = [(u, match(u, view, alpha, profile.power)) for u in us]
    findings += variance_findings(view, results, alpha, profile.power, profile.total_alpha)
    sig_findings, summary = signal(view, profile.note_ratio, profile.error_ratio)
    findings += sig_findings
    rows = [m.row for _, m in results]
    done = {u.param.name for u in us}
    from invariants.frameworks.model import RANDOM_ROLES

    rows += [constant_row(p) for p in view.params if p.role in RANDOM_ROLES and p.name not in done and p.size >= 2
             and p.is_constant()]
    order = {p.name: i for i, p in enumerate(view.params)}
    rows.sort(key=lambda r: order.get(r.name.split("[")[0], len(order)))
    findings.sort(key=lambda f: 0 if f.severity == ERROR else 1)
    probe_text = view.probe.input if view.probe is not None else f"none ({view.probe_error})"
    if view.probe is not None:
        probe_text = f"{view.probe.batch} inputs, {view.probe.input}"
    return ModelReport(view.name, view.framework, profile.name, findings, rows, summary, probe_text,
                       len(view.params), view.n_values, time.perf_counter() - t0)


def check_model(model: Any, *, example_input: Any = None, profile: "str | Profile | None" = None, seed: int = 0,
                name: str | None = None, framework: str | None = None) -> ModelReport:
    """Check a model's initialization: copies, constants, dead and interchangeable units, per-tensor
    variance against the named schemes, and signal propagation on a probe batch.

    Args:
        model: a torch ``nn.Module``, a Keras model, a Flax ``(module, variables)`` pair, a reference
            ``(Architecture, params)`` pair (any of them optionally with an example input as a last
            tuple element, or as a dict, see :class:`invariants.frameworks.model.ModelParts`), or
            ``"module:factory"``.
        example_input: the probe input (default: given with the model, or inferred from its first layer).
        profile: ``"fast"``, ``"thorough"``, a :class:`Profile`, or ``None`` (the current one).
        seed: seed of the probe input, the probe loss and the framework RNG during the probe.
        name: display name.
        framework: force the framework instead of detecting it.

    Returns:
        :class:`~invariants.modelcheck.report.ModelReport` (``.ok`` = healthy, ``.findings``, ``.errors``, ``.notes``,
        ``.to_dict()``; drawn by :func:`invariants.render.render_model`).

    Raises:
        BadModel: the object is not a supported model (or the target cannot be loaded).
        FrameworkMissing: its framework is not installed.
    """
    prof = get_profile(profile)
    t0 = time.perf_counter()
    if isinstance(model, str):
        name = name or model
        model = load_target(model)
    if name is None:
        first = model[0] if isinstance(model, (tuple, list)) and model else \
            model.get("model", model.get("module")) if isinstance(model, dict) else model
        name = type(first).__name__
    if streams(model):  # a meta-device model: one module at a time, no probe
        return check_streamed(model, profile=prof, seed=seed, name=name)
    view = model_view(model, name, example_input, prof.probe_batch, seed, framework)
    report = check_view(view, prof)
    report.seconds = time.perf_counter() - t0
    return report


__all__ = ["check_model", "check_view", "load_target"]
