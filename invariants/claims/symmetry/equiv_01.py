"""SYM-EQUIV-01: training keeps the fixed set of any symmetry of parametrisation, loss, data and update rule.

Vocabulary, layout and the evidence conventions: see :mod:`invariants.claims.symmetry`; the proof:
:mod:`invariants.symbolic.equivariance`.
"""
from __future__ import annotations

import numpy as np
from hypothesis import given, strategies as st

from invariants.claims.evidence import property_with_coverage, run_property
from invariants.claims.registry import Claim, Evidence, EvidenceResult, Verdict, mutant, register
from invariants.claims.symmetry.shared import instance_evidence, lemma_evidence
from invariants.experiments.fixed_points import cycles, project_to_fixed
from invariants.experiments.networks import make_data
from invariants.experiments.training import train_checking_ties
from invariants.hypothesis_profiles import verify_settings
from invariants.reference import (
    ACTIVATIONS,
    Architecture,
    OPTIMIZERS,
    forward,
    loss_and_grad,
    make_optimizer,
    permute_hidden,
    random_params,
)
from invariants.reference.norms import NORMS


@mutant("g a scaling c·I instead of an orthogonal map: gᵀ(g∇L) = c²∇L ≠ ∇L", lambda: lemma_evidence(False))
def _equiv_lemma() -> EvidenceResult:
    return lemma_evidence()


@mutant("a per-unit hidden-dropout mask that σ does not move: z(σθ) ≠ z(θ)", lambda: instance_evidence(True))
def _equiv_instance() -> EvidenceResult:
    return instance_evidence()


def fixed_set_property(seen: dict, hidden_dropout: float = 0.0, max_examples: int = 25):
    """Hypothesis over random architectures: a random permutation π of a random hidden layer; (H1) the
    output at πθ equals the output at θ bitwise for a random θ; (H2) the gradient at πθ equals π of the
    gradient at θ bitwise; (conclusion) θ₀ projected onto Fix(⟨π⟩) and trained (random optimizer,
    minibatches, 1–12 steps) stays in Fix(⟨π⟩) bitwise after every step.  ``hidden_dropout`` > 0 is the
    mutant (per-unit masks: the update is not π-equivariant)."""

    @verify_settings(max_examples)
    @given(hidden=st.lists(st.integers(2, 7), min_size=1, max_size=3), n_in=st.integers(1, 4),
           n_out=st.integers(1, 3), activation=st.sampled_from(sorted(ACTIVATIONS)),
           norm=st.sampled_from((None, *NORMS)), loss=st.sampled_from(("mse", "softmax_xent")),
           optimizer=st.sampled_from(OPTIMIZERS), dtype=st.sampled_from(("float32", "float64")),
           steps=st.integers(1, 12), seed=st.integers(0, 2**32 - 1))
    def prop(hidden, n_in, n_out, activation, norm, loss, optimizer, dtype, steps, seed):
        if loss == "softmax_xent":
            n_out = max(n_out, 2)
        arch = Architecture((n_in, *hidden, n_out), activation, loss, dtype=dtype, norm=norm,
                            hidden_dropout=hidden_dropout)
        rng = np.random.default_rng(seed)
        layer = int(rng.integers(1, arch.depth))
        perm = rng.permutation(arch.sizes[layer])
        while all(len(c) == 1 for c in cycles(perm)):  # the identity fixes everything: nothing to test
            perm = rng.permutation(arch.sizes[layer])
        x, t = make_data(arch, 6, seed)
        theta = random_params(arch, rng, bias_std=0.5)
        if not hidden_dropout:  # the hypotheses (no mask drawn; with dropout the net is random)
            moved = permute_hidden(arch, theta, layer, perm)
            assert forward(arch, moved, x).output.tobytes() == forward(arch, theta, x).output.tobytes(), "H1"
            _, g_moved = loss_and_grad(arch, moved, x, t)
            _, g = loss_and_grad(arch, theta, x, t)
            pg = permute_hidden(arch, g, layer, perm)
            assert all(pg[k].tobytes() == g_moved[k].tobytes() for k in g), "H2: gradient not π-equivariant"
        theta0 = project_to_fixed(arch, theta, layer, perm)
        run = train_checking_ties(arch, theta0, x, t, make_optimizer(optimizer, lr=0.05), steps, batch_size=4,
                                  rng=np.random.default_rng(seed + 1))
        fixed = permute_hidden(arch, run.params, layer, perm)
        assert run.tied and all(fixed[k].tobytes() == run.params[k].tobytes() for k in fixed), (
            f"left Fix(⟨π⟩) after step {run.first_untied}: π = {perm.tolist()} on layer {layer} of {arch.sizes}, "
            f"{optimizer}, {activation}, norm {norm}")
        seen.setdefault("#optimizers", set()).add(optimizer)
        seen.setdefault("#cycle types", set()).add(tuple(sorted((len(c) for c in cycles(perm)), reverse=True)))
        seen.setdefault("#overflow stops", set())
        if run.diverged_at is not None:
            seen["#overflow stops"].add(seed)

    return prop


@mutant("hidden dropout 0.5 (independent per-unit masks)",
        lambda: run_property(fixed_set_property({}, hidden_dropout=0.5, max_examples=4), "should fail"))
