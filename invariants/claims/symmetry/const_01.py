"""SYM-CONST-01: interchangeable hidden units (e.g. from a constant init) stay interchangeable under training.

Vocabulary, layout and the evidence conventions: see :mod:`invariants.claims.symmetry`.
"""
from __future__ import annotations

import numpy as np
from hypothesis import example, given, strategies as st

from invariants.claims.evidence import check, property_with_coverage, run_property, short
from invariants.claims.registry import Claim, Evidence, EvidenceResult, Verdict, mutant, register
from invariants.claims.symmetry.shared import instance_evidence, lemma_evidence
from invariants.experiments.mutants import nudging
from invariants.experiments.networks import constant_net, make_data
from invariants.experiments.strategies import training_configs
from invariants.experiments.training import augmented, dropconnect, noisy_gradients, train_checking_ties
from invariants.hypothesis_profiles import verify_settings
from invariants.reference import (
    ACTIVATIONS,
    Architecture,
    OPTIMIZERS,
    make_optimizer,
    permute_hidden,
    random_params,
)
from invariants.reference.norms import NORMS
from invariants.symmetry import hidden_tied, n_distinct_units


@mutant("a per-unit hidden-dropout mask that the swap does not move", lambda: instance_evidence(True))
def _const_symbolic() -> EvidenceResult:
    return instance_evidence()


@mutant("g a scaling c·I instead of a permutation: gᵀ(g∇L) = c²∇L ≠ ∇L", lambda: lemma_evidence(False))
def _const_lemma() -> EvidenceResult:
    return lemma_evidence()


def breakers_evidence(shared_draws: bool = False) -> EvidenceResult:
    """The SymPy breakers (:func:`invariants.symbolic.symmetry.breakers`): per-unit operations leave a
    nonzero gap, uniform ones exactly 0.  ``shared_draws`` (the mutant) gives both units the same mask,
    noise and learning rate, so the "per-unit" rows leave no gap."""
    from invariants.symbolic.symmetry import breakers

    rows = breakers(shared_draws)
    ok = all(b.breaks == b.per_unit for b in rows)
    per_unit = [f"{b.name.split(' (')[0]} ({short(b.witness)})" for b in rows if b.per_unit]
    uniform = [b.name.split(" (")[0] for b in rows if not b.per_unit]
    return check(ok, f"tied (2, 2, 1) net, undefined phi and ell: the units' gradient or update gap is a nonzero "
                     f"expression for {', '.join(per_unit)} (value at phi = tanh, squared error, fixed rationals); "
                     f"exactly 0 for {', '.join(uniform)}",
                 "a per-unit operation left the gap 0 or a uniform one did not: "
                 + "; ".join(f"{b.name}: {b.difference}" for b in rows if b.breaks != b.per_unit)[:300])


@mutant("the per-unit masks, noises and learning rates made equal for the two units", lambda: breakers_evidence(True))
def _const_breakers_symbolic() -> EvidenceResult:
    return breakers_evidence()


