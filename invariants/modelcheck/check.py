"""``check_model``: run every check on a model and collect the report."""
from __future__ import annotations

import contextlib
import time
from typing import Any, Callable, Iterable, Mapping

import numpy as np

from invariants.core.cost import Cost, Limits
from invariants.core.cost import check as check_cost
from invariants.core.imports import import_attribute
from invariants.frameworks.errors import BadModel, FrameworkMissing
from invariants.frameworks.model import (NO_PROBE_REASON, RANDOM_ROLES, ModelView, keep_inferred_inputs, no_probe,
                                         unpack_model)
from invariants.frameworks.probe_seeding import probe_seeded
from invariants.frameworks.registry import framework_of, lookup
from invariants.modelcheck import checks as C
from invariants.modelcheck.profiles import Profile, get_profile
from invariants.core.errors import UsageError
from invariants.modelcheck.coverage import coverage, empty, non_finite, without
from invariants.modelcheck.bias_spread import bias_judgement
from invariants.modelcheck.cost import estimate, less_hint
from invariants.modelcheck.default_decay import cite_torch_default
from invariants.modelcheck.expect import expectation_findings, parse_expectations, select
from invariants.modelcheck.expect import plan as plan_expectations
from invariants.modelcheck.magnitude import name_magnitudes
from invariants.modelcheck.report import ERROR, MIN_COVERAGE, NOTE, Finding, ModelReport, dtype_counts
from invariants.modelcheck.signal import MIN_CLASS, signal
from invariants.modelcheck.stream import check_streamed, streams
from invariants.modelcheck.variance import constant_row, match, model_budget, units, variance_findings


