"""The ``invariants`` command line and its text output, on hand-made claims.

The claim registry is monkeypatched, so these tests do not depend on the real claim families.
"""
from __future__ import annotations

import io
import json
import subprocess
import sys
import textwrap

import pytest

from invariants import cli
from invariants.claims import registry
from invariants.claims.registry import Claim, Evidence, EvidenceResult, Verdict
from invariants.render import Progress, render_table, render_verify
from invariants.verify import run_claims


def make_claim(cid: str, passed: bool = True) -> Claim:
    detail = "holds" if passed else "the counterexample does not refute the statement"
    return Claim(
        id=cid,
        title=f"title of {cid}",
        seed_quotes=("a quote",),
        statement="a statement",
        verdict=Verdict.VERIFIED,
        evidence=(
            Evidence("symbolic", "always", lambda: EvidenceResult(True, "ok")),
            Evidence("experiment", "maybe", lambda: EvidenceResult(passed, detail)),
        ),
    )


GOOD = [make_claim("T-A-01"), make_claim("T-B-01")]
MIXED = [make_claim("T-A-01"), make_claim("T-B-01", passed=False), make_claim("T-C-01")]


@pytest.fixture
def use_claims(monkeypatch, warm_exact_kernel):
    def install(claims):
        monkeypatch.setattr(registry, "all_claims", lambda: list(claims))

    return install


def test_all_pass_exits_0_and_prints_the_table(use_claims, capsys):
    use_claims(GOOD)
    assert cli.main(["verify"]) == 0
    out, err = capsys.readouterr()
    lines = out.splitlines()
    assert lines[0].split() == ["ID", "verdict", "evidence", "seconds", "status"]
    assert lines[1].split()[0] == "T-A-01" and lines[1].split()[2] == "2/2" and lines[1].endswith("OK")
    assert "2 claims: 2 OK, 0 FAIL" in out
    assert "Failed evidence" not in out
    assert err == ""  # no progress off a terminal (captured stderr is not a TTY)


def test_a_failure_exits_1_and_prints_the_detail(use_claims, capsys):
    use_claims(MIXED)
    assert cli.main(["verify"]) == 1
    out, _ = capsys.readouterr()
    row = next(line for line in out.splitlines() if line.startswith("T-B-01"))
    assert "1/2" in row and row.endswith("FAIL")
    assert "FAIL T-B-01 [experiment] maybe" in out
    assert "the counterexample does not refute the statement" in out


def test_only_selects_claims(use_claims, capsys):
    use_claims(MIXED)
    assert cli.main(["verify", "--only", "T-C-01", "--only", "T-A-01"]) == 0
    out, _ = capsys.readouterr()
    assert "T-A-01" in out and "T-C-01" in out and "T-B-01" not in out
    assert cli.main(["verify", "--only", "T-B-01"]) == 1


def test_only_ids_match_whatever_their_case_and_list_runs_nothing(use_claims, capsys):
    """``--only t-c-01`` is T-C-01 (every registered ID is upper case); ``--list`` prints ID, verdict and title
    and exits 0 without running evidence.  Known-bad: a claim whose evidence fails is listed, not run (exit 0)."""
    use_claims(MIXED)
    assert cli.main(["verify", "--only", "t-c-01"]) == 0
    out, _ = capsys.readouterr()
    assert "T-C-01" in out and "T-A-01" not in out
    assert cli.main(["verify", "--list"]) == 0
    out, _ = capsys.readouterr()
    assert out.splitlines() == ["ID      verdict   title"] + [f"{c.id}  verified  title of {c.id}" for c in MIXED]
    assert cli.main(["verify", "--list", "--only", "t-b-01"]) == 0
    assert capsys.readouterr()[0].splitlines()[1].startswith("T-B-01")