def constant_init_property(seen: dict, hidden_dropout: float = 0.0, make_opt=make_optimizer,
                           max_examples: int = 20):
    """The SYM-CONST-01 property as a Hypothesis test: a constant-init net trained for up to 20 steps
    keeps every hidden layer one class, with symmetry defect 0 after every step.

    ``hidden_dropout`` and ``make_opt`` exist for the mutation self-tests (hidden dropout, a broken
    optimizer): with them the property must fail.  ``seen`` collects what was drawn (see :func:`_property`).
    """

    def pinned(weight, act_offset, sizes, loss, norm, augment):  # the seed's "(e.g. zero or one)", always run
        return example(dict(sizes=sizes, act_offset=act_offset, loss=loss, dtype="float32", input_dropout=0.25,
                            hidden_dropout=hidden_dropout, norm=norm, augment=augment, weight=weight, bias=0.1,
                            weight_decay=1e-3, clip_norm=10.0, n=8, batch_size=4, steps=20, seed=12345))

    @verify_settings(max_examples)
    @given(training_configs(hidden_dropout))
    @pinned(1.0, 0, (3, 4, 4, 2), "softmax_xent", "batch", "flip")
    @pinned(0.0, 1, (2, 5, 3, 5, 1), "mse", "layer", "noise")
    def prop(cfg):
        for key in ("dtype", "loss", "weight", "norm", "augment"):
            seen.setdefault(key, set()).add(cfg[key])
        activations, token = sorted(ACTIVATIONS), object()  # token: one per example, for counting
        for k, name in enumerate(OPTIMIZERS):  # every optimizer on every drawn configuration
            activation = activations[(cfg["act_offset"] + k) % len(activations)]
            arch, params = constant_net(cfg["sizes"], activation, cfg["loss"], cfg["weight"], cfg["bias"],
                                        dtype=cfg["dtype"], input_dropout=cfg["input_dropout"],
                                        hidden_dropout=cfg["hidden_dropout"], norm=cfg["norm"])
            x, t = make_data(arch, cfg["n"], cfg["seed"])
            opt = make_opt(name, lr=0.05, weight_decay=cfg["weight_decay"], clip_norm=cfg["clip_norm"])
            run = train_checking_ties(arch, params, x, t, opt, cfg["steps"], cfg["batch_size"],
                                      np.random.default_rng(cfg["seed"]),
                                      loss_grad=augmented(cfg["augment"]) if cfg["augment"] else None)
            seen.setdefault("#trajectories", set()).add((token, name))
            seen.setdefault("#(optimizer, activation) pairs", set()).add((name, activation))
            if run.diverged_at is not None:
                seen.setdefault("#trajectories stopped at an overflow", set()).add((token, name))
            assert run.tied and hidden_tied(arch, run.params), (
                f"{name}/{activation}: ties broken after step {run.first_untied} (defect {run.defect:.3g}; "
                f"classes per layer {n_distinct_units(arch, run.params)}) for {cfg}")

    return prop


@mutant("hidden dropout 0.5 (an independent mask per unit)",
        lambda: run_property(constant_init_property({}, hidden_dropout=0.5, max_examples=3), "should fail"))
def _const_property() -> EvidenceResult:
    return property_with_coverage(
        lambda seen: constant_init_property(seen, max_examples=20), "20 + 2 pinned",
        "every hidden layer stayed one class of bitwise-identical units (defect 0 after every "
        "step): constant inits, 1-3 hidden layers, width 2-8, decay, clipping, minibatches, "
        "input dropout, 1-20 steps")


def optimizer_commutes_property(seen: dict, make_opt=make_optimizer, max_examples: int = 15):
    """Every optimizer step commutes with hidden-unit permutations P, bitwise:
    step(P θ, P g) = P step(θ, g), state included, over several steps with random parameters and
    gradients (weight decay, global-norm clipping, float32/float64).  ``make_opt`` is swappable so a
    mutation test can feed a position-dependent optimizer."""

    @verify_settings(max_examples)
    @given(hidden=st.lists(st.integers(2, 6), min_size=1, max_size=3), dtype=st.sampled_from(("float32", "float64")),
           weight_decay=st.sampled_from((0.0, 0.05)), clip_norm=st.sampled_from((None, 0.5)),
           norm=st.sampled_from((None, *NORMS)), seed=st.integers(0, 2**32 - 1))
    def prop(hidden, dtype, weight_decay, clip_norm, norm, seed):
        seen.setdefault("dtype", set()).add(dtype)
        arch = Architecture((3, *hidden, 2), dtype=dtype, norm=norm)
        rng = np.random.default_rng(seed)
        layer = int(rng.integers(1, arch.depth))
        perm = rng.permutation(arch.sizes[layer])
        for name in OPTIMIZERS:
            a = make_opt(name, lr=0.1, weight_decay=weight_decay, clip_norm=clip_norm)
            b = make_opt(name, lr=0.1, weight_decay=weight_decay, clip_norm=clip_norm)
            pa = random_params(arch, np.random.default_rng(seed), bias_std=1.0)
            pb = permute_hidden(arch, pa, layer, perm)
            for _ in range(4):
                g = random_params(arch, rng, weight_std=1.0, bias_std=1.0)
                pa, pb = a.step(pa, g), b.step(pb, permute_hidden(arch, g, layer, perm))
                moved = permute_hidden(arch, pa, layer, perm)
                assert all(moved[k].tobytes() == pb[k].tobytes() for k in pa), f"{name}: step does not commute with P"
            for slot in a.state:
                moved = permute_hidden(arch, a.state[slot], layer, perm)
                assert all(moved[k].tobytes() == b.state[slot][k].tobytes() for k in moved), f"{name}: state {slot}"
            seen.setdefault("optimizer", set()).add(name)

    return prop


@mutant("an optimizer that moves the first entry of every tensor by one ulp (position-dependent)",
        lambda: run_property(optimizer_commutes_property({}, make_opt=nudging, max_examples=3),
                             "should fail"))
