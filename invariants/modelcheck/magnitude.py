"""Findings on a weight-normed layer name its magnitude ``g``, the parameter that sets the weight's scale.

A weight-normed layer is read through its effective weight ``w = g·v/‖v‖`` (Salimans & Kingma 2016, eq. 2;
:mod:`invariants.frameworks.torch.weightnorm`), under the name of ``v`` (``parametrizations.weight.original1``,
``weight_v``).  The norms of ``w`` are ``|g|`` slice by slice whatever ``v``'s scale, so a scale finding on ``w``
is a finding on ``g`` (``original0``, ``weight_g``): rescaling ``v`` changes neither ``w`` nor the function.  The
message names ``g`` beside the subject, so a reader is not sent to ``v`` (figure ``magnitude``).
"""
from __future__ import annotations

from typing import Iterable

from invariants.frameworks.model import Param
from invariants.modelcheck.report import Finding


def name_magnitudes(findings: Iterable[Finding], params: Iterable[Param]) -> None:
    """Annotate, in place, each finding whose subject (its first parameter, or a block of it) is a weight-normed
    layer's effective weight: after the subject's first mention, the magnitude ``g`` that sets its scale."""
    mags = {p.name: p.magnitude for p in params if p.magnitude}
    if not mags:
        return
    for f in findings:
        if not f.params:
            continue
        subject = f.params[0]
        g = mags.get(subject.split("[")[0])
        if g is None:
            continue
        at = f.message.find(subject)
        if at < 0:
            continue
        end = at + len(subject)
        f.message = (f.message[:end] + f" (the effective weight g*v/||v|| of a weight-normed layer, read under v's "
                     f"name: its scale is that of its magnitude g, {g}; v only sets its direction)" + f.message[end:])
        f.figures["magnitude"] = g


__all__ = ["name_magnitudes"]
