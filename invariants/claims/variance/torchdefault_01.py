"""VAR-TORCHDEFAULT-01: PyTorch's default Linear/Conv init is U(±1/√fan_in): Var = 1/(3·fan_in), not He's
2/fan_in.
"""
from __future__ import annotations

import inspect
import os

import numpy as np
import sympy as sp

from invariants import propagation as prop
from invariants.claims.evidence import check
from invariants.claims.registry import Claim, Evidence, EvidenceResult, Verdict, mutant, register
from invariants.claims.variance.shared import QUOTE_FAN_IN, literature_check, stated_factor_check
from invariants.experiments.propagation import PROP_WIDTH, reference_profile
from invariants.symbolic import variance as symvar


@mutant("the default's variance mistyped as He's 2/fan_in",
        lambda: _torch_default_derivation(literature={"torch_default_variance": 2 / symvar.fan_in}))
def _torch_default_derivation(literature=None) -> EvidenceResult:
    ok, detail = literature_check(("torch_default_bound", "torch_default_variance"), literature)
    t = symvar.torch_default_linear()
    ok = ok and t.gain == 1 / sp.sqrt(3) and t.ratio_to_lecun == sp.Rational(1, 3) and t.ratio_to_he == sp.Rational(1, 6)
    return check(
        ok,
        f"kaiming_uniform_(a=√5): gain √(2/(1+5)) = {sp.sstr(t.gain)}, bound = {sp.sstr(t.bound)}, "
        f"Var = {sp.sstr(t.variance)} = {t.ratio_to_lecun}·LeCun = {t.ratio_to_he}·He; {detail}",
        f"mismatch: gain {t.gain}, variance {t.variance}; {detail}",
    )


#: Per-layer factors the statement quotes: forward (pre-activation second moment) and backward (gradient)
#: per linear layer 1/3 and per ReLU layer 1/6 forward; backward fan_out·Var(W)·E[φ'²] = 1/3 and 1/6 too.
STATED_FACTORS = {"identity": (1 / 3, 1 / 3), "relu": (1 / 6, 1 / 6)}


@mutant("the nets sampled with He's 2/fan_in instead of the default", lambda: _torch_default_depth(scheme="he"))
def _torch_default_depth(scheme: str = "torch_default") -> EvidenceResult:
    """``scheme``: the scheme the nets are sampled with (the mutation hook)."""
    lin, relu = reference_profile(scheme, "identity", 20), reference_profile(scheme, "relu", 20)
    checks = [stated_factor_check(p, STATED_FACTORS[p.activation][i], d) for p in (lin, relu)
              for i, d in enumerate(("forward", "backward"))]
    (_, fl, _), (_, bl, _), (_, fr, _), (_, br, tol) = checks
    ok = (lin.passed and relu.passed and all(c[0] for c in checks)
          and all(prop.forward_trend(p) == "vanishing" for p in (lin, relu)))
    detail = (f"U(±1/√fan_in) reference nets, width {PROP_WIDTH}, depth 20: linear per-layer factor forward "
              f"{fl:.3f} / backward {bl:.3f} (stated 1/3), ReLU {fr:.3f} / {br:.3f} (stated 1/6), each within "
              f"its derived tolerance (|log| ≤ {max(c[2] for c in checks):.3f}) and "
              f"all within the mean-field band; q_20/q_1 = {lin.forward_measured[-1] / lin.forward_measured[0]:.2g}"
              f" (linear), {relu.forward_measured[-1] / relu.forward_measured[0]:.2g} (ReLU)")
    return check(ok, detail, "unexpected: " + detail)


#: The call that PyTorch's Linear.reset_parameters and _ConvNd.reset_parameters make on the weight.
TORCH_DEFAULT_CALL = "kaiming_uniform_(self.weight, a=math.sqrt(5))"
#: Layers whose default weights the audit samples (the audit's layer text: textbook fans).
TORCH_DEFAULT_LAYERS = ("dense(300,100)", "conv2d(16,48,k=3)")


