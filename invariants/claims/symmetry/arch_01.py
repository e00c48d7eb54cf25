"""SYM-ARCH-01: which common operations keep tied hidden units tied, and which break the tie.

Vocabulary, layout and the evidence conventions: see :mod:`invariants.claims.symmetry`; the torch models:
:mod:`invariants.experiments.tie_catalogue` (float64, CPU, one thread, seeded; torch imported lazily).
"""
from __future__ import annotations

from invariants.claims.evidence import check, short
from invariants.claims.registry import Claim, Evidence, EvidenceResult, Verdict, mutant, register


def _fmt(run) -> str:
    return f"defect SGD {short(run.defect['sgd'])}, Adam {short(run.defect['adam'])}"


def contrast(breakers: dict, keepers: dict, what: str) -> EvidenceResult:
    """Evidence that every run in ``breakers`` broke the tie (defect ≥ BREAK under SGD and Adam) and every
    run in ``keepers`` kept it (defect ≤ KEEP)."""
    from invariants.experiments.tie_catalogue import BREAK, KEEP, STEPS

    ok = all(r.broken for r in breakers.values()) and all(r.kept for r in keepers.values())
    def seen(r) -> str:
        return "broken" if r.broken else "kept" if r.kept else "unsettled"

    parts = [f"{k}: {seen(r)} ({_fmt(r)}{'; ' + r.note if r.note else ''})" for k, r in {**breakers, **keepers}.items()]
    return check(ok, f"{what}, {STEPS} steps of SGD and of Adam: " + "; ".join(parts),
                 f"{what}: expected {', '.join(breakers) or 'nothing'} broken (defect ≥ {BREAK:g}) and "
                 f"{', '.join(keepers) or 'nothing'} kept (≤ {KEEP:g}), got " + "; ".join(parts))


def conv_evidence(channel_dropout: bool = False) -> EvidenceResult:
    """Tied output channels of a convolution stay tied (:func:`conv_channels`); ``channel_dropout`` is the
    mutant."""
    from invariants.experiments.tie_catalogue import conv_channels

    return contrast({}, {"tied output channels of Conv1d": conv_channels(channel_dropout)},
                    "Conv1d(2→4, k=3) → tanh → Conv1d(4→2), 4 tied channels")


@mutant("channels dropped independently (Dropout1d 0.5)", lambda: conv_evidence(True))
def _conv() -> EvidenceResult:
    return conv_evidence()


def residual_evidence(branch_dropout: bool = False) -> EvidenceResult:
    """Tied units of residual branches stay tied (:func:`residual_branch`); ``branch_dropout`` is the
    mutant."""
    from invariants.experiments.tie_catalogue import residual_branch

    return contrast({}, {"tied branch units": residual_branch(branch_dropout)},
                    "two residual blocks x + W₂tanh(W₁x + b₁) on a 3-wide stream, 4 tied branch units each")


@mutant("branch units dropped independently (dropout 0.5)", lambda: residual_evidence(True))
def _residual() -> EvidenceResult:
    return residual_evidence()


def attention_evidence(attn_dropout: float = 0.0) -> EvidenceResult:
    """Tied heads and tied units within a head stay tied (:func:`attention_heads`); ``attn_dropout`` > 0
    is the mutant."""
    from invariants.experiments.tie_catalogue import attention_heads

    return contrast({}, {"2 tied heads": attention_heads(attn_dropout),
                         "2 tied units of one head": attention_heads(attn_dropout, within_head=True)},
                    "torch multi_head_attention_forward, embed 4, tied q/k/v rows, biases, output columns")


@mutant("attention dropout 0.5 (independent masks per head and query)", lambda: attention_evidence(0.5))
def _attention() -> EvidenceResult:
    return attention_evidence()


def norm_evidence(untie: float = 0.0) -> EvidenceResult:
    """LayerNorm after a tied layer: output = β exactly for every input, the tied layer's gradient exactly
    0, the network's output constant in x; BatchNorm after a tied layer: tie kept, output varies.
    ``untie`` > 0 (the mutant) perturbs the tied rows."""
    from invariants.experiments.tie_catalogue import BREAK, KEEP, STEPS, norm_after_tie

    ln, bn = norm_after_tie("layer", untie), norm_after_tie("batch", untie)
    ok = (ln.off_shift <= KEEP and ln.max_grad_w <= KEEP and ln.output_spread <= KEEP and ln.defect <= KEEP
          and bn.defect <= KEEP and bn.output_spread >= BREAK)
    detail = (f"tied Linear(3, 4) → norm → tanh → Linear(4, 2), {STEPS} SGD steps, 16 inputs: LayerNorm — "
              f"max |output − β| {short(ln.off_shift)}, max |∂L/∂W| of the tied layer {short(ln.max_grad_w)}, "
              f"network output spread over the inputs {short(ln.output_spread)}; BatchNorm — tie defect "
              f"{short(bn.defect)}, output spread {short(bn.output_spread)}")
    return check(ok, detail, "unexpected: " + detail)


