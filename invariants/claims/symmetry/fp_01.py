"""SYM-FP-01: symmetry lasts forever in exact arithmetic; in floating point only on a
permutation-equivariant kernel.

Vocabulary, layout and the evidence conventions: see :mod:`invariants.claims.symmetry`.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np

from invariants.claims.evidence import check, short
from invariants.claims.registry import Claim, Evidence, EvidenceResult, Verdict, register

#: The small task of the verify-time floating-point evidence: XOR of two signs among d = 8 inputs,
#: 64 examples, (8, 4, 2) tanh, softmax cross-entropy, 300 full-batch steps (SGD lr 0.5, Adam lr 0.05).
FP_TASK = dict(n=64, d=8, width=4, steps=300, lr={"sgd": 0.5, "adam": 0.05})


@lru_cache(maxsize=None)
def fp_runs():
    """Exact-kernel runs of :data:`FP_TASK`: (start, dtype, optimizer) → Trace, for the tied start with
    Adam and the one-ulp-nudged start with SGD and Adam (see :mod:`invariants.studies.fp_symmetry`)."""
    from invariants.studies.fp_symmetry import run_numpy, xor_task

    task = xor_task(FP_TASK["n"], FP_TASK["d"])
    keys = [("tied", dt, "adam") for dt in ("float32", "float64")]
    keys += [("nudged", dt, opt) for dt in ("float32", "float64") for opt in ("sgd", "adam")]
    return {k: run_numpy("exact", k[0], k[1], k[2], FP_TASK["width"], FP_TASK["steps"], task,
                         checkpoints=(1, 10, 100, FP_TASK["steps"]), lr=FP_TASK["lr"][k[2]]) for k in keys}


def _fp_exact() -> EvidenceResult:
    runs = fp_runs()
    tied = [r for k, r in runs.items() if k[0] == "tied"]
    ok = all(r.max_defect == 0.0 and r.first_untied is None for r in tied)
    return check(ok, f"exact kernel, tied start, Adam (the configuration where one ulp explodes, below): symmetry "
                     f"defect 0 after every one of {FP_TASK['steps']} steps in float32 and float64 (training "
                     f"accuracy {', '.join(f'{r.accuracy:.2f}' for r in tied)})",
                 f"exact-kernel tied runs lost the tie: defects {[r.max_defect for r in tied]}")


def _fp_amplified() -> EvidenceResult:
    runs, T = fp_runs(), FP_TASK["steps"]

    def row(dt, opt):
        r = runs[("nudged", dt, opt)]
        return f"{dt} {opt}: " + " → ".join(f"{short(r.defects[s])}" for s in (1, 10, 100, T))

    adam = [runs[("nudged", dt, "adam")].defects[T] for dt in ("float32", "float64")]
    sgd = [runs[("nudged", dt, "sgd")].defects[T] for dt in ("float32", "float64")]
    ok = min(adam) >= 0.1 and max(sgd) <= 1e-4
    detail = (f"one unit nudged by one ulp, exact kernel, defect after steps 1, 10, 100, {T}: "
              + "; ".join(row(dt, opt) for dt in ("float32", "float64") for opt in ("sgd", "adam"))
              + " — Adam amplifies one ulp to O(1), SGD keeps it near rounding level")
    return check(ok, detail, "unexpected growth: " + detail)


def _fp_implementation() -> EvidenceResult:
    # The mechanism, deterministic on any IEEE-754 machine: the same 100 products summed left to right
    # and in 4 interleaved lanes (as a SIMD kernel does) differ in the last bits for most rows.  Whether
    # a given BLAS unties a given tied layer depends on the library, thread count and shape, so that
    # measurement lives in the study (python -m invariants.studies.fp_symmetry), not in this detail,
    # which the generated docs quote and must be the same on every machine.
    rng = np.random.default_rng(0)
    terms = rng.normal(size=(1000, 100))
    seq = np.add.accumulate(terms, axis=1)[:, -1]
    lanes = np.add.accumulate(terms.reshape(1000, 25, 4), axis=1)[:, -1, :]
    four = (lanes[:, 0] + lanes[:, 1]) + (lanes[:, 2] + lanes[:, 3])
    differ = int(np.sum(seq != four))
    return check(differ > 500,
                 f"order dependence: {differ}/1000 sums of the same 100 products differ between sequential and "
                 f"4-lane accumulation, so a kernel whose order depends on a unit's position can untie tied "
                 f"units; which BLAS, thread count and shapes do so is machine-specific and measured by "
                 f"python -m invariants.studies.fp_symmetry (figures in the docs)",
                 f"only {differ}/1000 sums differ between accumulation orders")


register(Claim(
    id="SYM-FP-01",
    verdict=Verdict.CONDITIONAL,
    title="Symmetry lasts forever in exact arithmetic; in floating point only on a permutation-equivariant kernel",
    seed_quotes=(
        "Zero initialization : This makes hidden units symmetric and continues for all the n iterations i.e. "
        "setting weights to 0 does not make it better than a linear model.",
        "This problem is known as network failing to break symmetry.",
    ),
    statement=(
        "'Continues for all the n iterations' holds in exact arithmetic (SYM-CONST-01) and, bit for bit, in a "
        "floating-point implementation whose kernels compute every unit's sums by the same operations in "
        "the same order (the reference 'exact' kernel).  It is not guaranteed by a BLAS-based "
        "implementation: when a kernel's accumulation order depends on the output position (SIMD lanes, "
        "edge tiles, K-blocking, the split between threads), tied units can round differently, and training "
        "can then amplify that difference — on the tested tasks, Adam turns a single ulp into an O(1) "
        "difference within 300-1000 steps in float32 and float64, while SGD keeps it within about 1e-4 "
        "(float32) or 1e-13 (float64).  Whether a given library unties a given layer depends on the "
        "library, the CPU, the thread count and the shapes."
    ),
    conditions=(
        "holds exactly: real arithmetic, or a kernel that is bitwise permutation-equivariant",
        "fails in general: kernels whose rounding depends on the unit's position.  Measured when this was "
        "written (python -m invariants.studies.fp_symmetry; x86-64 SkylakeX, OpenBLAS 0.3.31 via numpy, "
        "PyTorch 2.13 CPU): OpenBLAS with 2 threads untied the float64 weight gradient of 64- and 100-unit "
        "layers over 1024 examples, with 1 thread none of its 20 tied training runs; PyTorch untied the "
        "100-unit layer in float32 and float64 within 3 steps, and Adam grew that to O(1) by step 1000",
        "the defect grows when the symmetric subspace is unstable (a task that needs two features), fastest "
        "under adaptive optimizers; it starts at 1e-17 (float64) or 1e-8 (float32) — an accident of "
        "rounding, not a reliable way to break symmetry",
    ),
    derivation=(
        "Exactness: SYM-CONST-01's induction uses only that equal inputs give equal outputs, which a kernel "
        "computing each unit's sum by the same operation sequence guarantees in floating point too.  "
        "Floating-point addition is not associative, so a kernel that sums unit j's products in an order "
        "depending on j can return different bits for equal sums.  Amplification: near a symmetric saddle a "
        "small difference ε between units evolves like ε·exp(λt) with λ > 0 the negative curvature along "
        "the splitting direction; Adam divides each coordinate's step by its own √v, so small, noisy "
        "gradient differences get steps of size ~lr."
    ),
    evidence=(
        Evidence("experiment", "exact kernel: tied units stay bitwise tied where one ulp would explode", _fp_exact),
        Evidence("experiment", "one ulp of asymmetry: Adam amplifies it to O(1), SGD does not", _fp_amplified),
        Evidence("experiment", "accumulation order changes bits; this machine's BLAS unties some tied layers",
                 _fp_implementation),
    ),
))
