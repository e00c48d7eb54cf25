"""Statistical checks with stated false-alarm rates and detectable effect sizes."""
from invariants.stats.budget import AlphaBudget, bonferroni
from invariants.stats.variance import (
    DEFAULT_ALPHA,
    DEFAULT_POWER,
    VarianceTestResult,
    chi2_min_detectable_rel_error,
    chi2_power,
    chi2_sample_size,
    chi2_two_sided_p,
    chi2_variance_test,
    hoeffding_min_detectable_rel_error,
    hoeffding_variance_test,
)

__all__ = [
    "DEFAULT_ALPHA",
    "DEFAULT_POWER",
    "AlphaBudget",
    "VarianceTestResult",
    "bonferroni",
    "chi2_min_detectable_rel_error",
    "chi2_power",
    "chi2_sample_size",
    "chi2_two_sided_p",
    "chi2_variance_test",
    "hoeffding_min_detectable_rel_error",
    "hoeffding_variance_test",
]
