"""Floating-point rounding: rounding to a significand width, tie probabilities of rounded Gaussians,
and the summation error bound γ_n."""
from __future__ import annotations

import math

import numpy as np
from scipy import special

#: Significand precision p (bits, implicit bit included) of the formats discussed.
PRECISION = {"bfloat16": 8, "float16": 11, "float32": 24, "float64": 53}


def round_significand(x: np.ndarray, bits: int) -> np.ndarray:
    """Round float64 values to ``bits`` significant bits, to nearest with ties to even (one rounding).

    ``bits=8`` gives bfloat16 values for every input in bfloat16's normal range (|x| ∈ [2^-126, 2^128));
    the exponent range itself is not limited.  The result is float64 and exactly representable in
    float32 whenever ``bits`` ≤ 24 and the exponent is in float32's normal range.
    """
    m, e = np.frexp(np.asarray(x, dtype=np.float64))  # x = m·2^e, 0.5 ≤ |m| < 1: m·2^bits is exact
    return np.ldexp(np.rint(np.ldexp(m, bits)), e - bits)


def tie_probability(bits: int, std: float = 1.0) -> float:
    """P(X = Y) for X, Y i.i.d. N(0, std²) rounded to ``bits`` significant bits (round to nearest).

    Exact sum Σ_v P(round(X) = v)² over representable v for ``bits`` ≤ 16 (each P is a difference of
    normal CDFs over v's rounding interval); for larger ``bits`` the binade-wise integral
    Σ_e ulp_e·∫_binade φ_std(x)² dx, whose relative error is O(2^-bits).  Binades below 2^-60·std (and
    above 2^10·std) are dropped; their contribution is below 1e-18 of the result.
    """
    e0 = math.floor(math.log2(std))
    total = 0.0
    for e in range(e0 - 60, e0 + 10):
        ulp = 2.0 ** (e - bits + 1)
        if bits <= 16:
            v = 2.0**e + ulp * np.arange(2 ** (bits - 1))
            lo, hi = v - ulp / 2, v + ulp / 2
            lo[0] = v[0] - ulp / 4  # spacing halves below a power of two
            p = special.ndtr(hi / std) - special.ndtr(lo / std)
            total += float(np.sum(p * p))
        else:  # ∫ φ_σ² over [a, b] = (erf(b/σ) − erf(a/σ)) / (4√π σ)
            mass = special.erf(2.0 ** (e + 1) / std) - special.erf(2.0**e / std)
            total += ulp * mass / (4 * math.sqrt(math.pi) * std)
    return 2 * total  # both signs


_U = 2.0**-53  # unit roundoff of float64


def gamma(n: int) -> float:
    """Higham's γ_n = n·u/(1 − n·u) for float64 (Higham 2002, *Accuracy and Stability of Numerical
    Algorithms*, Lemma 3.1); recursive summation of m terms errs by at most γ_{m−1}·Σ|terms| (eq. 4.4)."""
    return n * _U / (1 - n * _U)