#: Per-run false-alarm budget of the weight audit, split over its checks by Bonferroni (each ≤ 1e-6).
TORCH_DEFAULT_ALPHA = 1e-6
#: Independent layers built per shape (their weights pooled): 4 × 30,000 and 16 × 6,912 values.
TORCH_DEFAULT_DRAWS = {(100, 300): 4, (48, 16, 3, 3): 16}


def torch_default_weights(shape: tuple[int, ...], seed: int, reset=None) -> np.ndarray:
    """The default weight of a freshly built torch layer of this weight ``shape``: ``nn.Linear(in, out)`` for
    ``(out, in)``, ``nn.Conv2d(in, out, k)`` for ``(out, in, k_h, k_w)``, built after ``torch.manual_seed(seed)``
    so that the layer's own ``reset_parameters`` draws it (``reset``: a replacement for that call, the mutation
    self-test's hook).  Returns a float64 numpy array of ``shape``."""
    import torch

    torch.manual_seed(seed)
    with torch.no_grad():
        layer = (torch.nn.Linear(shape[1], shape[0]) if len(shape) == 2
                 else torch.nn.Conv2d(shape[1], shape[0], tuple(shape[2:])))
        if reset is not None:
            reset(layer.weight)
        return layer.weight.detach().double().numpy().copy()


def _he_uniform_reset(weight) -> None:
    import torch

    torch.nn.init.kaiming_uniform_(weight)  # a = 0: He's ReLU gain √2, Var = 2/fan_in


@mutant("the layers' reset replaced by kaiming_uniform_ at its default a = 0 (He uniform, Var 2/fan_in: ×6)",
        lambda: _torch_default_audit(reset=_he_uniform_reset))
def _torch_default_audit(reset=None) -> EvidenceResult:
    """Reads torch's reset_parameters source and audits the weights it draws with the auditor's statistical
    checks (:mod:`invariants.stats.battery`, the ``law`` group: variance, mean, support, extremes, shape)
    against U(±1/√fan_in) on the layer's fans.  (The audit engine itself, :mod:`invariants.audit`, is a
    sibling of the claims layer and may not be imported here; it runs the same battery.)"""
    import torch

    from invariants.frameworks.torch.initializers import LINEAR_DEFAULT
    from invariants.stats.battery import LAW, Sample, battery

    sources = {}
    for cls in (torch.nn.Linear, torch.nn.modules.conv._ConvNd):
        code = inspect.getsource(cls.reset_parameters)
        # the file relative to the folder holding the torch package: no machine path reaches the docs
        path = os.path.relpath(inspect.getsourcefile(cls.reset_parameters),
                               os.path.dirname(os.path.dirname(torch.__file__)))
        # _ConvNd may fill a contiguous copy first (channels_last weights): the call's argument varies, the a does not
        sources[f"{path} {cls.__name__}.reset_parameters"] = ("init.kaiming_uniform_(" in code
                                                              and "a=math.sqrt(5))" in code)
    batteries, parts = [], []
    for shape, draws in TORCH_DEFAULT_DRAWS.items():
        receptive = int(np.prod(shape[2:])) if len(shape) > 2 else 1
        fan_in, fan_out = shape[1] * receptive, shape[0] * receptive
        law = LINEAR_DEFAULT.law(fan_in, fan_out, shape)
        tensors = [torch_default_weights(shape, seed, reset) for seed in range(draws)]
        batteries.append((shape, fan_in, law, tensors, battery(law, groups=(LAW,))))
    alpha = TORCH_DEFAULT_ALPHA / sum(len(b[4].checks) for b in batteries)
    ok = all(sources.values())
    for shape, fan_in, law, tensors, bat in batteries:
        pool = np.concatenate([t.ravel() for t in tensors])
        results = bat.run(Sample(pool, tensors, 23), alpha)
        failed = [r.name for r in results if not r.passed]
        ok = ok and not failed
        parts.append(f"{'Linear' if len(shape) == 2 else 'Conv2d'} weight {shape} (fan_in {fan_in}), n = {pool.size:,}: "
                     f"Var {float(np.mean(pool ** 2)) * 3 * fan_in:.4f}/(3·fan_in), {len(results)} checks, "
                     + ("all pass" if not failed else f"FAIL {', '.join(failed)}"))
    detail = (f"torch {torch.__version__}: " + "; ".join(f"{w} calls kaiming_uniform_(…, a=math.sqrt(5)): "
                                                       f"{'yes' if v else 'NO'}" for w, v in sources.items())
              + f"; weights audited against U(±1/√fan_in) (α = {alpha:.2g} per check, {TORCH_DEFAULT_ALPHA:g} "
              "in all): " + "; ".join(parts))
    return check(ok, detail, "torch's default weights are not U(±1/√fan_in): " + detail)


