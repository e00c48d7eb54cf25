"""When a probe batch is too small for its BatchNorms to let the signal check decide.

A BatchNorm in training mode divides each channel by the standard deviation ``s`` of the ``m`` values the
batch holds for it (batch × spatial positions) and projects the gradient off the batch mean and the
normalised values.  Backward, per channel ``g_in = (γ/s)·P·g`` with ``P`` that projection, so
``E|g_in|² = γ²·E[1/s²]·E|P g|²``.  With ``s² = σ²·χ²_{m−1}/m`` (the biased batch variance of Gaussian
values), ``E[σ²/s²] = m/(m−3)``, and ``P`` removes 2 of ``m`` directions, ``E|Pg|² = (m−2)/m·|g|²``: the
squared gradient norm picks up

    ``b(m) = (m−2)/(m−3)``  (``m > 3``; unbounded for ``m <= 3``)

per batch-statistics normalisation relative to the population statistics the init is designed for
(``σ`` cancels the preceding weights' scale; the sampling error of ``s`` is not an init property).  It is a
bias, not noise: it compounds over the ``L`` normalisations the gradient crosses, ``b(m)^L``, and the
per-channel fluctuations average out over the channels.  (Checked by simulation: a chain of 18
He-initialised 1x1 conv + BatchNorm + ReLU layers, width 192, gains an excess ``log|g|²`` per layer over
the ``m = 256`` chain of 0.63, 0.32, 0.21, 0.13, 0.09, 0.05 at ``m`` = 4, 6, 8, 12, 16, 32; ``log b(m)`` =
0.69, 0.29, 0.18, 0.11, 0.07, 0.03.)

The signal check's smallest decision threshold is its note ratio ``r`` (10x).  The growth the batch alone
can cause stays below it when ``L·log b(m) <= log r``, i.e. ``m >= m_min(L) = 3 + 1/(r^(1/L) − 1)``
(:func:`m_min`; 11 for ``L = 18``, ``r = 10``).  A backward growth that crosses a normalisation that saw
fewer values is not decided (:func:`too_small`): it may be the batch's, not the init's; a larger probe
batch or input decides it.  A decay is not decided across a normalisation of ``m <= 2`` values
(:data:`NO_GRADIENT`: it passes no gradient at all).  Forward moments are not affected for ``m >= 2``: a
batch-normalised channel has exactly the normalised moments; at ``m = 1`` it outputs its shift ``β`` alone, so a
probe with any normalisation of ``m <= 2`` decides neither direction (:func:`invariants.modelcheck.signal.signal`).

A per-sample GroupNorm/InstanceNorm (``BatchStat.kind == "group"``) normalises ``m`` = channels per group ×
positions values the same way (mean and scale removed, the scale sampled from ``m`` values), so the same
``b(m)`` and the same rules apply; its ``m`` grows with the input's positions, not with the batch
(:func:`rerun`).
"""
from __future__ import annotations

import math

from invariants.frameworks.model import BatchStat, Probe


def m_min(crossed: int, note_ratio: float) -> int:
    """Smallest values per channel at which ``crossed`` batch-statistics normalisations, each biasing the
    squared gradient norm by ``(m−2)/(m−3)``, compound to at most ``note_ratio`` (module docstring).

    Raises:
        ValueError: ``crossed < 1`` or ``note_ratio <= 1``.
    """
    if crossed < 1 or note_ratio <= 1:
        raise ValueError(f"m_min needs crossed >= 1 and note_ratio > 1, got {crossed}, {note_ratio}")
    return math.floor(3 + 1 / (note_ratio ** (1 / crossed) - 1)) + 1


def crossed(probe: Probe, first: str, last: str) -> list[BatchStat]:
    """The batch-statistics normalisations executed between node ``first`` (included: its own output's norm)
    and node ``last`` (excluded), in :attr:`Probe.signals` order: those the gradient crosses from ``last``'s
    input down to ``first``'s."""
    pos = {s.name: i for i, s in enumerate(probe.signals)}
    lo, hi = pos.get(first), pos.get(last)
    if lo is None or hi is None:
        return []
    return [b for b in probe.batch_stats if b.after is not None and b.after in pos and lo <= pos[b.after] < hi]


#: values per channel at or below which a batch-statistics normalisation passes no gradient: the batch mean and
#: the normalised values span every direction of ``m <= 2`` values, so the projection leaves ``g_in = 0`` (and at
#: ``m = 1`` the output is the shift ``β`` whatever the input)
NO_GRADIENT = 2


