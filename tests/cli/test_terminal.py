"""Terminal output (issue 16, item 5): tables fit the terminal's width (columns dropped by priority, the last
one wrapped, text wrapped), files and pipes get the full table, and single-target runs show an elapsed-time
line on a terminal only (never with ``--quiet``, never in a file or pipe)."""
from __future__ import annotations

import io
import time

import pytest

from invariants import cli
from invariants.core.text import render_table
from invariants.render import Ticker

ME = "cli_targets"  # the targets the commands load (MODULE:ATTR)

HEADERS = ["verdict", "target", "layer", "n", "matches"]
ROWS = [["ok", "torch.nn.init.kaiming_normal_", "conv2d(32,64,k=3)", "1000000",
         "variance_scaling(2, fan_in, normal), he_normal, kaiming_normal_(fan_in, relu)"]]


def test_without_a_width_the_table_is_whole():
    text = render_table(HEADERS, ROWS, "lllrl")
    assert max(map(len, text.splitlines())) > 120 and "he_normal" in text.splitlines()[1]


@pytest.mark.parametrize("width", [60, 80, 100, 130])
def test_a_table_fits_the_width_by_wrapping_the_last_column_and_dropping_by_priority(width):
    text = render_table(HEADERS, ROWS, "lllrl", max_width=width, drop=(3, 2))
    lines = text.splitlines()
    assert all(len(line) <= width for line in lines), text
    assert lines[0].startswith("verdict  target")  # the first columns are kept
    assert "kaiming_normal_(fan_in,relu)" in "".join("".join(lines).split())  # nothing of the last column lost
    if width < 120:
        assert " n " not in lines[0] + " "  # the least important column went first


def test_a_right_aligned_last_column_is_never_wrapped_and_the_widest_text_is_cut():
    text = render_table(["name", "value"], [["x" * 100, "1.5"]], "lr", max_width=40)
    assert all(len(line) <= 40 for line in text.splitlines()) and "…" in text and text.endswith("1.5")


def test_drop_must_name_columns():
    with pytest.raises(ValueError, match="drop names a column outside"):
        render_table(["a"], [["1"]], drop=(3,))


@pytest.mark.parametrize("columns", [60, 80])
@pytest.mark.parametrize("argv", [
    ["audit", f"{ME}:he", "--expect", "truncated_normal(std=0.1)", "--layer", "dense(30,10)", "--layer",
     "conv2d(4,8,k=3)", "--rel-error", "0.2"],
    ["check-model", f"{ME}:mlp"],
    ["identify", f"{ME}:he", "--rel-error", "0.2"],
], ids=["audit", "check-model", "identify"])
def test_command_output_fits_the_terminal(argv, columns, monkeypatch, capsys):
    import sys

    monkeypatch.setenv("COLUMNS", str(columns))
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True, raising=False)
    cli.main(argv)
    out = capsys.readouterr().out
    long = [line for line in out.splitlines() if len(line) > columns]
    assert out and not long, long


def test_a_pipe_gets_the_full_table(monkeypatch, capsys):
    monkeypatch.setenv("COLUMNS", "60")  # a pipe or file gets every column whatever $COLUMNS says
    cli.main(["audit", f"{ME}:he", "--expect", "he_normal", "--layer", "dense(30,10)", "--rel-error", "0.2"])
    header = capsys.readouterr().out.splitlines()[0].split()
    assert header == ["verdict", "target", "layer", "shape", "expected", "var", "observed", "var", "ratio", "n",
                      "detects"]


class FakeTTY(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_the_ticker_draws_an_elapsed_line_on_a_terminal_and_clears_it():
    stream = FakeTTY()
    ticker = Ticker("audit m:f", stream, delay=0.0, interval=0.01)
    ticker(1, 2, "m:f.weight", None)
    time.sleep(0.2)
    ticker.close()
    text = stream.getvalue()
    assert "audit m:f [1/2] m:f.weight ... 00:00" in text and text.endswith("\r")


def test_the_ticker_is_silent_in_a_file_or_pipe_and_for_quick_work():
    piped = io.StringIO()
    ticker = Ticker("audit m:f", piped, delay=0.0, interval=0.01)
    time.sleep(0.05)
    ticker.close()
    assert piped.getvalue() == ""
    quick = FakeTTY()
    ticker = Ticker("audit m:f", quick)  # 2 s delay: a run shorter than that prints nothing
    ticker.close()
    assert quick.getvalue() == ""


@pytest.mark.parametrize("quiet", [False, True])
def test_single_target_commands_use_the_ticker_only_on_a_terminal_without_quiet(quiet, monkeypatch, capsys):
    import sys

    import invariants.render as render

    made = []

    class Spy(Ticker):
        def __init__(self, label, stream=None, **kw):
            made.append(label)
            super().__init__(label, stream, tty=False)

    monkeypatch.setattr(render, "Ticker", Spy)
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True, raising=False)
    argv = ["audit", f"{ME}:he", "--expect", "he_normal", "--layer", "dense(30,10)", "--rel-error", "0.2"]
    cli.main(argv + (["--quiet"] if quiet else []))
    capsys.readouterr()
    assert made == ([] if quiet else [f"audit {ME}:he"])
