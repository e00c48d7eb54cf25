"""Bad-input catalogue, continued (issue 16, items 3–4): malformed ``--timeout`` values, ``--timeout`` where a
command has none, ``--quiet`` combined with other mistakes, and an initializer that hangs under ``--quiet`` —
each one line on stderr, exit 2, nothing on stdout, no traceback (the rules of ``test_bad_input.py``); the API's
``timeout=`` errors are worded for the API (no flag)."""
from __future__ import annotations

import pytest

from invariants import cli
from test_bad_input import FLAG, assert_one_line

ME = "cli_targets"
AUDIT = ["audit", f"{ME}:he", "--expect", "he_normal"]
IDENTIFY = ["identify", f"{ME}:he"]

CASES = [
    # --timeout values
    ("timeout-negative", AUDIT + ["--timeout", "-1"], "argument --timeout: expected seconds >= 0 (0: no timeout), got -1.0"),
    ("timeout-negative-fraction", AUDIT + ["--timeout=-0.5"], "expected seconds >= 0"),
    ("timeout-text", AUDIT + ["--timeout", "abc"], "expected seconds (e.g. 120, 0.5) or 0/none to disable, got 'abc'"),
    ("timeout-empty", AUDIT + ["--timeout", ""], "got ''"),
    ("timeout-unit", AUDIT + ["--timeout", "10s"], "got '10s'"),
    ("timeout-nan", AUDIT + ["--timeout", "nan"], "got nan"),
    ("timeout-inf", AUDIT + ["--timeout", "inf"], "got inf"),
    ("timeout-missing-value", AUDIT + ["--timeout"], "argument --timeout: expected one argument"),
    ("timeout-catalogue-text", ["audit", "numpy", "--timeout", "soon"], "got 'soon'"),
    ("identify-timeout-negative", IDENTIFY + ["--timeout", "-3"], "expected seconds >= 0"),
    ("identify-timeout-text", IDENTIFY + ["--timeout", "x"], "got 'x'"),
    ("identify-timeout-missing-value", IDENTIFY + ["--timeout"], "expected one argument"),
    # commands without a per-call timeout
    ("verify-timeout", ["verify", "--timeout", "5"], "unrecognized arguments: --timeout 5"),
    ("check-model-timeout", ["check-model", f"{ME}:mlp", "--timeout", "5"], "unrecognized arguments: --timeout 5"),
    ("report-timeout", ["report", "--timeout", "5"], "unrecognized arguments: --timeout 5"),
    # a hang under --quiet is still one line
    ("quiet-timeout-spins", ["audit", f"{ME}:spins", "--expect", "he_normal", "--quiet", "--timeout", "0.2"],
     "spins did not return within 0.2 s (the per-call timeout)"),
    ("quiet-timeout-identify-sleeps", ["identify", f"{ME}:sleeps", "-q", "--timeout", "0.2"],
     "sleeps did not return within 0.2 s"),
    # --quiet with other mistakes
    ("quiet-with-value", AUDIT + ["--quiet=yes"], "ignored explicit argument 'yes'"),
    ("quiet-verify-unknown-claim", ["verify", "-q", "--only", "NOPE-01"], "unknown claim id 'NOPE-01'"),
    ("quiet-verify-jobs-0", ["verify", "--quiet", "--jobs", "0"], "expected an integer >= 1, got '0'"),
    ("quiet-catalogue-with-expect", ["audit", "numpy", "--quiet", "--expect", "he_normal"],
     "--expect and --layer apply to a MODULE:ATTR target"),
    ("quiet-identify-framework-name", ["identify", "numpy", "--quiet"], "identify needs a MODULE:ATTR target"),
    ("quiet-audit-json-dir-missing", AUDIT + ["--quiet", "--json", "/nonexistent-b16/x.json"], "does not exist"),
    ("quiet-model-missing-target", ["check-model", "--quiet"], "the following arguments are required: TARGET"),
    ("quiet-model-seed-negative", ["check-model", f"{ME}:mlp", "-q", "--seed", "-2"], "--seed must be >= 0, got -2"),
    ("quiet-report-out-file", ["report", "--quiet", "--out", __file__], "is not a directory"),
    ("quiet-timeout-and-bad-rel-error", AUDIT + ["-q", "--timeout", "1", "--rel-error", "2"], "--rel-error"),
]


@pytest.mark.parametrize("argv, words", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_one_line_exit_2(argv, words, capsys):
    rc = cli.main(argv)
    out, err = capsys.readouterr()
    assert_one_line(rc, out, err, words)


def test_the_cases_are_distinct():
    ids = [c[0] for c in CASES] + sorted(API_CASES)
    assert len(ids) == len(set(ids)) and len(ids) >= 30


def ok(shape, rng):
    return rng.normal(0.0, 0.1, size=shape)


API_CASES = {
    "api-timeout-negative": (lambda a: a.initializer(ok, expect="he_normal", layer=(3, 4), timeout=-1),
                             "timeout: expected seconds >= 0 (0: no timeout), got -1.0"),
    "api-timeout-text": (lambda a: a.initializer(ok, expect="he_normal", layer=(3, 4), timeout="10"),
                         "timeout: expected a number of seconds (0 or None: no timeout), got str '10'"),
    "api-timeout-bool": (lambda a: a.identify(ok, timeout=True), "got bool True"),
    "api-timeout-nan": (lambda a: a.catalogue("numpy", timeout=float("nan")), "got nan"),
    "api-timeout-inf": (lambda a: a.identify(ok, timeout=float("inf")), "got inf"),
}


@pytest.mark.parametrize("case", sorted(API_CASES))
def test_bad_api_timeout_raises_one_api_worded_line(case):
    from invariants import audit
    from invariants.core.errors import UsageError

    call, words = API_CASES[case]
    with pytest.raises(UsageError) as info:
        call(audit)
    message = str(info.value)
    assert "\n" not in message and words in message, message
    assert not FLAG.search(message), message
