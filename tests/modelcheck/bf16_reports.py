"""A bfloat16 model's check-model report against the float32 reader's of the same values, fault by fault
(shared by the torch and MLX tests of reading bfloat16 in its own dtype)."""
from __future__ import annotations

from invariants.modelcheck import check_model


def same_report_as_float32(bf, wide, fault: str):
    """The report of ``bf`` (a bfloat16 model of any framework, probe off) after asserting it equals, but for
    its time and the dtype it says it read (bfloat16 for ``bf``, float32 for ``wide``, every tensor), the
    report of ``wide`` (the same values in float32) and finds exactly the planted ``fault`` (none for
    ``"none"`` and ``"lstm"``)."""
    a, b = check_model(bf, probe=False, name="m"), check_model(wide, probe=False, name="m")
    da, db = a.to_dict(), b.to_dict()
    da.pop("seconds", None), db.pop("seconds", None)
    assert da.pop("dtypes") == {"bfloat16": a.n_params} and db.pop("dtypes") == {"float32": b.n_params}
    assert da == db
    kinds = {f.kind for f in a.findings if f.severity == "error"}
    assert kinds == (set() if fault in ("none", "lstm") else {fault}), [f.message for f in a.findings]
    return a
