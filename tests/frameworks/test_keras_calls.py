"""invariants/frameworks/keras/calls.py ``wrap_calls``: the one way the Keras probe (keras/model.py ``probe``) and
its BatchNorm watch (keras/batchstats.py ``watch``) wrap a layer's ``call`` on the instance and undo it.

Plain objects stand in for layers (Keras' ``Layer.__call__`` calls ``self.call``, keras/src/layers/layer.py; the
helper only reads and sets the instance attribute).  Known-good: a wrapper sees the calls, and undoing leaves the
class's ``call`` again, or the instance's own one; two wrappers over each other are undone in reverse order.
Known-bad: a layer listed twice and undone in the order it was wrapped gets its first wrapper back last, and it
stays on the instance (the second test)."""
from __future__ import annotations

from invariants.frameworks.keras.calls import wrap_calls


class _Layer:
    def call(self, x):
        return x + 1


def _tag(seen: list, tag: str):
    def make(layer, orig):
        def call(*args, **kwargs):
            seen.append(tag)
            return orig(*args, **kwargs)
        return call
    return make


def test_wrappers_see_the_calls_and_are_undone_in_reverse_order():
    plain, own = _Layer(), _Layer()
    mine = lambda x: x * 10  # noqa: E731  an instance's own call, kept
    own.__dict__["call"] = mine
    seen: list[str] = []
    undo_inner = wrap_calls([plain, own], _tag(seen, "inner"))
    undo_outer = wrap_calls([plain], _tag(seen, "outer"))
    assert plain.call(1) == 2 and own.call(1) == 10 and seen == ["outer", "inner", "inner"]
    undo_outer()
    undo_inner()
    assert "call" not in plain.__dict__ and own.__dict__["call"] is mine and plain.call(1) == 2


def test_one_undo_restores_nested_wrappers_of_one_layer():
    layer, seen = _Layer(), []
    twice = [layer, layer]  # one layer listed twice: wrapped twice, undone to the class's call
    undo = wrap_calls(twice, _tag(seen, "w"))
    assert layer.call(0) == 1 and seen == ["w", "w"]
    undo()
    assert "call" not in layer.__dict__