def test_verify_tables_have_a_header_row_and_fit_a_narrow_terminal(use_claims, capsys, monkeypatch):
    """The run's table and ``--list`` start with their column titles (known-bad: ``--list`` printed bare rows);
    on a 40-column terminal every line fits (the table drops ``seconds`` and ``evidence``, the list wraps its
    titles), and ``--json -`` is unchanged by the width."""
    import json

    from invariants.cli import verify as verify_cli

    use_claims(MIXED)
    assert cli.main(["verify", "--jobs", "1"]) == 1
    assert capsys.readouterr()[0].splitlines()[0].split() == ["ID", "verdict", "evidence", "seconds", "status"]
    assert cli.main(["verify", "--jobs", "1", "--json", "-"]) == 1
    wide = json.loads(capsys.readouterr()[0])
    monkeypatch.setattr(verify_cli, "table_width", lambda stream=None: 40)
    assert cli.main(["verify", "--jobs", "1"]) == 1
    table = capsys.readouterr()[0].split("\n\n")[0].splitlines()
    assert table[0].split() == ["ID", "verdict", "evidence", "status"] and max(map(len, table)) <= 40
    assert cli.main(["verify", "--list"]) == 0
    out = capsys.readouterr()[0]
    assert out.splitlines()[0].split() == ["ID", "verdict", "title"] and max(map(len, out.splitlines())) <= 40
    assert cli.main(["verify", "--jobs", "1", "--json", "-"]) == 1
    narrow = json.loads(capsys.readouterr()[0])
    for d in (wide, narrow):
        d.pop("total_seconds", None)
        for c in d["claims"]:
            c.pop("seconds", None)
            for e in c.get("evidence", []):
                e.pop("seconds", None)
    assert narrow == wide


