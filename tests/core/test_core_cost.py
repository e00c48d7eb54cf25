"""invariants.core.cost: sizes parse, estimates print, limits refuse in one line that says how to raise them:
in the Python API's words here (``limits=Limits(...)``), in a command's flags through
:func:`invariants.cli.common.cli_worded` (the CLI tests pin those)."""
import pickle

import pytest

from invariants.cli.common import FLAG_WORDS, cli_worded
from invariants.core.cost import Cost, Limits, ResourceLimit, check, format_bytes, parse_size
from invariants.core.errors import UsageError


@pytest.mark.parametrize("text, n", [("512M", 512 * 2**20), ("8G", 8 * 2**30), ("1.5GiB", int(1.5 * 2**30)),
                                     ("1000", 1000), ("2kb", 2048)])
def test_parse_size_accepts(text, n):
    assert parse_size(text) == n


@pytest.mark.parametrize("text", ["", "x", "-1G", "0", "3Q", "nanG", "1e400"])
def test_parse_size_refuses(text):
    with pytest.raises(UsageError, match="^size: "):
        parse_size(text)
    with pytest.raises(UsageError, match="^--max-memory: "):  # the command line names its flag
        parse_size(text, "--max-memory")


def test_check_accepts_within_limits():
    check(Cost(10, 100, 1.0), Limits(max_bytes=100, max_seconds=1.0), "run")
    check(Cost(10, 10**15, 1e9), Limits(None, None), "run")


def test_check_refuses_memory_in_api_words_with_the_estimate():
    """Known-bad: 8 GiB against a 4 GiB limit is refused, naming the keyword and a value that admits it (1.25x,
    whole GiB) and no flag; the command line's rewording names the flag with the same value."""
    with pytest.raises(ResourceLimit) as info:
        check(Cost(10**9, 8 * 2**30, 5.0), Limits(max_bytes=4 * 2**30), "audit of dense(300, 100)")
    msg = str(info.value)
    assert "\n" not in msg and "8 GiB" in msg and "audit of dense" in msg and "--max" not in msg
    assert msg.endswith("over the memory limit 4 GiB; raise it with limits=Limits(max_bytes=10 * 2**30), or ask for less")
    cli = info.value.worded(FLAG_WORDS)
    assert isinstance(cli, ResourceLimit) and (cli.field, cli.admit) == ("max_bytes", 10)
    assert str(cli) == msg.replace("limits=Limits(max_bytes=10 * 2**30)", "--max-memory 10G")


def test_check_refuses_time_in_api_words_and_the_cli_rewords_it():
    with pytest.raises(ResourceLimit, match=r"raise it with limits=Limits\(max_seconds=150\)") as info:
        check(Cost(1, 1, 100.0), Limits(max_seconds=10.0), "run")
    with pytest.raises(ResourceLimit, match="raise it with --max-seconds 150, or ask for less"):
        with cli_worded():
            raise info.value
    again = pickle.loads(pickle.dumps(info.value))  # a worker process's refusal keeps its fields
    assert str(again) == str(info.value) and again.admit == 150


def test_check_with_no_limits_given_applies_the_defaults():
    with pytest.raises(ResourceLimit, match="over the memory limit 4 GiB"):
        check(Cost(1, 5 * 2**30, 1.0), None, "run")
    check(Cost(1, 3 * 2**30, 1.0), None, "run")


def test_cost_adds_sequential_work():
    total = Cost(1, 5, 1.0) + Cost(2, 3, 2.0)
    assert total == Cost(3, 5, 3.0) and "3 values" in str(total) and format_bytes(5) == "5 B"