register(Claim(
    id="VAR-TORCHDEFAULT-01",
    title="PyTorch's default Linear/Conv init is U(±1/√fan_in): Var = 1/(3·fan_in), not He's 2/fan_in",
    seed_quotes=(QUOTE_FAN_IN,),
    statement=(
        "torch.nn.Linear and torch.nn.ConvNd initialize weights with kaiming_uniform_(w, a=√5) (their "
        "reset_parameters, read and audited in this build): gain "
        "√(2/(1 + a²)) = 1/√3, bound = gain·√(3/fan_in) = 1/√fan_in, so W ~ U(−1/√fan_in, 1/√fan_in) with "
        "Var(W) = 1/(3·fan_in): a third of LeCun's and a sixth of He's variance. It is std ∝ 1/√fan_in (the "
        "seed's form) but, despite the 'kaiming' name, not He's ReLU rule: at zero bias it multiplies the "
        "pre-activation variance by 1/3 per linear layer and 1/6 per ReLU layer."
    ),
    verdict=Verdict.VERIFIED,
    scope=("the installed PyTorch's nn.Linear and nn.ConvNd default weights (source read and weights audited in "
           "this build; PyTorch 1.x–2.x share the code), any fan_in; the depth check runs reference networks of "
           f"width {PROP_WIDTH}, depth 20 at initialization"),
    conditions=(
        "weights of nn.Linear / nn.ConvNd reset_parameters (PyTorch 1.x–2.x); fan_in = in_features, or "
        "in_channels/groups × kernel size",
        "the per-layer decay is for zero bias; PyTorch's default bias U(±1/√fan_in) has variance "
        "σ_b² = 1/(3·fan_in), which is not modelled here",
    ),
    derivation=(
        "calculate_gain('leaky_relu', √5) = √(2/(1 + 5)) = 1/√3; kaiming_uniform_ uses bound = √3·gain/√fan_in "
        "= 1/√fan_in; Var U(−b, b) = b²/3 = 1/(3·fan_in). Mean field: q_{l+1} = fan_in·Var(W)·E[φ(y)²] = q_l/3 "
        "(identity) or q_l/6 (ReLU)."
    ),
    references=("PyTorch torch/nn/modules/linear.py, Linear.reset_parameters",
                "PyTorch torch/nn/modules/conv.py, _ConvNd.reset_parameters", "PyTorch nn.Linear documentation"),
    evidence=(
        Evidence("symbolic", "SymPy: gain, bound and variance of kaiming_uniform_(a=√5)", _torch_default_derivation),
        Evidence("experiment", "reference nets decay by 1/3 (linear) and 1/6 (ReLU) per layer", _torch_default_depth),
        Evidence("experiment", "torch's code calls kaiming_uniform_(a=√5); its Linear/Conv2d weights pass the audit "
                 "as U(±1/√fan_in)", _torch_default_audit),
    ),
))
