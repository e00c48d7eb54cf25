"""SYM-GRAD-01 and SYM-ROWS-01: which weight-gradient entries are equal from a constant or zero init,
and which incoming weights of a unit stay equal (SYM-ROWS-01 quotes SYM-GRAD-01's properties).

Vocabulary, layout and the evidence conventions: see :mod:`invariants.claims.symmetry`.
"""
from __future__ import annotations

import itertools
from functools import lru_cache

import numpy as np
from hypothesis import given

from invariants.claims.evidence import check, property_with_coverage, short
from invariants.claims.registry import Claim, Evidence, EvidenceResult, Verdict, mutant, register, Reading
from invariants.experiments.mutants import first_layer_row_mean, nudging
from invariants.experiments.networks import constant_net, make_data
from invariants.experiments.strategies import SMOOTH_ACTIVATIONS, structure_configs
from invariants.hypothesis_profiles import verify_settings
from invariants.reference import Architecture, init_params, loss_and_grad, make_optimizer, train

# Imported under the names the derandomized properties' source uses: Hypothesis seeds their examples
# from that source (hypothesis.internal.reflection.function_digest), so renaming a call inside a
# property would change the examples and the evidence details that the docs quote.
from invariants.experiments.oracles import tie_structure as _structure
from invariants.experiments.oracles import update_unties_rows as _update_unties_rows

#: (sizes, optimizer, bias per layer l) for the zero-weight gradient checks; sigmoid so that φ(0) ≠ 0.
_ZERO_GRAD_CONFIGS = (
    ((3, 4, 4, 2), "sgd", lambda l: 0.0),
    ((2, 3, 5, 3, 2), "adam", lambda l: 0.1 * l),
    ((4, 2, 6, 3), "momentum", lambda l: -0.2),
)
_ZERO_GRAD_STEPS = 6


def _small_random_weights(name: str, shape: tuple[int, ...]) -> np.ndarray:
    """Mutant premise: weights N(0, 0.1²) (seeded by the layer) instead of 0."""
    return np.random.default_rng(int(name[1:])).normal(scale=0.1, size=shape)