@mutant("tied rows perturbed by N(0, (1e-3)²): the LayerNorm input is no longer constant across units",
        lambda: norm_evidence(1e-3))
def _norms() -> EvidenceResult:
    return norm_evidence()


def max_evidence(breakers: tuple[str, ...] = ("max", "pool"),
                 keepers: tuple[str, ...] = ("amax",)) -> EvidenceResult:
    """Index-picking maxima over tied units break the tie, the even split keeps it (:func:`maxout`); the
    mutant passes ``("amax",)`` as the breakers."""
    from invariants.experiments.tie_catalogue import maxout

    names = {"max": "maxout by torch.max (gradient to the returned index)",
             "pool": "max_pool1d over units (gradient to one index)",
             "amax": "maxout by torch.amax (gradient split evenly between ties)"}
    return contrast({names[k]: maxout(k) for k in breakers}, {names[k]: maxout(k) for k in keepers},
                    "tied Linear(3, 4) → max over unit pairs → Linear(2, 2)")


@mutant("torch.amax (even split) in place of the index-picking torch.max and max_pool1d",
        lambda: max_evidence(("amax",), ()))
def _max() -> EvidenceResult:
    return max_evidence()


def topk_evidence(k_breaker: int = 1) -> EvidenceResult:
    """Top-1 routing over two tied experts breaks the tie, dense routing keeps it (:func:`topk_routing`);
    ``k_breaker=2`` is the mutant."""
    from invariants.experiments.tie_catalogue import topk_routing

    return contrast({f"top-{k_breaker} routing": topk_routing(k_breaker)},
                    {"dense (top-2 of 2) routing": topk_routing(2)},
                    "mixture of 2 tied experts (3-4-2 tanh) with a tied router")


@mutant("top-2 of 2 experts (dense) in place of top-1", lambda: topk_evidence(2))
def _topk() -> EvidenceResult:
    return topk_evidence()


def mask_evidence(breaker_per_unit: bool = True) -> EvidenceResult:
    """A per-unit fixed pruning mask breaks the tie, a shared one keeps it (:func:`pruning_mask`);
    ``breaker_per_unit=False`` is the mutant."""
    from invariants.experiments.tie_catalogue import pruning_mask

    return contrast({"a different fixed pruning pattern per unit": pruning_mask(breaker_per_unit)},
                    {"one pattern shared by all units": pruning_mask(False)},
                    "tied 3-4-2 tanh MLP, W₁ ⊙ fixed mask")


@mutant("the shared mask in place of the per-unit one", lambda: mask_evidence(False))
def _mask() -> EvidenceResult:
    return mask_evidence()


def dropout_evidence(breaker: str = "per-unit") -> EvidenceResult:
    """Per-unit dropout breaks the tie, a draw shared by the layer keeps it (:func:`dropout`);
    ``breaker="shared"`` is the mutant."""
    from invariants.experiments.tie_catalogue import dropout

    return contrast({f"{breaker} dropout 0.5": dropout(breaker)},
                    {"shared (one draw per example) dropout": dropout("shared")},
                    "tied 3-4-2 tanh MLP, hidden dropout")


@mutant("shared dropout in place of torch's per-unit dropout", lambda: dropout_evidence("shared"))
def _dropout() -> EvidenceResult:
    return dropout_evidence()


def rounding_evidence(breaker: str = "per-coordinate") -> EvidenceResult:
    """Per-coordinate stochastic rounding breaks the tie; shared draws and round-to-nearest keep it
    (:func:`stochastic_rounding`); ``breaker="shared"`` is the mutant."""
    from invariants.experiments.tie_catalogue import GRID, stochastic_rounding

    return contrast({f"{breaker} stochastic rounding": stochastic_rounding(breaker)},
                    {"shared-draw stochastic rounding": stochastic_rounding("shared"),
                     "round to nearest": stochastic_rounding("nearest")},
                    f"tied 3-4-2 tanh MLP, parameters rounded to a grid of {GRID:g} after every step")


@mutant("one uniform draw shared by the tied units in place of a draw per coordinate",
        lambda: rounding_evidence("shared"))
def _rounding() -> EvidenceResult:
    return rounding_evidence()