def _const_optimizers() -> EvidenceResult:
    return property_with_coverage(
        lambda seen: optimizer_commutes_property(seen), 15,
        "for each of the 7 optimizers, 4 steps on random parameters and gradients permuted by a random "
        "hidden-unit permutation P gave P(parameters) and P(state) bit for bit (L2 / decoupled decay, "
        "global-norm clipping, norm scales and shifts included)")


def breaking_runs(p: float = 0.5, sigma: float = 1e-3):
    """Train a constant-init 3-4-4-2 tanh net (MSE) with each per-unit randomness: hidden dropout ``p``,
    DropConnect ``p``, gradient noise σ = ``sigma``; and with each of the 7 optimizers.  Returns
    {operation: {optimizer: TieRun}} (keyed by the default rates' names).  ``p = sigma = 0`` is the
    mutant: no randomness, nothing breaks the tie."""
    arch0, params = constant_net((3, 4, 4, 2), "tanh", weight=0.5, bias=0.1)
    x, t = make_data(arch0, 8, seed=71)
    ops = {f"hidden dropout {p:g}": (Architecture(arch0.sizes, "tanh", hidden_dropout=p), None),
           f"DropConnect {p:g}": (arch0, dropconnect(p)),
           f"gradient noise {sigma:g}": (arch0, noisy_gradients(sigma))}
    return {op: {name: train_checking_ties(arch, params, x, t, make_optimizer(name, lr=0.05), 10,
                                           rng=np.random.default_rng(72), loss_grad=lg) for name in OPTIMIZERS}
            for op, (arch, lg) in ops.items()}


def breakers_run_evidence(p: float = 0.5, sigma: float = 1e-3) -> EvidenceResult:
    runs = breaking_runs(p, sigma)
    ok = all(not r.tied for by_opt in runs.values() for r in by_opt.values())
    parts = [f"{op}: first untied step {max(r.first_untied or 0 for r in by_opt.values())} at the latest, "
             f"defect after 10 steps {short(min(r.defect for r in by_opt.values()))}-"
             f"{short(max(r.defect for r in by_opt.values()))}" for op, by_opt in runs.items()]
    return check(ok, "constant init 0.5, 3-4-4-2 tanh, all 7 optimizers: " + "; ".join(parts),
                 "a per-unit random operation left the units tied: " + "; ".join(parts))


@mutant("dropout, DropConnect and noise switched off (p = σ = 0)", lambda: breakers_run_evidence(0.0, 0.0))
def _const_breakers() -> EvidenceResult:
    return breakers_run_evidence()


