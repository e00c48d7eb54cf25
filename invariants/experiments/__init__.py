"""Shared experiment helpers of the claims' evidence: networks, data, training runs and oracles.

The layer between :mod:`invariants.claims` (which states claims and turns these helpers' results into
evidence) and :mod:`invariants.reference` (the numpy network they train); it never imports
:mod:`invariants.claims`.  Helpers live here when more than one claim, a test or a renderer uses them
(the figures of :mod:`invariants.report.figures` redraw the evidence's runs from here).

- :mod:`~invariants.experiments.networks`: constant and tied initializations, deterministic data.
- :mod:`~invariants.experiments.training`: training that checks the ties after every step
  (:class:`~invariants.experiments.training.TieRun`), per-unit and input-side randomness, learning rates.
- :mod:`~invariants.experiments.oracles`: exact yes/no checks (identical columns, monotonicity, linear
  separability, descent, tie counts).
- :mod:`~invariants.experiments.strategies`: Hypothesis strategies for the training properties.
- :mod:`~invariants.experiments.xor`: the XOR runs the symmetry claims and the XOR figure share.
- :mod:`~invariants.experiments.real_data`: scikit-learn's bundled data sets and the runs on them.
- :mod:`~invariants.experiments.fits`: the bias fits (offset target, zero weights) and the deterministic init run.
- :mod:`~invariants.experiments.rounding`: rounding to a significand width and tie probabilities.
- :mod:`~invariants.experiments.propagation`: the fixed reference network of the variance-propagation
  evidence and its cached profiles (the variance figure draws the same runs).
- :mod:`~invariants.experiments.residual`: a residual MLP with zero-initialised branches (Fixup, ReZero,
  zero-γ) and its training runs (RES-ZERO-01).
- :mod:`~invariants.experiments.isometry`: input-output Jacobian spectra of deep networks (VAR-ISO-01).
- :mod:`~invariants.experiments.criticality`: the critical line χ₁(σ_w, σ_b) = 1, the correlation map and the
  measured correlation depth (VAR-CRIT-01).
"""