register(Claim(
    id="SYM-ARCH-01",
    verdict=Verdict.VERIFIED,
    title="Which operations keep tied hidden units tied: convolutions, residual branches, attention heads "
          "and norms keep the tie; index-picking maxima, top-k routing, per-unit masks, dropout and "
          "stochastic rounding break it",
    seed_quotes=(
        "The weights attached to the same neuron, continue to remain the same throughout the training.",
        "Hence to break this symmetry the weights connected to the same neuron should not be initialized to "
        "the same value.",
    ),
    statement=(
        "Tied units stay tied (SYM-EQUIV-01's hypotheses hold) for: the output channels of a convolution "
        "(weight sharing ties spatial positions by construction; the units are the channels); the hidden units "
        "of a residual branch x + f(x) (the stream itself is not tied: the skip carries x, which differs per "
        "coordinate); the heads of multi-head attention (and units within a head); batch norm; and dropout, "
        "masks or stochastic rounding whose random draw is shared by the tied units.  A layer whose units are all "
        "tied (one class, e.g. a constant init) followed by layer norm is degenerate: all its units are equal, so x − mean(x) = 0 and the norm outputs its shift β "
        "exactly for every input, the tied layer's gradient is exactly 0 and the network computes a function "
        "constant in x — the tie is kept and nothing below the norm ever learns.  The tie is broken by: maxout "
        "or max-pooling over units whose subgradient picks one index (torch.max, max_pool1d; torch.amax, which "
        "splits the gradient evenly, keeps it), top-k routing with fewer slots than tied experts (the tie of "
        "the router scores is broken by index: expert 0 takes every token), per-unit fixed masks (pruning), "
        "per-unit dropout, and per-coordinate stochastic rounding.  Each entry is measured in torch over 20 "
        "steps of SGD and of Adam: kept ties have defect 0 (bitwise), broken ones ≥ 1e-6."
    ),
    conditions=(
        "the tie must be complete: every parameter of a unit (incoming weights, bias, norm scale and shift, "
        "outgoing weights; for heads: q/k/v rows, biases and output columns) equal to its partner's",
        "an operation keeps the tie exactly when it is equivariant under the permutation of the tied units, "
        "including its tie-breaking rule and each random draw (SYM-EQUIV-01)",
        "measured at small sizes (channels 4, heads 2, experts 2, widths 3-4-2) for 20 steps; the keeps "
        "entries hold for every size and horizon by SYM-EQUIV-01, the breaks entries need only one "
        "counterexample",
    ),
    scope=(
        "torch 2.x CPU, float64: Conv1d, residual MLP blocks, F.multi_head_attention_forward, F.layer_norm, "
        "F.batch_norm, torch.max/amax/max_pool1d, torch.topk, F.dropout, stochastic rounding to a 2⁻¹⁰ grid; "
        "SGD (lr 0.1) and Adam (lr 0.01), 20 steps"
    ),
    derivation=(
        "Keeps: each operation commutes with the permutation of the tied units (channels of a convolution, "
        "units of a branch, heads, per-unit batch-norm statistics, shared random draws), so SYM-EQUIV-01 applies.  "
        "Layer norm: a tied layer's output is a constant vector c·1, whose mean is c and whose deviation is 0, "
        "so LN(c·1) = β; ∂LN/∂z = (γ/√(σ²+ε))(I − 11ᵀ/n − x̂x̂ᵀ/n) applied to an upstream gradient that is itself "
        "constant across the tied units is 0.  Breaks: an operation that is not equivariant — argmax picks an "
        "index, top-1 of equal scores selects one expert, a per-unit mask or draw treats units differently — "
        "gives tied units different gradients or updates, so the first step separates them."
    ),
    references=(
        "Goodfellow, Warde-Farley, Mirza, Courville & Bengio, Maxout Networks (ICML 2013)",
        "Shazeer et al., Outrageously Large Neural Networks: the sparsely-gated mixture-of-experts layer (ICLR 2017)",
        "Ba, Kiros & Hinton, Layer Normalization (2016), eq. 4",
        "Gupta et al., Deep Learning with Limited Numerical Precision (ICML 2015): stochastic rounding",
    ),
    evidence=(
        Evidence("experiment", "convolution: tied output channels stay tied", _conv),
        Evidence("experiment", "residual branch: tied branch units stay tied; the stream is not tied", _residual),
        Evidence("experiment", "multi-head attention: tied heads, and tied units within a head, stay tied",
                 _attention),
        Evidence("experiment", "layer norm after a tied layer outputs β, freezes the layer; batch norm keeps the "
                 "tie and the signal", _norms),
        Evidence("counterexample", "index-picking max (maxout, max-pooling over units) breaks; amax keeps", _max),
        Evidence("counterexample", "top-1 routing over tied experts breaks (index tie-break); dense keeps", _topk),
        Evidence("counterexample", "per-unit pruning masks break; a shared mask keeps", _mask),
        Evidence("counterexample", "per-unit dropout breaks; shared dropout keeps", _dropout),
        Evidence("counterexample", "per-coordinate stochastic rounding breaks; shared draws and nearest keep",
                 _rounding),
    ),
))