def test_a_reader_closing_stdout_is_one_line_and_exit_2():
    """``invariants verify --list | head -1``: the reader closes the pipe; the command says so in one line and
    exits 2 (its output is incomplete: not a result), instead of an "internal error"."""
    proc = subprocess.Popen([sys.executable, "-m", "invariants", "verify", "--list"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    proc.stdout.close()  # before the command writes: its first write breaks the pipe
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 2
    assert err.strip().splitlines() == ["invariants: error: stdout was closed by its reader (broken pipe); the output "
                                        "is incomplete"]


def test_unknown_only_id_exits_2_with_one_line(use_claims, capsys):
    use_claims(GOOD)
    assert cli.main(["verify", "--only", "T-A-01", "--only", "NOPE-99"]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.count("\n") == 1
    assert err.startswith("invariants: error: unknown claim id 'NOPE-99'; known: T-A-01, T-B-01")
    assert "Traceback" not in err


def test_unloadable_registry_exits_2_with_one_line(monkeypatch, capsys):
    def broken():
        raise ModuleNotFoundError("No module named 'invariants.claims.symmetry'")

    monkeypatch.setattr(registry, "all_claims", broken)
    assert cli.main(["verify"]) == 2
    _, err = capsys.readouterr()
    assert err.count("\n") == 1 and err.startswith("invariants: error: cannot load the claim registry")
    assert "Traceback" not in err


def test_empty_registry_exits_2(use_claims, capsys):
    use_claims([])
    assert cli.main(["verify"]) == 2
    assert "no claims" in capsys.readouterr().err


def test_json_file_follows_the_contract(use_claims, tmp_path, capsys):
    use_claims(MIXED)
    path = tmp_path / "verify.json"
    assert cli.main(["verify", "--quiet", "--json", str(path)]) == 1
    data = json.loads(path.read_text(encoding="utf-8"))
    assert [c["id"] for c in data["claims"]] == ["T-A-01", "T-B-01", "T-C-01"]
    for claim in data["claims"]:
        assert {"id", "title", "seed_quotes", "statement", "verdict", "evidence", "seconds"} <= set(claim)
        assert claim["verdict"] == "verified"
        for ev in claim["evidence"]:
            assert set(ev) == {"kind", "name", "passed", "detail", "mutant"}
    assert data["claims"][1]["evidence"][1]["passed"] is False
    assert data["passed"] is False


def test_json_to_stdout(use_claims, capsys):
    use_claims(GOOD)
    assert cli.main(["verify", "--json", "-"]) == 0
    out, err = capsys.readouterr()
    data = json.loads(out)  # stdout holds only the JSON
    assert [c["id"] for c in data["claims"]] == ["T-A-01", "T-B-01"]
    assert err == ""  # no table with the JSON on stdout, no progress off a terminal


def test_json_into_missing_directory_exits_2_before_running(use_claims, tmp_path, capsys):
    ran = []
    claim = Claim(
        id="T-A-01",
        title="t",
        seed_quotes=("q",),
        statement="s",
        verdict=Verdict.PROVED,
        evidence=(Evidence("symbolic", "e", lambda: ran.append(1) or EvidenceResult(True, "ok")),),
    )
    use_claims([claim])
    assert cli.main(["verify", "--json", str(tmp_path / "missing" / "x.json")]) == 2
    _, err = capsys.readouterr()
    assert err.startswith("invariants: error: --json") and err.count("\n") == 1
    assert ran == []


def test_quiet_prints_nothing_on_success_and_only_failures_otherwise(use_claims, capsys):
    use_claims(GOOD)
    assert cli.main(["verify", "--quiet"]) == 0
    assert capsys.readouterr() == ("", "")
    use_claims(MIXED)
    assert cli.main(["verify", "-q"]) == 1
    out, err = capsys.readouterr()
    assert err == ""
    assert "FAIL T-B-01" in out and "status" not in out


@pytest.mark.parametrize(
    "argv",
    [[], ["frobnicate"], ["verify", "--bogus"], ["verify", "--only"], ["verify", "--json"]],
)
def test_argparse_usage_errors_exit_2(argv, capsys):
    assert cli.main(argv) == 2
    assert "usage:" in capsys.readouterr().err


def test_help_and_version_exit_0(capsys):
    assert cli.main(["--help"]) == 0
    assert "verify" in capsys.readouterr().out
    assert cli.main(["verify", "--help"]) == 0
    out = capsys.readouterr().out
    assert "--only" in out and "--json" in out and "--quiet" in out
    assert cli.main(["--version"]) == 0
    assert capsys.readouterr().out.startswith("invariants ")


def test_python_dash_m_help():
    proc = subprocess.run([sys.executable, "-m", "invariants", "--help"], capture_output=True, text=True)
    assert proc.returncode == 0 and "verify" in proc.stdout


def test_process_exit_codes_without_traceback():
    """A real process: the exit code reaches the shell and stderr holds one line, no traceback."""
    script = textwrap.dedent(
        """
        import sys
        from invariants.claims import registry
        from invariants.claims.registry import Claim, Evidence, EvidenceResult, Verdict
        ok = Evidence("symbolic", "e", lambda: EvidenceResult(True, "ok"))
        claim = Claim(id="T-A-01", title="t", seed_quotes=("q",), statement="s",
                      verdict=Verdict.PROVED, evidence=(ok,))
        registry.all_claims = lambda: [claim]
        from invariants.__main__ import main
        sys.exit(main(sys.argv[1:]))
        """
    )
    bad = subprocess.run(
        [sys.executable, "-c", script, "verify", "--only", "X"], capture_output=True, text=True
    )
    assert bad.returncode == 2
    assert bad.stderr == "invariants: error: unknown claim id 'X'; known: T-A-01\n"
    good = subprocess.run([sys.executable, "-c", script, "verify", "-q"], capture_output=True, text=True)
    assert good.returncode == 0, good.stderr


# ------------------------------------------------------------------------------------- text rendering


def test_render_table_aligns_columns():
    text = render_table(["a", "num"], [["xx", "1"], ["y", "10"]], "lr")
    assert text.splitlines() == ["a   num", "xx    1", "y    10"]
    with pytest.raises(ValueError):
        render_table(["a"], [["1", "2"]])


def test_render_verify_lists_every_failed_evidence():
    report = run_claims(MIXED)
    text = render_verify(report)
    assert "3 claims: 2 OK, 1 FAIL" in text
    assert text.count("FAIL T-B-01") == 1
    assert render_verify(run_claims(GOOD), table=False) == ""


def test_progress_tty_keeps_one_updating_line():
    stream = io.StringIO()
    progress = Progress(stream, tty=True)
    run_claims(MIXED, progress=progress)
    progress.close()
    text = stream.getvalue()
    assert "\n" not in text
    assert "\rverify   0%|" in text and "0/3 claims" in text and "T-A-01 ..." in text
    assert "2/3 claims" in text and "T-B-01 FAIL" in text
    assert text.endswith("\r")


def test_progress_is_silent_off_a_terminal():
    stream = io.StringIO()
    claims = [make_claim(f"T-A-{i:02d}") for i in range(1, 11)]
    progress = Progress(stream, tty=False)
    run_claims(claims, progress=progress)
    progress.close()
    assert stream.getvalue() == ""
