"""Progress on long work (issue 16, item 3): one tqdm line on stderr when stderr is a terminal, nothing when it
is not (a file, a pipe, a CI log), nothing with ``--quiet``, never on stdout.  Loops with natural steps show
n/total (verify's claims, a catalogue's subjects); single-target work shows the elapsed time and the tensor or
stage in work (:class:`invariants.render.Ticker`).  The terminal is a ``StringIO`` whose ``isatty()`` is true."""
from __future__ import annotations

import io
import sys

import pytest

from invariants import cli
from invariants.claims import registry
from invariants.claims.registry import Claim, Evidence, EvidenceResult, Verdict
from invariants.render import Progress, Ticker
from invariants.render.audit import AuditProgress

ME = "cli_targets"  # the targets the commands load (MODULE:ATTR)
AUDIT_HE = ["audit", f"{ME}:he", "--expect", "normal(std=0.2582)", "--layer", "dense(30,10)", "--layer",
            "dense(30,12)", "--rel-error", "0.2"]


class FakeTTY(io.StringIO):
    def isatty(self) -> bool:
        return True


def claim(cid: str) -> Claim:
    return Claim(id=cid, title=cid, seed_quotes=("q",), statement="s", verdict=Verdict.VERIFIED,
                 evidence=(Evidence("symbolic", "holds", lambda: EvidenceResult(True, "ok")),))


@pytest.fixture
def two_claims(monkeypatch, warm_exact_kernel):
    monkeypatch.setattr(registry, "all_claims", lambda: [claim("T-P-01"), claim("T-P-02")])


@pytest.fixture
def eager_ticker(monkeypatch):
    """``Ticker`` with no delay (a test run is shorter than the real 2 s), recording its labels."""
    import invariants.render as render

    labels: list[str] = []

    class Eager(Ticker):
        def __init__(self, label, stream=None, tty=None, delay=2.0, interval=0.5):
            super().__init__(label, stream, tty, delay=0.0, interval=60.0)

        def _relabel(self, label):
            labels.append(label)
            super()._relabel(label)

    monkeypatch.setattr(render, "Ticker", Eager)
    return labels


def terminal(monkeypatch) -> FakeTTY:
    stream = FakeTTY()
    monkeypatch.setattr(sys, "stderr", stream)
    return stream


# ------------------------------------------------------------------------------ the two classes


def test_steps_show_n_of_total_and_the_name_in_work_then_clear():
    stream = FakeTTY()
    progress = AuditProgress(stream, label="audit numpy")
    progress(1, 4, "numpy.he", None)
    progress(1, 4, "numpy.he", object())
    progress(2, 4, "numpy.glorot", None)
    progress.close()
    text = stream.getvalue()
    assert "\n" not in text  # one updating line
    assert "audit numpy   0%|" in text and "0/4 subjects" in text and "numpy.he" in text
    assert "1/4 subjects" in text and "numpy.glorot" in text
    assert text.endswith("\r") and text.rstrip("\r").split("\r")[-1].strip() == ""  # cleared at the end


def test_a_message_is_a_line_of_its_own_above_the_progress_line():
    """``write`` (scale-check's estimate): on a terminal the progress line is cleared, the message printed on a
    line of its own and the progress line drawn again below it (known-bad: a plain print mid-line would run
    into the bar); off a terminal the message alone (a message is not progress)."""
    stream = FakeTTY()
    progress = Ticker("scale-check m:f", stream, delay=0.0, interval=60.0)
    progress.write("scale-check m:f: estimated 10 values")
    progress.close()
    text = stream.getvalue()
    before, after = text.split("scale-check m:f: estimated 10 values\n")
    assert before.endswith("\r") and "scale-check m:f ..." in after  # cleared, then drawn again
    pipe = io.StringIO()
    progress = Ticker("scale-check m:f", pipe, delay=0.0, interval=60.0)
    progress.write("estimated")
    progress.close()
    assert pipe.getvalue() == "estimated\n"


def test_a_line_never_exceeds_the_terminal_width(monkeypatch):
    monkeypatch.setenv("COLUMNS", "50")
    stream = FakeTTY()
    progress = Progress(stream)
    progress(3, 24, claim("T-" + "X" * 80), None)
    progress.close()
    drawn = [part for part in stream.getvalue().split("\r") if part.strip()]
    assert drawn and all(len(part) < 50 for part in drawn), drawn


def test_the_ticker_names_the_tensor_and_the_stage_with_the_elapsed_time():
    stream = FakeTTY()
    ticker = Ticker("audit m:f", stream, delay=0.0, interval=60.0)
    ticker(2, 3, "m:f [conv2d(4,8,k=3)]", None)
    ticker.status("figure power-curve")
    ticker.close()
    assert ticker.line() == "audit m:f figure power-curve ... 00:00"
    text = stream.getvalue()
    assert "audit m:f [2/3] m:f [conv2d(4,8,k=3)] ... 00:00" in text
    assert "audit m:f figure power-curve ... 00:00" in text
    assert text.endswith("\r")


