"""invariants.core.cost: sizes parse, estimates print, limits refuse in one line that names the flag."""
import pytest

from invariants.core.cost import Cost, Limits, ResourceLimit, check, format_bytes, parse_size
from invariants.core.errors import UsageError


@pytest.mark.parametrize("text, n", [("512M", 512 * 2**20), ("8G", 8 * 2**30), ("1.5GiB", int(1.5 * 2**30)),
                                     ("1000", 1000), ("2kb", 2048)])
def test_parse_size_accepts(text, n):
    assert parse_size(text) == n


@pytest.mark.parametrize("text", ["", "x", "-1G", "0", "3Q", "nanG", "1e400"])
def test_parse_size_refuses(text):
    with pytest.raises(UsageError, match="--max-memory"):
        parse_size(text)


def test_check_accepts_within_limits():
    check(Cost(10, 100, 1.0), Limits(max_bytes=100, max_seconds=1.0), "run")
    check(Cost(10, 10**15, 1e9), Limits(None, None), "run")


def test_check_refuses_memory_with_flag_and_estimate():
    with pytest.raises(ResourceLimit) as info:
        check(Cost(10**9, 8 * 2**30, 5.0), Limits(max_bytes=4 * 2**30), "audit of dense(300, 100)")
    msg = str(info.value)
    assert "\n" not in msg and "--max-memory 10G" in msg and "8 GiB" in msg and "audit of dense" in msg


def test_check_refuses_time_with_flag():
    with pytest.raises(ResourceLimit, match="--max-seconds 150"):
        check(Cost(1, 1, 100.0), Limits(max_seconds=10.0), "run")


def test_cost_adds_sequential_work():
    total = Cost(1, 5, 1.0) + Cost(2, 3, 2.0)
    assert total == Cost(3, 5, 3.0) and "3 values" in str(total) and format_bytes(5) == "5 B"
