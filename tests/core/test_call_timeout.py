"""The per-call time limit (:mod:`invariants.core.timeout`, issue 16 item 3): a call that hangs — a pure-Python
busy loop, a long blocking C call — ends with :class:`TimedOut` naming the call and the limit; a quick call is
untouched; nothing is limited outside :func:`per_call`, off the main thread (not enforced, said so), or with no
limit; someone else's pending alarm survives.  Limits are 0.2 s so the tests stay fast."""
from __future__ import annotations

import signal
import threading
import time

import pytest

from invariants.core import timeout
from invariants.core.errors import BadInput, UsageError

LIMIT = 0.2


def spin():
    while True:
        pass


def block():
    time.sleep(1e6)


@pytest.mark.parametrize("hang", [spin, block], ids=["busy-loop", "sleep"])
def test_a_call_that_hangs_is_stopped_at_the_limit(hang):
    previous = signal.getsignal(signal.SIGALRM)
    t0 = time.monotonic()
    with timeout.per_call(LIMIT) as limit, pytest.raises(timeout.TimedOut) as info:
        with timeout.limited("mypkg.hang"):
            hang()
    assert limit.enforced and limit.seconds == LIMIT
    assert time.monotonic() - t0 < 5  # stopped, not waited out
    assert isinstance(info.value, BadInput)
    assert str(info.value).startswith("mypkg.hang did not return within 0.2 s (the per-call timeout)")
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)  # disarmed
    assert signal.getsignal(signal.SIGALRM) is previous  # the handler restored


def test_a_quick_call_is_untouched_and_the_timer_disarmed():
    previous = signal.getsignal(signal.SIGALRM)
    with timeout.per_call(LIMIT):
        with timeout.limited("quick"):
            value = sum(range(1000))
        time.sleep(LIMIT * 1.5)  # a late alarm would fire here
    assert value == 499500
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0) and signal.getsignal(signal.SIGALRM) is previous


@pytest.mark.parametrize("seconds", [None, 0.0])
def test_no_limit_without_per_call_or_with_none(seconds):
    assert not timeout.current().enforced
    with timeout.limited("outside"):
        time.sleep(0.05)
    with timeout.per_call(timeout.check_seconds(seconds)) as limit:
        assert not limit.enforced and limit.why == "no per-call timeout asked"
        with timeout.limited("none"):
            time.sleep(0.05)


def test_off_the_main_thread_the_limit_is_not_enforced_and_says_why():
    seen = {}

    def work():
        with timeout.per_call(0.05) as limit:
            seen["limit"] = limit
            with timeout.limited("in a thread"):
                time.sleep(0.15)  # would time out in the main thread
            seen["finished"] = True

    thread = threading.Thread(target=work)
    thread.start()
    thread.join()
    assert seen["finished"] and not seen["limit"].enforced
    assert "not in the main thread" in seen["limit"].why
    assert seen["limit"].to_dict() == {"timeout": 0.05, "timeout_enforced": False}


def test_an_outer_alarm_is_kept():
    fired = []
    previous = signal.signal(signal.SIGALRM, lambda *a: fired.append(1))
    try:
        signal.setitimer(signal.ITIMER_REAL, 30.0)
        with timeout.per_call(LIMIT), timeout.limited("quick"):
            pass
        remaining, _ = signal.getitimer(signal.ITIMER_REAL)
        assert 25.0 < remaining <= 30.0  # re-armed with what was left
        signal.setitimer(signal.ITIMER_REAL, 0.01)  # an outer alarm sooner than the limit: left alone
        with timeout.per_call(LIMIT), timeout.limited("quick"):
            time.sleep(0.1)
        assert fired == [1]
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def test_nested_calls_share_the_outer_timer():
    with timeout.per_call(LIMIT), pytest.raises(timeout.TimedOut, match="outer did not return"):
        with timeout.limited("outer"):
            with timeout.limited("inner"):
                pass
            spin()


@pytest.mark.parametrize("text, seconds", [("120", 120.0), ("0.5", 0.5), ("0", None), ("none", None),
                                           ("OFF", None), (" 2 ", 2.0)])
def test_parse_seconds_accepts_seconds_and_off(text, seconds):
    assert timeout.parse_seconds(text) == seconds


@pytest.mark.parametrize("text", ["-1", "abc", "", "nan", "inf", "1s", "-0.5"])
def test_parse_seconds_refuses_anything_else(text):
    with pytest.raises(UsageError, match="--timeout"):
        timeout.parse_seconds(text)


@pytest.mark.parametrize("value", [-1, float("nan"), float("inf"), "10", True, [1]])
def test_check_seconds_refuses_bad_api_values(value):
    with pytest.raises(UsageError, match="^timeout: expected"):
        timeout.check_seconds(value)