@pytest.mark.parametrize("make", [
    lambda s: Progress(s), lambda s: AuditProgress(s), lambda s: Ticker("audit m:f", s, delay=0.0, interval=0.01),
], ids=["verify", "catalogue", "ticker"])
def test_nothing_is_written_off_a_terminal(make):
    import time

    stream = io.StringIO()  # a file or a pipe: isatty() is false
    progress = make(stream)
    if isinstance(progress, Ticker):
        progress(1, 2, "m:f", None)
        progress.status("figure x")
        time.sleep(0.05)
    else:
        progress(1, 2, claim("T-P-01") if isinstance(progress, Progress) else "numpy.he", None)
    progress.close()
    assert stream.getvalue() == ""


# ------------------------------------------------------------------------------ the commands


@pytest.mark.parametrize("quiet", [False, True])
def test_verify_draws_claims_n_of_total_on_a_terminal_only_without_quiet(quiet, two_claims, monkeypatch, capsys):
    stream = terminal(monkeypatch)
    assert cli.main(["verify", "--jobs", "1"] + (["--quiet"] if quiet else [])) == 0
    out = capsys.readouterr().out
    text = stream.getvalue()
    if quiet:
        assert text == ""
    else:
        assert "1/2 claims" in text and "T-P-02" in text and "claims" not in out.replace("2 claims", "")


def test_verify_draws_nothing_when_stderr_is_a_pipe(two_claims, capsys):
    assert cli.main(["verify", "--jobs", "1"]) == 0
    assert capsys.readouterr().err == ""


@pytest.fixture
def small_catalogue(monkeypatch):
    """The numpy catalogue replaced by two small subjects (a real catalogue run takes minutes)."""
    from fake_catalogue import fake_catalogue

    fake_catalogue(monkeypatch, [f"{ME}:he", f"{ME}:he"])


@pytest.mark.parametrize("quiet", [False, True])
def test_a_catalogue_audit_draws_subjects_n_of_total(quiet, small_catalogue, monkeypatch, capsys):
    stream = terminal(monkeypatch)
    cli.main(["audit", "numpy", "--rel-error", "0.2"] + (["--quiet"] if quiet else []))
    capsys.readouterr()
    text = stream.getvalue()
    if quiet:
        assert text == ""
    else:
        assert "audit numpy" in text and "2/2 subjects" in text and "\n" not in text


@pytest.mark.parametrize("argv, label", [
    (AUDIT_HE, f"audit {ME}:he [2/2] {ME}:he on dense(30,12)"),
    (["identify", f"{ME}:he", "--rel-error", "0.2"], f"identify {ME}:he"),
], ids=["audit", "identify"])
def test_single_target_work_shows_the_elapsed_time_and_what_is_in_work(argv, label, eager_ticker, monkeypatch,
                                                                       capsys):
    stream = terminal(monkeypatch)
    cli.main(argv)
    out = capsys.readouterr().out
    text = stream.getvalue()
    assert f"{label} ... 00:0" in text, text
    assert " ... 00:" not in out  # never on stdout


@pytest.mark.parametrize("argv", [AUDIT_HE, ["identify", f"{ME}:he", "--rel-error", "0.2"],
                                  ["check-model", f"{ME}:mlp"]], ids=["audit", "identify", "check-model"])
def test_quiet_and_pipes_get_no_ticker(argv, eager_ticker, monkeypatch, capsys):
    if argv[0] == "check-model":
        pytest.importorskip("torch")
    stream = terminal(monkeypatch)
    cli.main(argv + ["--quiet"])
    assert stream.getvalue() == "" and eager_ticker == []
    capsys.readouterr()
    monkeypatch.setattr(sys, "stderr", io.StringIO())
    cli.main(argv)
    assert sys.stderr.getvalue().count("\r") == 0 and eager_ticker == []


@pytest.mark.parametrize("quiet", [False, True])
def test_a_streamed_model_check_draws_one_line_only(quiet, eager_ticker, monkeypatch, capsys):
    pytest.importorskip("torch")
    stream = terminal(monkeypatch)
    cli.main(["check-model", f"{ME}:meta_mlp"] + (["--quiet"] if quiet else []))
    capsys.readouterr()
    text = stream.getvalue()
    assert "module" not in text  # the streamed engine's own per-module bar stays off: one line, the ticker's
    assert text == "" if quiet else f"check-model {ME}:meta_mlp ... 00:0" in text


def test_report_shows_its_stages_on_one_line(eager_ticker, monkeypatch, tmp_path, capsys):
    import invariants.report.site as site

    def build_site(out, audit=(), progress=None, verify_progress=None, **kw):
        progress("audit", "numpy")
        verify_progress(1, 2, claim("T-P-01"), None)
        progress("figure", "power-curve")
        raise ValueError("stopped by the test")

    monkeypatch.setattr(site, "build_site", build_site)
    stream = terminal(monkeypatch)
    assert cli.main(["report", "--out", str(tmp_path / "site")]) == 2
    assert eager_ticker == ["report audit numpy", "report [1/2] verify T-P-01", "report figure power-curve"]
    text = stream.getvalue()
    assert "report figure power-curve ... 00:00" in text and text.count("\n") == 1  # the line, then the error