def too_small(probe: Probe, first: str, last: str, note_ratio: float,
              growth: bool = True) -> tuple[list[BatchStat], int] | None:
    """``(the crossed normalisations that saw too few values, the values needed)`` for a backward trend between
    nodes ``first`` and ``last``: for a growth, fewer than :func:`m_min`; for a decay, at most
    :data:`NO_GRADIENT` (the batch zeroes the gradient; a larger ``m`` only biases it upwards).  ``None``
    when none did (or none is crossed)."""
    norms = crossed(probe, first, last)
    if not norms:
        return None
    need = m_min(len(norms), note_ratio) if growth else NO_GRADIENT + 1
    small = [b for b in norms if b.values < need]
    return (small, need) if small else None


def _n(k: int, word: str) -> str:
    return f"{k} {word}{'s' if k != 1 else ''}"


def per(stat: BatchStat) -> str:
    """What one statistic of ``stat`` is taken over: ``"channel"`` (a BatchNorm) or ``"group"`` (a per-sample
    GroupNorm/InstanceNorm, :class:`~invariants.frameworks.model.BatchStat`)."""
    return "group" if stat.kind == "group" else "channel"


def short_of(probe: Probe, stat: BatchStat) -> tuple[str, int]:
    """The opening of a coverage reason (the caller closes the parenthesis) and the positions per input:
    ``("not decided: the probe batch is too small for BatchNorm NAME (m values per channel: B inputs x P
    positions", P)`` for a batch statistic; ``("not decided: the probe input is too small for GroupNorm NAME
    (m values per group: C channels x P positions", P)`` for a per-sample group statistic (the batch does not
    enter it).  A rerun's inputs follow from ``P`` (:func:`rerun`)."""
    if stat.kind == "group":
        channels = max(stat.channels, 1)
        positions = max(stat.values // channels, 1)
        return (f"not decided: the probe input is too small for {stat.layer} {stat.name} ({_n(stat.values, 'value')} "
                f"per group: {_n(channels, 'channel')} x {_n(positions, 'position')}", positions)
    positions = max(stat.values // max(probe.batch, 1), 1)
    return (f"not decided: the probe batch is too small for BatchNorm {stat.name} ({_n(stat.values, 'value')} per "
            f"channel: {_n(probe.batch, 'input')} x {_n(positions, 'position')}", positions)


def rerun(probe: Probe, stat: BatchStat, need: int, or_larger: bool = True) -> str:
    """How to rerun so ``stat`` sees at least ``need`` values: for a batch statistic, ``"rerun with at least K
    probe inputs"`` (with ``or_larger``: ``" at this input size, or a larger input ..."``); for a per-sample
    group statistic, a larger input (its positions; more probe inputs change nothing)."""
    positions = short_of(probe, stat)[1]
    if stat.kind == "group":
        # a map that stays 1x1 at every input size (after a global pool) is the model's own cut, which no
        # rerun can show; the shape pass is not rerun at another size to tell the two apart, so both are named
        fixed = (f"; if the map there is 1x1 at every input size (after a global pool), {stat.layer} {stat.name} "
                 f"normalises {_n(max(stat.channels, 1), 'value')} per group whatever the input"
                 + (" and outputs its shift alone: that cut is the model's own, not the probe's"
                    if stat.channels <= NO_GRADIENT else "")) if positions == 1 else ""
        return (f"rerun with a larger input, so the feature map there has at least "
                f"{_n(math.ceil(need / max(stat.channels, 1)), 'position')} (more probe inputs do not change a "
                "per-sample statistic)" + fixed)
    return (f"rerun with at least {math.ceil(need / positions)} probe inputs"
            + (" at this input size, or a larger input so the feature map there has more positions" if or_larger else ""))


def rerun_all(probe: Probe, stats: list[BatchStat], need: int, or_larger: bool = True) -> str:
    """:func:`rerun` for the smallest batch statistic of ``stats`` and for the smallest per-sample group one, joined:
    more probe inputs fix the first kind, only a larger input the second, so a list holding both needs both."""
    parts = [rerun(probe, min(kind, key=lambda b: b.values), need, or_larger)
             for kind in ([b for b in stats if b.kind != "group"], [b for b in stats if b.kind == "group"]) if kind]
    return "; and ".join(parts)


__all__ = ["NO_GRADIENT", "crossed", "m_min", "per", "rerun", "rerun_all", "short_of", "too_small"]