register(Claim(
    id="SYM-CONST-01",
    verdict=Verdict.PROVED,
    title="Interchangeable hidden units (e.g. from a constant init) stay interchangeable under training",
    seed_quotes=(
        "As a result, neurons will learn same features in each iterations.",
        "This problem is known as network failing to break symmetry.",
        "Now imagine that you initialize all weights to the same value (e.g. zero or one).",
        "Zero initialization : This makes hidden units symmetric and continues for all the n iterations i.e. "
        "setting weights to 0 does not make it better than a linear model.",
        "It makes the hidden units symmetric and this problem is known as the symmetry problem.",
    ),
    statement=(
        "In an MLP with elementwise activations (optionally layer norm or batch norm on hidden layers), of any "
        "width, depth and batch size, let units j and k of a hidden layer l be interchangeable: "
        "W_l[j,:] = W_l[k,:], b_l[j] = b_l[k], W_{l+1}[:,j] = W_{l+1}[:,k] (and equal norm scale and shift "
        "g_l, s_l), with equal optimizer state on these coordinates.  Then after any number of steps of SGD, "
        "momentum, Nesterov, Adam, AdamW, RMSprop or Adagrad — with L2 or decoupled weight decay, global-norm "
        "gradient clipping, any minibatches, input dropout and data augmentation — they are still "
        "interchangeable: in exact arithmetic for every size (the instance of SYM-EQUIV-01 for a transposition "
        "of units, proved with symbolic widths and batch size), and bit for bit on a permutation-equivariant "
        "kernel (checked).  In particular a constant initialization of all weights (zero included) with biases "
        "constant within each layer keeps every hidden layer a single class of identical units forever: all "
        "units of a layer learn the same feature.  Anything that can treat the tied units differently generically breaks it: "
        "per-unit randomness or hyper-parameters (hidden-unit dropout, DropConnect, per-parameter gradient "
        "noise, a per-unit learning rate, per-coordinate stochastic rounding), per-unit fixed masks, "
        "index-picking max over units (maxout or max-pooling via argmax), top-k routing with fewer slots than "
        "tied experts, and an incomplete tie (SYM-ARCH-01)."
    ),
    conditions=(
        "optimizer state starts tied (zero, as every optimizer here starts) and each coordinate's update "
        "depends only on its parameter, gradient and state plus quantities shared by all coordinates "
        "(step count, global gradient norm)",
        "no per-unit randomness: hidden-unit dropout (an independent mask per unit), DropConnect, "
        "per-parameter noise and per-coordinate stochastic rounding break the tie (counterexamples here and in "
        "SYM-ARCH-01); input dropout, data augmentation, minibatch sampling and draws shared by the tied units "
        "act on all units alike and do not",
        "no per-unit hyper-parameters or regularizers (a different learning rate or decay per unit breaks it)",
        "every operation between the layers commutes with permuting the tied units, its tie-breaking rule "
        "included: argmax-based maxout / max-pooling over units and top-1 routing over tied experts do not "
        "(SYM-ARCH-01)",
        "bitwise only with a permutation-equivariant kernel (the reference 'exact' kernel); a BLAS matmul "
        "may round tied units differently, so rounding — not the initialization — can separate them "
        "(SYM-FP-01)",
    ),
    scope=(
        "MLPs with elementwise activations, optionally layer or batch norm on hidden layers: every width, "
        "depth and batch size (proved); per-coordinate optimizers with shared hyper-parameters and "
        "global-norm clipping (the 7 reference optimizers checked bitwise); other architectures: SYM-ARCH-01"
    ),
    derivation=(
        "An instance of SYM-EQUIV-01 with G = ⟨σ⟩, σ the transposition of units j and k of layer l (rows of "
        "W_l, entries of b_l, g_l, s_l, columns of W_{l+1}).  (1) Invariance: the next pre-activation is a sum "
        "over units, z = Σ_u c_u φ(a_u); layer-norm statistics are symmetric sums over the units and batch-norm "
        "statistics act on each unit alone, so z(σθ) = z(θ) whatever the layers below and above compute.  "
        "(2) Since σ is orthogonal, ∇L(σθ) = σ∇L(θ) (chain rule, S1 of SYM-EQUIV-01); on the fixed set the two "
        "units' gradients are equal.  (3) An update applied per coordinate with hyper-parameters shared by all "
        "coordinates and σ-invariant global quantities (‖σg‖ = ‖g‖ for clipping) commutes with σ: SGD, "
        "momentum, Nesterov, Adam, AdamW, RMSprop, Adagrad, L2 and decoupled decay.  (4) Induction over steps "
        "from a tied (zero) state.  SymPy checks (1)-(3) with the width n, the input width m, the next width p "
        "and the batch size B as symbols (the rest of the layer a symbolic Sum; layers below enter through h, "
        "above through z), so for every size; the chain rule index-free.  What fails: operations that treat "
        "units differently make the update not σ-equivariant (SymPy breakers, the counterexample runs, "
        "SYM-ARCH-01), and a partial tie (equal rows, different outgoing columns) is not fixed by σ.  The "
        "properties re-check the conclusion bitwise on the numpy reference network."
    ),
    references=(
        "Goodfellow, Bengio & Courville, Deep Learning (2016), §8.4: breaking the symmetry between hidden units",
    ),
    evidence=(
        Evidence("symbolic", "every width, depth and batch size: swap invariance (plain, layer norm, batch norm), "
                 "gradient equivariance, clipped per-coordinate step (SymPy, symbolic sizes)", _const_symbolic),
        Evidence("symbolic", "chain rule for a permutation and the equivariant step, index-free (SymPy)",
                 _const_lemma),
        Evidence("symbolic", "per-unit masks, noise and learning rates break the tie; input-side ones do not "
                 "(SymPy)", _const_breakers_symbolic),
        Evidence("property", "constant-init nets stay bitwise symmetric under all 7 optimizers, norms and "
                 "augmentations", _const_property),
        Evidence("property", "every optimizer step commutes with hidden-unit permutations (bitwise)",
                 _const_optimizers),
        Evidence("counterexample", "hidden dropout, DropConnect and gradient noise untie units under all 7 "
                 "optimizers", _const_breakers),
    ),
))