def _tie_data(x: np.ndarray, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mutant data: every input column equal to the first, every target column equal to the first."""
    return np.repeat(x[:, :1], x.shape[1], axis=1), np.repeat(t[:, :1], t.shape[1], axis=1)


@lru_cache(maxsize=None)
def _zero_weight_gradient_structure(weight=0.0, tie_data: bool = False):
    """For each config: per step, the structure of each weight gradient (all-equal / rows-equal /
    columns-equal / row-entries-differ / rows-differ), from zero weights with sigmoid (``weight`` and
    ``tie_data``: the mutation hooks)."""
    rows = []
    for ci, (sizes, opt_name, bias) in enumerate(_ZERO_GRAD_CONFIGS):
        arch = Architecture(sizes, "sigmoid")
        params = init_params(arch, weight, lambda name, shape, bias=bias: np.full(shape, bias(int(name[1:]))))
        x, t = make_data(arch, 8, seed=100 + ci)
        if tie_data:
            x, t = _tie_data(x, t)
        opt = make_optimizer(opt_name, lr=0.5)
        for step in range(_ZERO_GRAD_STEPS):
            _, grads = loss_and_grad(arch, params, x, t)
            for l in range(1, arch.depth + 1):
                g = grads[f"W{l}"]
                rows.append(dict(
                    config=ci, step=step, layer=l,
                    kind="first" if l == 1 else "output" if l == arch.depth else "hidden",
                    all_equal=bool(np.all(g == g.flat[0])), nonzero=bool(np.any(g != 0)),
                    rows_equal=bool(np.all(g == g[0:1, :])),
                    cols_equal=bool(np.all(g == g[:, 0:1])),
                    row_spread=float(np.ptp(g[0])), col_spread=float(np.ptp(g[:, 0])),
                ))
            params = opt.step(params, grads)
    return rows


def _layer_kind(arch: Architecture, l: int) -> str:
    return "rows" if l == 1 else "cols" if l == arch.depth else "all"


def _structure_net(cfg):
    arch = Architecture(cfg["sizes"], cfg["activation"], cfg["loss"], dtype=cfg["dtype"])
    params = init_params(arch, cfg["weight"], lambda name, shape: np.full(shape, cfg["biases"][int(name[1:]) - 1]))
    x, t = make_data(arch, 6, cfg["seed"])
    return arch, params, x, t


def tied_structure_property(seen: dict, make_opt=make_optimizer, max_examples: int = 20):
    """From a constant init (0 included) with biases constant per layer, at every step: every entry of
    a hidden-to-hidden W_l and of its gradient is equal to every other; the rows of W_1 and of ∂L/∂W_1
    are equal to each other; each row of W_L and of ∂L/∂W_L is constant.  Bitwise, at every step whose
    parameters and gradients are finite (a diverging run is checked up to its first overflow: inf − inf
    gives nan, and nan ≠ nan).  ``make_opt`` is swappable for the mutation test."""

    # runs are told apart by their index: id(cfg) of a freed example is reused by later ones, which made the
    # counts depend on the process's allocation history (what other tests ran before in the same worker)
    runs = itertools.count()

    @verify_settings(max_examples)
    @given(structure_configs())
    def prop(cfg):
        run = next(runs)
        for key in ("optimizer", "activation", "weight"):
            seen.setdefault(key, set()).add(cfg[key])
        arch, params, x, t = _structure_net(cfg)
        opt = make_opt(cfg["optimizer"], lr=0.05)
        for step in range(cfg["steps"]):
            with np.errstate(over="ignore", invalid="ignore"):
                _, grads = loss_and_grad(arch, params, x, t)
            if not all(np.all(np.isfinite(v)) for v in (*params.values(), *grads.values())):
                # a diverging run (e.g. identity, weight 1, SGD) overflows to inf and then nan; nan != nan,
                # so "equal entries" is meaningless there: the structure is a claim about finite steps
                seen.setdefault("#diverged runs", set()).add(run)
                break
            for l in range(1, arch.depth + 1):
                kind = _layer_kind(arch, l)
                assert _structure(grads[f"W{l}"], kind), f"step {step}: ∂L/∂W{l} lost its '{kind}' structure"
                assert _structure(params[f"W{l}"], kind), f"step {step}: W{l} lost its '{kind}' structure"
            if any(np.any(grads[f"W{l}"] != 0) for l in range(2, arch.depth)):
                seen.setdefault("#nonzero hidden-to-hidden gradients", set()).add((run, step))
            params = opt.step(params, grads)

    return prop


@lru_cache(maxsize=None)
def _tied_structure_result() -> EvidenceResult:
    return property_with_coverage(
        lambda seen: tied_structure_property(seen), 20,
        "at every step of every run, all entries of each hidden-to-hidden W_l and of ∂L/∂W_l were "
        "bitwise equal, the rows of W_1 and ∂L/∂W_1 equal, each row of W_L and ∂L/∂W_L constant "
        "(constant init incl. 0, 3-4 weight layers, 1-10 steps)")


def untied_structure_property(seen: dict, make_opt=make_optimizer, max_examples: int = 15):
    """The converse, for a nonzero constant init and φ' > 0 almost everywhere: within L + 1 steps some
    row of ∂L/∂W_1 and of W_1 has unequal entries, and ∂L/∂W_L has unequal rows at the first step.  A
    generic property: it fails only on a null set of data (e.g. inputs with equal columns), which the
    draws avoid.  (With softmax and a constant W_L, δ_{L−1} = c·Σ_i δ_L[i] = 0 at the first step, since
    softmax errors sum to 0 over classes; the hidden layers start moving once the rows of W_L differ.)"""

    @verify_settings(max_examples)
    @given(structure_configs(weights=(0.5, -0.3, 1.0)).filter(lambda c: c["activation"] in SMOOTH_ACTIVATIONS))
    def prop(cfg):
        seen.setdefault("activation", set()).add(cfg["activation"])
        arch, params, x, t = _structure_net(cfg)
        opt = make_opt(cfg["optimizer"], lr=0.05)
        # the reference optimizer, stepped in lockstep, decides whether the exact update unties W_1's rows
        # (so that a swapped-in ``make_opt`` that ties them is judged against the real semantics)
        shadow = make_optimizer(cfg["optimizer"], lr=0.05)
        grad_first = weight_first = None
        resolvable = False
        for step in range(arch.depth + 1):
            _, grads = loss_and_grad(arch, params, x, t)
            if step == 0:
                assert not _structure(grads[f"W{arch.depth}"], "rows"), "∂L/∂W_L has equal rows"
            if grad_first is None and not _structure(grads["W1"], "cols"):
                grad_first = step + 1
            resolvable = resolvable or _update_unties_rows(shadow, params, grads, "W1")
            shadow.step(params, grads)
            params = opt.step(params, grads)
            if weight_first is None and not _structure(params["W1"], "cols"):
                weight_first = step + 1
        assert grad_first is not None, f"∂L/∂W1 rows stayed constant for {arch.depth + 1} steps"
        if weight_first is None:
            # untied gradients whose update is below the weights' rounding resolution leave W1 tied in
            # floating point (a vanishing signal: e.g. leaky ReLU's 0.01 slope over several layers
            # with near-balanced labels); only a resolvable update must untie them
            assert not resolvable, f"W1 rows stayed constant for {arch.depth + 1} steps though the update unties them"
            seen.setdefault("#W1 update absorbed by rounding", set()).add(cfg["seed"])
        seen.setdefault("first step", set()).add(grad_first)

    return prop


@lru_cache(maxsize=None)
def _untied_structure_result() -> EvidenceResult:
    return property_with_coverage(
        lambda seen: untied_structure_property(seen), 15,
        "nonzero constant init, φ' > 0 a.e.: every drawn run had, within L + 1 steps, a row of ∂L/∂W_1 "
        "with unequal entries (δ·x_k differs across inputs k) and then of W_1 too, unless that update "
        "was below the weights' rounding resolution, and ∂L/∂W_L with unequal rows at step 1")


@mutant("a position-dependent optimizer (one ulp added to the first entry of every tensor)",
        lambda: _grad_property(make_opt=nudging))
def _grad_property(make_opt=None) -> EvidenceResult:
    if make_opt is None:
        return _tied_structure_result()
    return property_with_coverage(lambda seen: tied_structure_property(seen, make_opt, 5), 5, "mutant run")


@mutant("an optimizer that gives a unit's incoming first-layer weights the mean of their gradients",
        lambda: _grad_property_fails(make_opt=first_layer_row_mean))
def _grad_property_fails(make_opt=None) -> EvidenceResult:
    if make_opt is None:
        return _untied_structure_result()
    return property_with_coverage(lambda seen: untied_structure_property(seen, make_opt, 15), 15, "mutant run")


@mutant("weights N(0, 0.1²) instead of 0", lambda: _grad_holds(weight=_small_random_weights))
def _grad_holds(weight=0.0) -> EvidenceResult:
    rows = _zero_weight_gradient_structure(weight)
    hidden = [r for r in rows if r["kind"] == "hidden"]
    ok = (all(r["all_equal"] for r in hidden)
          and all(r["rows_equal"] for r in rows if r["kind"] == "first")
          and all(r["cols_equal"] for r in rows if r["kind"] == "output"))
    live = sum(r["nonzero"] for r in hidden)
    ok = ok and live > 0
    return check(ok, f"zero weights, sigmoid, 3 configs x {_ZERO_GRAD_STEPS} steps (SGD, Adam, momentum): all "
                     f"{len(hidden)} hidden-to-hidden gradients ∂L/∂W_l ({live} of them nonzero) have all entries "
                     f"bitwise equal; every "
                     f"first-layer gradient has equal rows and every output-layer gradient equal columns",
                 "a hidden-to-hidden gradient with unequal entries, or a first-layer gradient with unequal rows, "
                 "or an output-layer gradient with unequal columns")


@mutant("data with equal input columns and equal target columns", lambda: _grad_fails(tie_data=True))
def _grad_fails(tie_data: bool = False) -> EvidenceResult:
    rows = _zero_weight_gradient_structure(tie_data=tie_data)
    first = [r for r in rows if r["kind"] == "first" and not r["all_equal"]]
    out = [r for r in rows if r["kind"] == "output" and not r["all_equal"]]
    f, o = (max(first, key=lambda r: r["row_spread"]) if first else None), (out[0] if out else None)
    ok = bool(first) and bool(out)
    detail = (f"first layer: {len(first)} of {sum(r['kind'] == 'first' for r in rows)} gradients have unequal "
              f"entries within a row (δ·x_k; largest spread {short(f['row_spread']) if f else '-'}; the first "
              f"L-1 steps give 0 because W_2..W_L are still 0); output layer: {len(out)} of "
              f"{sum(r['kind'] == 'output' for r in rows)} gradients differ across output units (column "
              f"spread {short(o['col_spread']) if o else '-'} at step {o['step'] if o else '-'})")
    return check(ok, detail, "no first-layer or output-layer gradient with unequal entries: " + detail)


#: Names of SYM-GRAD-01's evidence (its readings cite them).
_GRAD_HOLDS = "hidden-to-hidden gradients all equal; first-layer rows and output columns equal"
_GRAD_FAILS = "first-layer and output-layer gradient entries differ"
_GRAD_PROP = "all configurations: hidden-to-hidden gradients all equal, W_1 rows and W_L columns equal, at every step"
_GRAD_PROP_FAILS = "all configurations: first-layer row entries and output rows differ"
#: The structure properties' scope (SYM-GRAD-01 and SYM-ROWS-01 share them).
_STRUCTURE_SCOPE = ("MLPs with elementwise activations (reference network, exact kernel, no hidden dropout), 3-4 "
                    "weight layers of widths 2-6, MSE and softmax cross-entropy, float32 and float64, the 7 reference "
                    "optimizers over 1-10 steps (property) and {run}")

register(Claim(
    id="SYM-GRAD-01",
    verdict=Verdict.VERIFIED,
    title="With all weights zero, gradient entries are equal within hidden-to-hidden layers only",
    seed_quotes=(
        "Zero initialization: If all the weights are initialized to zeros, the derivatives will remain "
        "same for every w in W[l].",
    ),
    statement=(
        "Start with every weight 0 and biases constant within each layer, and train with any of the 7 "
        "optimizers (no hidden dropout).  At every step: for a hidden-to-hidden layer (2 ≤ l ≤ L−1) all "
        "entries of ∂L/∂W_l are equal; for the first layer the rows of ∂L/∂W_1 are equal, but the entries "
        "within a row, Σ_b δ_b x_{b,k}, differ across inputs k (once they are nonzero); for the output "
        "layer the columns of ∂L/∂W_L are equal, but its rows differ across output units whenever their "
        "errors differ.  So 'the same for every w in W[l]' holds for the hidden-to-hidden layers only."
    ),
    scope=_STRUCTURE_SCOPE.format(run="6 steps of SGD, Adam and momentum from zero weights with sigmoid "
                                      "(experiment)"),
    readings=(
        Reading("every weight of every layer W[l] gets the same derivative as every other weight of that layer",
                Verdict.REFUTED, (_GRAD_FAILS, _GRAD_PROP_FAILS)),
        Reading("every weight of a hidden-to-hidden layer W[l] (2 ≤ l ≤ L−1) gets the same derivative",
                Verdict.VERIFIED, (_GRAD_HOLDS, _GRAD_PROP)),
        Reading("the derivatives are the same across the units of a layer (each unit's weights get the same "
                "derivatives as the other units': equal rows of ∂L/∂W_1, equal columns of ∂L/∂W_L)",
                Verdict.VERIFIED, (_GRAD_HOLDS, _GRAD_PROP)),
    ),
    conditions=(
        "all entries equal: W_l with 2 ≤ l ≤ L−1 (needs at least two hidden layers), exactly (bitwise on the "
        "exact kernel)",
        "W_1 is equal only across hidden units (rows), W_L only across hidden units (columns)",
        "with φ(0) = 0 and zero biases every weight gradient is 0 forever (trivially equal; SYM-ZERO-GRAD-01)",
    ),
    derivation=(
        "From zero weights every hidden layer is a single class and stays one (SYM-CONST-01), so δ_l has "
        "equal entries across the units of layer l and h_{l-1} equal entries for l ≥ 2.  Hence "
        "∂L/∂W_l[j,k] = Σ_b δ_l[b,j] h_{l-1}[b,k] is the same for all (j, k) when 2 ≤ l ≤ L−1; for l = 1 "
        "h_0 = x differs across k; for l = L δ_L differs across output units."
    ),
    evidence=(
        Evidence("experiment", _GRAD_HOLDS, _grad_holds),
        Evidence("counterexample", _GRAD_FAILS, _grad_fails),
        Evidence("property", _GRAD_PROP, _grad_property),
        Evidence("property", _GRAD_PROP_FAILS, _grad_property_fails),
    ),
))


@lru_cache(maxsize=None)
def _rows_run(untie: bool = False, tie_data: bool = False):
    """Constant-init (0.5) 3-4-4-2 tanh net, Adam, 40 steps; per step whether W2 is constant, each row
    of W3 is constant, each row of W1 is constant.  Mutation hooks: ``untie`` sets the first hidden
    unit's bias to 10⁻³ (the others stay 0); ``tie_data`` makes the input (and target) columns equal."""
    arch, params = constant_net((3, 4, 4, 2), "tanh", weight=0.5)
    if untie:
        params["b1"][0] = 1e-3
    x, t = make_data(arch, 16, seed=21)
    if tie_data:
        x, t = _tie_data(x, t)
    log = []

    def watch(step, p):
        log.append(dict(w2_const=bool(np.all(p["W2"] == p["W2"][0, 0])),
                        w3_rows_const=bool(np.all(p["W3"] == p["W3"][:, :1])),
                        w1_rows_const=bool(np.all(p["W1"] == p["W1"][:, :1]))))

    result = train(arch, params, x, t, make_optimizer("adam", lr=0.05), 40, callback=watch)
    return result, log


@mutant("the first hidden layer untied: one unit's bias 10⁻³, the others 0", lambda: _rows_holds(untie=True))
def _rows_holds(untie: bool = False) -> EvidenceResult:
    result, log = _rows_run(untie=untie)
    ok = all(r["w2_const"] and r["w3_rows_const"] for r in log)
    return check(ok, f"constant init 0.5, tanh, Adam, 40 steps: all 16 entries of the hidden-to-hidden W2 stay "
                     f"bitwise equal (final {short(result.params['W2'][0, 0])}); each output unit's incoming row of W3 "
                     f"stays constant (rows {short(result.params['W3'][0, 0])}, {short(result.params['W3'][1, 0])})",
                 "an entry of W2 or of a row of W3 drifted from the others")


@mutant("data with equal input columns", lambda: _rows_fails(tie_data=True))
def _rows_fails(tie_data: bool = False) -> EvidenceResult:
    result, log = _rows_run(tie_data=tie_data)
    first = next((i + 1 for i, r in enumerate(log) if not r["w1_rows_const"]), None)
    row = result.params["W1"][0]
    return check(first is not None and np.ptp(row) > 0,
                 f"first layer: a unit's 3 incoming weights diverge from step {first} on (after 40 steps unit 0 "
                 f"has ({', '.join(short(v) for v in row)})), since its gradient δ·x_k differs across inputs k",
                 "first-layer rows stayed constant")


@lru_cache(maxsize=None)
def _outgoing_run(same_targets: bool = False):
    """The :func:`_rows_run` network and data (constant init 0.5, tanh, Adam, 40 steps); ``same_targets`` gives
    both output units the same targets (the mutation: then their errors never differ)."""
    arch, params = constant_net((3, 4, 4, 2), "tanh", weight=0.5)
    x, t = make_data(arch, 16, seed=21)
    if same_targets:
        t = np.repeat(t[:, :1], 2, axis=1)
    return train(arch, params, x, t, make_optimizer("adam", lr=0.05), 40)


@mutant("both output units given the same targets, so their errors never differ", lambda: _rows_outgoing(True))
def _rows_outgoing(same_targets: bool = False) -> EvidenceResult:
    p = _outgoing_run(same_targets).params
    first_cols = bool(np.all(p["W1"] == p["W1"][:1, :]))  # each input's outgoing weights equal
    hidden_cols = bool(np.all(p["W2"] == p["W2"][0, 0]))  # each layer-1 unit's outgoing weights equal
    last = p["W3"][:, 0]  # the outgoing weights of last-hidden unit 0, one per output unit
    ok = first_cols and hidden_cols and bool(np.ptp(last) > 0)
    detail = (f"constant init 0.5, tanh, Adam, 40 steps: the outgoing weights of every input (columns of W1) and of "
              f"every layer-1 unit (columns of W2) are still equal ({first_cols}, {hidden_cols}); those of a "
              f"last-hidden-layer unit, to the 2 output units, are ({', '.join(short(v) for v in last)})")
    return check(ok, detail + ": they differ, since the output units' errors differ",
                 "the outgoing weights of a last-hidden-layer unit stayed equal: " + detail)


_ROWS_HOLDS = "W2 constant and W3 rows constant at every step"
_ROWS_FAILS = "first-layer incoming weights diverge"
_ROWS_OUT_FAILS = "last hidden layer: a unit's outgoing weights diverge"
_ROWS_PROP = "all configurations: W_l (2 ≤ l < L) constant, W_1 rows equal, W_L rows constant"
_ROWS_PROP_FAILS = "all configurations: first-layer incoming weights of a unit differ after a step"

register(Claim(
    id="SYM-ROWS-01",
    verdict=Verdict.VERIFIED,
    title="Which weights attached to a neuron stay equal: incoming from layer 2 on, outgoing before the last hidden layer",
    seed_quotes=("The weights attached to the same neuron, continue to remain the same throughout the training.",),
    statement=(
        "From a constant initialization (weights c, biases constant per layer), at every step of any of the 7 "
        "optimizers: (i) the incoming weights of a unit in layer l ≥ 2 stay equal to each other (all entries of a "
        "hidden-to-hidden W_l stay equal; each row of the output layer's W_L stays constant), because that unit's "
        "inputs are the tied units of layer l−1, while the incoming weights of a first-layer unit get gradients "
        "Σ_b δ_b x_{b,k} that differ across inputs k and drift apart; (ii) the outgoing weights of an input or of "
        "a hidden unit that feeds a hidden layer stay equal to each other (the columns of W_1 and of a "
        "hidden-to-hidden W_l are constant), while those of a last-hidden-layer unit drift apart whenever the "
        "output units' errors differ; (iii) the units of each hidden layer stay interchangeable: each keeps the "
        "same incoming and outgoing weights as every other unit of its layer."
    ),
    scope=_STRUCTURE_SCOPE.format(run="40 Adam steps of a (3, 4, 4, 2) tanh net from weights 0.5 (experiment)"),
    readings=(
        Reading("the incoming weights of a neuron stay equal to each other: they do for neurons of layers l ≥ 2, "
                "not in the first layer", Verdict.CONDITIONAL,
                (_ROWS_HOLDS, _ROWS_PROP, _ROWS_FAILS, _ROWS_PROP_FAILS)),
        Reading("the outgoing weights of a neuron stay equal to each other: they do for inputs and for neurons "
                "feeding a hidden layer, not for the last hidden layer's", Verdict.CONDITIONAL,
                (_ROWS_PROP, _ROWS_OUT_FAILS)),
        Reading("the weights of the neurons of a layer stay the same as each other's (each neuron keeps the "
                "incoming and outgoing weights of every other neuron of its layer)", Verdict.VERIFIED,
                (_ROWS_HOLDS, _ROWS_PROP)),
    ),
    conditions=(
        "incoming weights: hold for layers l ≥ 2 (inputs are tied hidden units) under the conditions of "
        "SYM-CONST-01; fail for the first layer, whose inputs are distinct data features",
        "outgoing weights: hold for inputs and for hidden units feeding a hidden layer; fail for the last hidden "
        "layer, whose outgoing weights go to distinct output units",
        "in floating point the first layer's incoming weights drift apart once an update is resolvable: an "
        "update smaller than the weights' rounding resolution (a vanishing error signal) is absorbed and "
        "leaves them equal although their gradients differ",
    ),
    derivation=(
        "∂L/∂W_l[j,k] = Σ_b δ_l[b,j] h_{l−1}[b,k]; h_{l−1}[b,k] is independent of k iff layer l−1 is tied (incoming "
        "weights of unit j equal), and δ_l[b,j] is independent of j iff layer l is tied (outgoing weights of "
        "unit k equal); the output layer is never tied, its units have their own targets."
    ),
    evidence=(
        Evidence("experiment", _ROWS_HOLDS, _rows_holds),
        Evidence("counterexample", _ROWS_FAILS, _rows_fails),
        Evidence("property", _ROWS_PROP, _grad_property),
        Evidence("property", _ROWS_PROP_FAILS, _grad_property_fails),
        Evidence("counterexample", _ROWS_OUT_FAILS, _rows_outgoing),
    ),
))
