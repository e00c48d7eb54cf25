"""A signal decay note through layers at PyTorch's default init says why, citing claim VAR-TORCHDEFAULT-01.

``torch.nn.Linear``/``ConvNd.reset_parameters`` draw ``kaiming_uniform_(w, a=sqrt(5))``: ``U(±1/sqrt(fan_in))``,
``Var·fan_in = 1/3``, so at zero bias each linear layer multiplies the pre-activation variance by 1/3 and each
ReLU layer by 1/6 (claim VAR-TORCHDEFAULT-01, :mod:`invariants.claims.variance.torchdefault_01`).  A decay through
depth (``signal-forward`` decay, ``signal-backward`` vanishing) whose every measured layer matches that default is
the framework's design, not a typo: the note names the claim so a reader can check the factor.  Errors (a decay
beyond the error threshold) keep their text: a deep stack at the default is still broken at init.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from invariants.modelcheck.report import NOTE, Finding

if TYPE_CHECKING:
    from invariants.modelcheck.variance import Match, Unit

CLAIM = "VAR-TORCHDEFAULT-01"


def _torch_default(m: "Match") -> bool:
    return any(s.name.startswith("torch_default") for s, _ in m.schemes)


def cite_torch_default(findings: list[Finding], results: "list[tuple[Unit, Match]]") -> None:
    """Add the claim's sentence (and ``figures["claim"]``) to each ``signal-forward``/``signal-backward`` note of a
    decay whose every member layer's weight (a whole tensor owned by that layer) matches PyTorch's default; the
    findings are updated in place."""
    by_owner: dict[str, list["Match"]] = {}
    for u, m in results:
        if u.label == u.param.name and u.param.role == "weight":
            by_owner.setdefault(u.param.owner, []).append(m)
    for f in findings:
        if f.severity != NOTE or f.kind not in ("signal-forward", "signal-backward") or f.figures.get("not_decided"):
            continue  # an undecided trend may be the probe batch's, not the default's
        if not f.figures.get("log_change", 0) < 0 or not f.params:
            continue
        if not all(by_owner.get(n) and all(_torch_default(m) for m in by_owner[n]) for n in f.params):
            continue
        effect = ("at zero bias it shrinks the pre-activation variance 3x per linear layer and 6x per ReLU layer"
                  if f.kind == "signal-forward" else
                  "going backward it scales the gradient's variance by fan_out/(3 fan_in) per linear layer (1/3 for "
                  "a square layer; half that again through a ReLU)")
        f.message += (f" Every one of these layers matches PyTorch's default U(+-1/sqrt(fan_in)) (Var*fan_in = 1/3): "
                      f"{effect}, by design (claim {CLAIM}).")
        f.figures["claim"] = CLAIM


__all__ = ["CLAIM", "cite_torch_default"]
