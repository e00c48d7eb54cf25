"""The verify schedule (invariants/claims/schedule.py) names only registered claims, times every one, and
plans every claim exactly once; known-bad: a plan that dropped or doubled a claim, or split a group."""
from __future__ import annotations

from invariants.claims import index, schedule


def test_schedule_names_registered_claims_and_times_each():
    grouped = [cid for group in schedule.TOGETHER for cid in group]
    assert len(grouped) == len(set(grouped)), "a claim in two groups"
    assert set(grouped) <= set(index.CLAIM_MODULES)
    assert set(schedule.SECONDS) == set(index.CLAIM_MODULES)


def covers(tasks, n):
    flat = sorted(pos for task in tasks for pos in task)
    return flat == list(range(n))


def test_plan_keeps_groups_together_heaviest_first_and_each_claim_once():
    ids = sorted(index.CLAIM_MODULES)
    tasks = schedule.plan(ids)
    assert covers(tasks, len(ids))
    assert not covers(tasks[1:], len(ids)) and not covers(tasks + [[0]], len(ids))  # the oracle rejects bad plans
    for group in schedule.TOGETHER:
        holding = [t for t in tasks if any(ids[p] in group for p in t)]
        assert len(holding) == 1 and sorted(ids[p] for p in holding[0]) == sorted(group)
    costs = [sum(schedule.SECONDS[ids[p]] for p in t) for t in tasks]
    assert costs == sorted(costs, reverse=True)


def test_plan_keeps_the_order_of_unknown_claims_and_repeats():
    assert schedule.plan(["T-B-01", "T-A-01", "T-C-01"]) == [[0], [1], [2]]
    assert schedule.plan(["T-A-01", "SYM-EQUIV-01", "SYM-CONST-01"]) == [[1, 2], [0]]