def load_target(target: str) -> Any:
    """Import ``module:attr`` and return the model object: ``attr`` itself if it is already a model (or a
    tuple/dict of one), else ``attr()`` (a zero-argument factory).

    Raises:
        BadModel: malformed target, import failure, missing attribute, or a factory that raises (``SystemExit``
            included: a factory calling ``sys.exit`` is the target's error, not the end of the check).
    """
    if not isinstance(target, str) or target.count(":") != 1 or not all(target.split(":")):
        raise BadModel(f"target {target!r} is not MODULE:FACTORY (e.g. mypkg.models:build_model)")
    mod_name, attr = target.split(":")
    obj = import_attribute(mod_name, attr, BadModel)
    if _is_model_like(obj) or not callable(obj):
        return obj
    try:
        return obj()
    except (Exception, SystemExit) as exc:  # noqa: BLE001  the user's factory may raise anything, even exit
        what = f"SystemExit({exc.code!r})" if isinstance(exc, SystemExit) else \
            f"{type(exc).__name__}: {' '.join(str(exc).split())}"
        raise BadModel(f"{target}() raised {what}") from None


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
        BadModel: ``framework`` is named but does not own ``obj`` (a torch module checked as keras).
        FrameworkMissing: the framework is named but not installed.
        UnknownFramework: ``framework`` is not a framework with a model check.
    """
    return owner(obj, framework).model_view(obj, name, example_input, batch, seed)


def owner(obj: Any, framework: str | None = None) -> Any:
    """The registered framework that checks ``obj`` (``framework`` forces one), with the object's form
    validated: what :func:`model_view` refuses, refused before any work (the cost estimate included).

    Raises:
        BadModel, FrameworkMissing, UnknownFramework: as :func:`model_view`.
    """
    fw = lookup(framework, "models") if framework else framework_of(obj)
    if not fw.available():
        raise FrameworkMissing(fw.name, fw.install_hint)
    if framework and not fw.owns_model(obj):
        model = unpack_model(obj).model
        raise BadModel(f"framework {framework!r}: the object is a {type(model).__module__}.{type(model).__qualname__}, "
                       f"not a {fw.name} model")
    if fw.second_is_input and isinstance(obj, (tuple, list)) and len(obj) > 2:
        # a torch/Keras model holds its parameters: (model, x) is the whole contract, a third element is a mistake
        kinds = ", ".join(type(x).__name__ for x in obj)
        raise BadModel(f"a {fw.name} model is given as the model or (model, example_input); got a {len(obj)}-tuple "
                       f"({kinds}); pass several positional inputs as one tuple: (model, (x1, x2))")
    return fw


def check_view(view: ModelView, profile: Profile, min_coverage: float = MIN_COVERAGE,
               probe: bool = True, expect: Any = None) -> ModelReport:
    """Run the checks on an extracted view.

    Args:
        view: the extracted model.
        profile: the statistical profile.
        min_coverage: share of parameter values that must be analysed for a verdict other than
            ``incomplete`` (:attr:`~invariants.modelcheck.report.Coverage.min_share`).
        probe: ``False``: signal propagation not checked, by request (a probe in ``view`` is dropped);
            the report may still be healthy.
        expect: ``PATTERN=SPEC`` expectations (:mod:`invariants.modelcheck.expect`), or ``None``.

    Raises:
        UsageError: an expectation that is malformed, selects no tensor, or overlaps another ambiguously.
    """
    t0 = time.perf_counter()
    if not probe:
        view.probe, view.probe_error = None, NO_PROBE_REASON
    findings: list[Finding] = []
    expectations = parse_expectations(expect, view.framework) if expect else []
    if expectations:
        select(view, expectations)  # every pattern selects something in the whole model (a non-finite tensor too)
    dtypes = dtype_counts(p.value.dtype.name for p in view.params)  # as read, before any tensor is set aside
    view, zero = empty(view)  # 0-element tensors (nn.Linear(0, 4)): legal, nothing to check
    bad = non_finite(view)
    if bad:
        findings += [f for _, f in bad]
        view = without(view, {p.name for p, _ in bad})
    exp_plan = plan_expectations(view, expectations, profile.max_values, strict=False) if expectations else None
    if view.probe is None and view.probe_error and probe:
        findings.append(Finding(NOTE, "probe", (), f"no probe pass: {view.probe_error}. Signal propagation is not "
                                "measured and gradient-based decisions (ties, revival) fall back to static rules."))
    findings += C.identical_tensors(view)
    findings += C.constant_tensors(view)
    findings += C.dead_units(view)
    findings += C.interchangeable_units(view)
    findings += C.copied_embedding_rows(view)
    findings += C.packed_orthogonal(view)
    us = units(view, profile.max_values)
    alpha = model_budget(us, profile.total_alpha, view.hints, extra=exp_plan.n_checks if exp_plan else 0).per_check
    results = [(u, match(u, view, alpha, profile.power)) for u in us]
    expected = exp_plan.labels if exp_plan else set()  # their law is stated and tested: no scheme guessing
    findings += variance_findings(view, [(u, m) for u, m in results if u.label not in expected], alpha,
                                  profile.power, profile.total_alpha)
    exp_cov: dict[str, Any] = {}
    if exp_plan is not None:
        exp_findings, exp_cov = expectation_findings(exp_plan, alpha, profile.power, {u.label: m for u, m in results})
        findings += exp_findings
    sig_findings, summary = signal(view, profile.note_ratio, profile.error_ratio)
    cite_torch_default(sig_findings, results)
    findings += sig_findings
    rows = [m.row for _, m in results]
    done = {u.param.name for u in us}
    rows += [constant_row(p) for p in view.params if p.role in RANDOM_ROLES and p.name not in done and p.size >= 2
             and p.is_constant()]
    order = {p.name: i for i, p in enumerate(view.params)}
    rows.sort(key=lambda r: order.get(r.name.split("[")[0], len(order)))
    name_magnitudes(findings, view.params)
    findings.sort(key=lambda f: 0 if f.severity == ERROR else 1)
    probe_text = view.probe.input if view.probe is not None else f"none ({view.probe_error})"
    if view.probe is not None:
        probe_text = f"{view.probe.batch} inputs, {view.probe.input}" + stochastic_text(view.probe.stochastic)
    cov = coverage(view, [p for p, _ in bad], min_coverage, probe, profile.max_values, zero,
                   bias_judgement(view, alpha, profile.power, profile.max_values)[1])
    cov.expected = exp_cov
    if summary and summary.get("not_decided") and cov.signal is None:
        cov.signal = summary["not_decided"]  # never folded into a pass: the report is incomplete
    if summary is not None and not summary.get("classes") and cov.signal is None:
        # measured, but no trend through depth: the verdict says on how many layers and why not (a keras-hub
        # model whose blocks collided on one name read 'checked' with its trend skipped)
        cov.no_trend = (len(summary["layers"]), f"no depth trend: a hidden stack of {len(summary['stack'])} "
                        f"layer(s) holds no sibling class of {MIN_CLASS} or more layers at one width")
    n_params = len(view.params) + len(bad) + len(zero)
    n_values = view.n_values + sum(p.size for p, _ in bad)
    return ModelReport(view.name, view.framework, profile.name, findings, rows, summary, probe_text,
                       n_params, n_values, time.perf_counter() - t0, cov,
                       config={**run_config(profile, min_coverage, probe, expect), "alpha": alpha}, dtypes=dtypes)


def stochastic_text(stochastic: list[str]) -> str:
    """What made the probe pass random, for the report's probe line (``""`` when nothing did): the active
    stochastic layers and the global RNGs the forward drew from (:attr:`Probe.stochastic
    <invariants.frameworks.model.Probe>`), each seeded with the check's seed, so the figures are reproducible
    with that seed and move with it."""
    if not stochastic:
        return ""
    return (f"; stochastic in this pass: {', '.join(stochastic)}; every global RNG seeded with the check's seed "
            "(the signal figures are those of that seed)")


def _leading(input_shape: Any, example_input: Any) -> int | None:
    """The probe batch the caller gave: the first number of ``input_shape`` (its first shape's, for several
    inputs), else the leading axis of ``example_input`` (its first tensor's); ``None`` when neither says."""
    shape = input_shape
    if isinstance(shape, dict):
        shape = next(iter(shape.values()), None)
    if isinstance(shape, (tuple, list)) and shape and isinstance(shape[0], (tuple, list)):
        shape = shape[0]
    if isinstance(shape, (tuple, list)) and shape and isinstance(shape[0], (int, np.integer)):
        return int(shape[0])
    x = example_input
    if isinstance(x, dict):
        x = next(iter(x.values()), None)
    if isinstance(x, (tuple, list)) and x:
        x = x[0]
    dims = getattr(x, "shape", None)
    return int(dims[0]) if dims is not None and len(dims) else None


def run_config(profile: Profile, min_coverage: float, probe: bool, expect: Any = None) -> dict[str, Any]:
    """The ``config`` of a model check's JSON: the profile's ``rel_error``, ``power``, ``total_alpha``, the
    coverage floor, whether the probe was asked for, and the expectations as given."""
    if isinstance(expect, str):
        expect = [expect]
    texts = [f"{k}={v}" for k, v in expect.items()] if isinstance(expect, dict) else [str(e) for e in expect or []]
    return {"profile": profile.name, "rel_error": profile.rel_error, "power": profile.power,
            "total_alpha": profile.total_alpha, "min_coverage": min_coverage, "probe": probe, "expect": texts}


def check_model(model: Any, *, example_input: Any = None, profile: "str | Profile | None" = None, seed: int = 0,
                name: str | None = None, framework: str | None = None, min_coverage: float = MIN_COVERAGE,
                probe: bool = True, input_shape: "Shapes | None" = None,
                expect: "Iterable[str] | Mapping[str, Any] | None" = None,
                progress: bool | None = None,
                limits: Limits | None = None,
                on_estimate: "Callable[[Cost, str | None], None] | None" = None) -> ModelReport:
    """Check a model's initialization: copies, constants, dead and interchangeable units, per-tensor
    variance against the named schemes, and signal propagation on a probe batch.

    Args:
        model: a torch ``nn.Module``, a Keras model, a Flax ``(module, variables)`` pair, a reference
            ``(Architecture, params)`` pair (any of them optionally with an example input as a last
            tuple element, or as a dict, see :class:`invariants.frameworks.model.ModelParts`), or
            ``"module:factory"``.  A torch example input may be a tuple (positional) or a dict
            (keyword arguments, e.g. ``{"input_ids": ids}``).
        example_input: the probe input (default: given with the model, or inferred from the model's
            config or its first layer).
        profile: ``"fast"``, ``"thorough"``, a :class:`Profile`, or ``None`` (the current one).
        seed: seed of the probe input, the probe loss and the framework RNG during the probe.
        name: display name.
        framework: force the framework instead of detecting it.
        min_coverage: share of the parameter values that must be analysed for a ``healthy`` verdict
            (below: ``incomplete``).
        probe: ``False``: no probe pass (signal propagation not checked, by request; may be healthy).
        input_shape: build the probe input from shapes instead (``example_input`` wins): a shape
            (``N(0, 1)`` float32, positional) or ``{keyword: shape}`` (a keyword ending in ``ids``
            gets token ids uniform in ``[0, vocab)``), see :func:`example_from_shapes`.
        expect: expected schemes, ``["Linear=normal(std=0.02)", "*.bias=zeros"]`` (``PATTERN=SPEC``: a
            parameter-name pattern or a module type, and :func:`~invariants.specs.parse_spec` text resolved by
            the model's framework) or a ``{pattern: spec}`` mapping; each selected tensor is tested against
            its spec and a mismatch is an error ``expectation`` (:mod:`invariants.modelcheck.expect`).
        progress: a meta-device model's per-module bar on stderr (``None``: when stderr is a terminal;
            :func:`~invariants.modelcheck.stream.check_streamed`); the command line passes ``False`` and draws
            its own line.
        limits: refuse the model before any check when its estimated cost
            (:func:`invariants.modelcheck.cost.model_cost`: memory beyond the model itself, seconds) exceeds
            them; ``None`` (default): no limit (the command line passes ``--max-memory``/``--max-seconds``).
        on_estimate: called, before any check, with the estimated :class:`~invariants.core.cost.Cost`
            (the probe's activations and a JAX-traced probe's XLA compile on a cold cache included:
            :func:`invariants.modelcheck.cost.estimate`) and its note on what it leaves out or assumes
            (``None``: nothing); the command line prints it on stderr.  With neither ``limits``
            nor ``on_estimate`` nothing is estimated.

    Returns:
        :class:`~invariants.modelcheck.report.ModelReport` (``.status`` healthy / unhealthy / incomplete,
        ``.ok`` = healthy, ``.coverage``, ``.findings``, ``.errors``, ``.notes``, ``.to_dict()``; drawn by
        :func:`invariants.render.render_model`).

    Raises:
        BadModel: the object is not a supported model (or the target cannot be loaded), or token ids are
            asked for a model whose vocabulary size cannot be read.
        FrameworkMissing: its framework is not installed.
        UsageError: an expectation that is malformed, selects no tensor, or overlaps another ambiguously;
            expectations on a meta-device model (checked one module at a time); an unknown profile; a
            ``min_coverage`` outside [0, 1] or a negative ``seed``.
        ResourceLimit: the estimated cost exceeds ``limits`` (a :class:`UsageError`; one line giving the
            ``limits=Limits(...)`` that would admit the model; the command line names its flag instead).
    """
    prof = get_profile(profile)
    if isinstance(min_coverage, bool) or not isinstance(min_coverage, (int, float)) or not 0 <= min_coverage <= 1:
        raise UsageError(f"min_coverage: expected a share in [0, 1], got {min_coverage!r}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise UsageError(f"seed: expected an integer >= 0, got {seed!r}")
    t0 = time.perf_counter()
    if isinstance(model, str):
        name = name or model
        model = load_target(model)
    if name is None:
        first = model[0] if isinstance(model, (tuple, list)) and model else \
            model.get("model", model.get("module")) if isinstance(model, dict) else model
        name = type(first).__name__
    streamed = streams(model)  # nothing below edits the model: whether it streams is read once
    if example_input is None and input_shape is not None and not streamed:
        example_input = example_from_shapes(unpack_model(model).model, input_shape, seed)
    # the cost estimate's shape pass and the streamed modules run the model's code too: the caller's global
    # RNGs are seeded around all of it and restored after (the probe view seeds them again, for itself)
    with probe_seeded(seed), keep_inferred_inputs():  # the estimate's inferred input is the probe's: built once
        if limits is not None or on_estimate is not None:
            if not streamed:  # a malformed object or expectation is refused as such, not estimated first
                expectations = parse_expectations(expect, owner(model, framework).name)
                if expectations:  # one that selects nothing too: the parameters read without the probe
                    with no_probe():
                        select(model_view(model, name, None, prof.probe_batch, seed, framework), expectations)
            cost, excludes = estimate(model, prof.max_values, example_input, prof.probe_batch, seed, probe)
            if limits is not None:  # a refusal names the estimate itself
                check_cost(cost, limits, f"check-model of {name}",
                           less_hint(probe, _leading(input_shape, example_input)))
            if on_estimate is not None:
                on_estimate(cost, excludes)
        if streamed:  # a meta-device model: one module at a time, no probe
            if expect:
                raise UsageError("expect is not supported for a meta-device model (checked one module at a time); "
                                 "materialize it first")
            report = check_streamed(model, profile=prof, seed=seed, name=name, probe=probe,
                                    min_coverage=min_coverage, progress=progress)
            report.seconds = time.perf_counter() - t0
            report.config = {**run_config(prof, min_coverage, probe), **report.config, "seed": seed}
            return report
        with contextlib.nullcontext() if probe else no_probe():
            view = model_view(model, name, example_input, prof.probe_batch, seed, framework)
    report = check_view(view, prof, min_coverage, probe, expect)
    report.seconds = time.perf_counter() - t0
    report.config["seed"] = seed
    return report


Shape = tuple[int, ...]
Shapes = "Shape | dict[str, Shape]"


def vocab_size(model: Any) -> int | None:
    """The vocabulary size a model declares: ``model.config.vocab_size`` (HuggingFace), else the first
    embedding table's rows (torch ``num_embeddings``, Keras ``input_dim``); ``None`` if neither."""
    v = getattr(getattr(model, "config", None), "vocab_size", None)
    if isinstance(v, int) and v > 0:
        return v
    subs = model.modules() if hasattr(model, "modules") and callable(model.modules) else \
        getattr(model, "_flatten_layers", lambda **k: [])(include_self=True, recursive=True)
    for m in subs:
        for attr in ("num_embeddings", "input_dim"):
            n = getattr(m, attr, None)
            if isinstance(n, int) and n > 0 and type(m).__name__.startswith("Embedding"):
                return n
    return None


def example_from_shapes(model: Any, shapes: Any, seed: int = 0) -> Any:
    """A probe input from shapes (``check-model --input-shape``): a shape gives one ``N(0, 1)`` float32
    array (positional); ``{name: shape}`` gives keyword inputs, token ids uniform in ``[0, vocab)``
    (:func:`vocab_size`) for a name ending in ``ids`` (``input_ids``, ``decoder_input_ids``), else
    ``N(0, 1)`` float32.

    Raises:
        BadModel: token ids asked for a model whose vocabulary size cannot be read.
    """
    rng = np.random.default_rng(seed)
    if not isinstance(shapes, dict):
        return rng.standard_normal(tuple(shapes)).astype(np.float32)
    out = {}
    for key, shape in shapes.items():
        if key.endswith("ids"):
            v = vocab_size(model)
            if v is None:
                raise BadModel(f"input shape {key!r}: cannot read the model's vocabulary size for token ids; "
                               "return (model, example_input) from the factory")
            out[key] = rng.integers(0, v, size=tuple(shape)).astype(np.int64)
        else:
            out[key] = rng.standard_normal(tuple(shape)).astype(np.float32)
    return out


__all__ = ["check_model", "check_view", "example_from_shapes", "load_target", "owner", "run_config", "vocab_size"]
