"""``audit torch``'s seed-determinism line and summary (C2 of the second new-user trial): which initializer
takes no generator=, why the checked tensors are fewer than the report's, and what the seconds time."""
from __future__ import annotations

from types import SimpleNamespace

import pytest

from invariants.audit.determinism import ISOLATION, SAME_SEED, coverage_line

HEAD = "torch's global generator, seeded inside fork_rng"


def _subject(seeding=""):
    return SimpleNamespace(sampler=SimpleNamespace(seeding=seeding))


def _result(target, failed=(), verdict="conforms", checked=True):
    names = (SAME_SEED, ISOLATION) if checked else ()
    return SimpleNamespace(target=target, verdict=verdict,
                           checks=[SimpleNamespace(name=n, passed=n not in failed) for n in names])


def test_the_initializers_without_generator_are_named():
    """Known-bad: "the initializer takes no generator=" (which one?).  Known-good: each named, several in one
    clause, more than 4 as 3 and a count."""
    names = ["torch.nn.init.constant_", "torch.nn.init.dirac_", "torch.nn.init.eye_", "torch.nn.init.ones_",
             "torch.nn.init.zeros_"]
    subs = [_subject(f"{HEAD} (layer constructors take no generator)")] + \
        [_subject(f"{HEAD} ({n} takes no generator=)") for n in names] + [_subject()]
    line = coverage_line(subs, True)
    assert "the initializer takes" not in line and line.count(HEAD) == 1
    assert ("(layer constructors take no generator; torch.nn.init.constant_, torch.nn.init.dirac_, "
            "torch.nn.init.eye_ and 2 more take no generator=)") in line
    one = coverage_line([_subject(f"{HEAD} (torch.nn.init.eye_ takes no generator=)"), _subject()], True)
    assert "(torch.nn.init.eye_ takes no generator=)" in one


def test_skipped_tensors_are_said_to_be_excluded():
    """Known-bad: "FAILED on 1 of 2 tensors" beside a total of 3 (one skipped), unexplained.  Known-good:
    the count says the skipped tensor is excluded; with none skipped, nothing is added."""
    subs = [_subject(), _subject(), _subject()]
    res = [_result("a"), _result("b", failed=(ISOLATION,)), _result("c", verdict="skipped", checked=False)]
    line = coverage_line(subs, True, res)
    assert "FAILED on 1 of the 2 tensors checked (the 1 skipped tensor excluded)" in line
    line = coverage_line(subs, True, res[:2])
    assert "FAILED on 1 of the 2 tensors checked:" in line
    line = coverage_line(subs, True, [_result("a")] + res[2:])
    assert "All 1 tensors checked passed (the 1 skipped tensor excluded)." in line


def test_summary_says_what_its_seconds_time():
    """Known-bad: "in 10.3s" alone (the trial's run took ~90 s of wall time).  Known-good: the seconds say
    what they cover; a catalogue run times the whole run, framework import and catalogue build included."""
    from invariants.audit.auditor import AuditReport
    from invariants.render import render_audit

    rep = AuditReport(seconds=2.5)
    assert "in 2.5s (drawing and testing)" in render_audit(rep, width=200)
    rep.timed = "loading the framework, building the catalogue, drawing and testing"
    assert "in 2.5s (loading the framework, building the catalogue" in render_audit(rep, width=200)


def test_catalogue_times_the_whole_run():
    """A catalogue run's seconds cover the run from its start (the framework's catalogue built inside)."""
    import time

    from invariants import audit
    from invariants.audit import auditor

    t0 = time.perf_counter()
    rep = audit.catalogue("numpy", auditor.AuditConfig(rel_error=0.5, determinism=False))
    assert rep.timed.startswith("loading the framework") and 0 < rep.seconds <= time.perf_counter() - t0