def _equiv_property() -> EvidenceResult:
    return property_with_coverage(
        lambda seen: fixed_set_property(seen), 25,
        "random MLPs (1-3 hidden layers, width 2-7, any activation/norm/loss/dtype), random π ≠ id on a hidden "
        "layer: outputs at πθ, θ bitwise equal (H1), gradients π-equivariant (H2); θ₀ ∈ Fix(⟨π⟩) trained "
        "1-12 minibatch steps stayed in Fix bitwise")


register(Claim(
    id="SYM-EQUIV-01",
    verdict=Verdict.PROVED,
    title="Training keeps the fixed set of any symmetry of parametrisation, loss, data and update rule",
    seed_quotes=(
        "This problem is known as network failing to break symmetry.",
        "It makes the hidden units symmetric and this problem is known as the symmetry problem.",
        "If the gradients are equal then weights are going to be updated by the same amount.",
    ),
    statement=(
        "Let a group G act on the parameters θ and on the optimizer state by orthogonal linear maps "
        "(permutations).  If (H1) the loss of every batch is G-invariant, L(gθ) = L(θ) — as it is when the "
        "parametrisation is, f(x; gθ) = f(x; θ), and the data pipeline does not depend on θ — and (H2) the "
        "update rule is G-equivariant, U(gθ, g·s, g∇) = g·U(θ, s, ∇) for the parameters and the state, then "
        "the fixed-point set Fix(G) = {θ : gθ = θ for all g ∈ G}, with the state in Fix(G), is invariant "
        "under training for every number of steps: ∇L(gθ) = g∇L(θ), so at a fixed point the gradient is "
        "fixed, and so is the step.  For an MLP with elementwise activations — every width, depth and batch "
        "size, with or without layer or batch norm — permutations of the hidden units of a layer satisfy "
        "(H1), and every per-coordinate optimizer with hyper-parameters shared by all coordinates and "
        "global-norm clipping satisfies (H2); θ ∈ Fix(⟨π⟩) means the units of each cycle of π are tied.  "
        "Which other operations keep (H1)/(H2) and which break them: SYM-ARCH-01."
    ),
    conditions=(
        "g acts orthogonally (a permutation): for a non-orthogonal symmetry such as the scaling of a "
        "batch-normalized layer's weights, L(cθ) = L(θ) gives ∇L(cθ) = ∇L(θ)/c, not c∇L(θ) — the "
        "fixed set of a scaling is {0} and the gradient is not equivariant",
        "exact arithmetic; bitwise in floating point only with a permutation-equivariant kernel (SYM-FP-01)",
        "anything random or per-coordinate in the loss or update (dropout masks, noise, per-unit rates) must "
        "itself be G-equivariant in distribution and in each draw: a per-unit mask drawn once per step is not",
    ),
    scope=(
        "any model and any group of orthogonal (permutation) symmetries satisfying (H1) and (H2); proved "
        "symbolically for the transpositions of hidden units of MLPs with elementwise activations (plain, "
        "layer norm, per-unit norm such as batch norm) of every width, depth and batch size, with any "
        "per-coordinate optimizer and global-norm clipping; checked bitwise on random reference MLPs with "
        "the 7 reference optimizers"
    ),
    derivation=(
        "(S1) Differentiate L(gθ) = L(θ) along δ: ⟨∇L(gθ), gδ⟩ = ⟨∇L(θ), δ⟩, so gᵀ∇L(gθ) = ∇L(θ) and, g being "
        "orthogonal, ∇L(gθ) = g∇L(θ).  (S2) If θ = gθ, ∇L(θ) = ∇L(gθ) = g∇L(θ).  (S3) If θ, s, ∇ are fixed, "
        "θ' = U(θ, s, ∇) = U(gθ, gs, g∇) = gθ', and the new state likewise.  (S4) Induction over steps from a "
        "fixed initial state (zero state is fixed).  The MLP instance: for a transposition σ of units j, k of "
        "layer l, the next pre-activation z = Σ_u c_u φ(w_uᵀh + b_u) is a sum over units (layer-norm statistics "
        "are symmetric sums over units; batch-norm statistics are per unit), so z(σθ) = z(θ) whatever the "
        "layers below (through h) and above (through z) compute; SymPy checks this and the explicit gradients "
        "with the width n, input width m, next width p and batch size B as symbols and the rest of the layer "
        "as a symbolic Sum (so the proof is for every size), and one step of a generic per-coordinate optimizer "
        "with global-norm clipping.  Every permutation is a product of transpositions."
    ),
    references=(
        "Goodfellow, Bengio & Courville, Deep Learning (2016), §8.4: breaking the symmetry between hidden units",
        "Bronstein, Bruna, Cohen & Veličković, Geometric Deep Learning (2021), §3: invariance and equivariance",
    ),
    evidence=(
        Evidence("symbolic", "chain rule for orthogonal symmetries and the equivariant step, index-free (SymPy)",
                 _equiv_lemma),
        Evidence("symbolic", "hidden-unit transpositions of MLPs of symbolic width, depth and batch: invariance, "
                 "gradient equivariance, clipped per-coordinate step (SymPy)", _equiv_instance),
        Evidence("property", "random architectures and permutations: H1, H2 and Fix(⟨π⟩) kept bitwise under "
                 "all 7 optimizers", _equiv_property),
    ),
))
