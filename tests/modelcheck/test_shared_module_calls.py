"""A torch module registered under several names is probed per call site, each call with its own figures.

timm's CoaT registers one ``ConvPosEnc`` (``cpe``) and one ``ConvRelPosEnc`` (``crpe``) per stage on the model
and on every serial block of the stage (``timm/models/coat.py``: ``CoaT.__init__``, ``cpe=self.cpe1``), and each
block calls it.  The probe used to record every name of the module on its first call, so the second block's
name showed the first block's figures (a 25.5x 'growth' on CoaT came from that).  Here a tiny model calls one
shared Linear from two blocks on inputs 30x apart; the oracle is an unshared twin (two Linears with the same
values), whose per-layer figures are what each call site must show.
"""
from __future__ import annotations

import copy

import numpy as np
import pytest

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402

from invariants.frameworks.torch.model import extract_params, probe  # noqa: E402
from invariants.modelcheck import check_model  # noqa: E402


class Block(nn.Module):
    def __init__(self, pos: nn.Module, scale: float) -> None:
        super().__init__()
        self.pos = pos
        self.fc = nn.Linear(16, 16)
        self.scale = scale

    def forward(self, x):
        return self.fc(torch.relu(self.pos(x * self.scale)))


class Stack(nn.Module):
    """Two Linears in a ``ModuleList`` its forward loops over (timm CoaT's ``crpe.conv_list``): the list itself is
    never called, so a call of ``layers.0`` is named through the running ``Stack``'s name."""

    def __init__(self) -> None:
        super().__init__()
        self.layers = nn.ModuleList([nn.Linear(16, 16), nn.Linear(16, 16)])

    def forward(self, x):
        for layer in self.layers:
            x = layer(x)
        return x


class Net(nn.Module):
    """``shared`` is the owner's attribute (no call site), ``b1.pos`` and ``b2.pos`` its two call sites."""

    def __init__(self, shared: bool = True, stack: bool = False) -> None:
        super().__init__()
        self.shared = Stack() if stack else nn.Linear(16, 16)
        self.b1 = Block(self.shared, 1.0)
        self.b2 = Block(self.shared if shared else copy.deepcopy(self.shared), 30.0)
        self.head = nn.Linear(16, 4)

    def forward(self, x):
        return self.head(self.b2(self.b1(x)))


def figures(model: nn.Module, x) -> dict[str, tuple[float, float]]:
    """``{node: (E[x²] in, E[z²] out)}`` of the probe."""
    _, nodes, modules = extract_params(model)
    p = probe(model, nodes, modules, x, int(x.shape[0]), 0, "x")
    return {s.name: (s.input_moment, float(np.mean(np.square(s.z)))) for s in p.signals}


@pytest.fixture(scope="module")
def nets():
    torch.manual_seed(0)
    shared = Net()
    twin = Net(shared=False)
    twin.load_state_dict(shared.state_dict(), strict=False)  # the same values; b2.pos its own module
    with torch.no_grad():
        twin.b2.pos.weight.copy_(shared.shared.weight)
        twin.b2.pos.bias.copy_(shared.shared.bias)
    return shared, twin, torch.randn(32, 16)


def test_each_call_site_shows_its_own_call(nets):
    shared, twin, x = nets
    got, want = figures(shared, x), figures(twin, x)
    for site in ("b1.pos", "b2.pos"):
        np.testing.assert_allclose(got[site], want[site], rtol=1e-6)
    # known-bad: the old behaviour gave b2.pos the first call's figures (its input 30x larger in RMS, times
    # what b1 does to it)
    assert got["b2.pos"][0] > 30 * got["b1.pos"][0]


def test_a_shared_module_s_list_children_are_named_by_the_running_call():
    torch.manual_seed(0)
    shared = Net(stack=True)
    twin = copy.deepcopy(shared)
    twin.b2.pos = copy.deepcopy(twin.b2.pos)  # unshared, the same values
    x = torch.randn(32, 16)
    got, want = figures(shared, x), figures(twin, x)
    assert set(got) == set(want) and "b2.pos.layers.1" in got  # known-bad before: shared.layers.# for both calls
    for name in want:
        np.testing.assert_allclose(got[name], want[name], rtol=1e-6)


def test_calls_are_in_execution_order_and_the_owner_name_gets_no_record(nets):
    shared, _, x = nets
    _, nodes, modules = extract_params(shared)
    order = [s.name for s in probe(shared, nodes, modules, x, 32, 0, "x").signals]
    assert order == ["b1.pos", "b1.fc", "b2.pos", "b2.fc", "head"]


def test_the_shared_module_counts_as_measured(nets):
    shared, _, x = nets
    cov = check_model((shared, x)).coverage
    assert cov.signal_layers is None and not cov.unmeasured  # measured at its call sites
    assert not [s for s in cov.partial if s.name == "shared.weight"]


def test_an_unshared_module_never_called_stays_unmeasured():
    """Known-bad for the coverage rule: a module with one name that the forward never calls is still listed."""
    class Idle(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.used = nn.Linear(16, 16)
            self.idle = nn.Linear(16, 16)

        def forward(self, x):
            return self.used(x)

    torch.manual_seed(0)
    cov = check_model((Idle(), torch.randn(32, 16))).coverage
    assert cov.unmeasured == ["idle"]


class Tied(nn.Module):
    """One Linear shared across depth, ``ModuleList([layer] * 4)`` called in a loop (Universal-Transformer-style
    weight tying): one caller reaches it under its four names."""

    def __init__(self) -> None:
        super().__init__()
        self.layers = nn.ModuleList([nn.Linear(16, 16)] * 4)
        self.head = nn.Linear(16, 2)

    def forward(self, x):
        for layer in self.layers:
            x = torch.tanh(layer(x))
        return self.head(x)


def test_a_module_tied_across_depth_gets_each_call_under_its_own_name():
    """Known-bad (reviewer's repro): every call resolved to ``layers.0``, so only the first call was recorded while
    coverage counted ``layers.1``-``3`` as measured; each call now has its name and its own figures (a second
    forward pass starts over at ``layers.0``)."""
    torch.manual_seed(0)
    model, x = Tied(), torch.randn(32, 16)
    got = figures(model, x)
    assert list(got) == ["layers.0", "layers.1", "layers.2", "layers.3", "head"]
    assert list(figures(model, x)) == list(got)  # the names start over with each pass
    h, want = x, []
    with torch.no_grad():
        for layer in model.layers:
            want.append(float(torch.mean(h ** 2)))
            h = torch.tanh(layer(h))
    np.testing.assert_allclose([got[f"layers.{i}"][0] for i in range(4)], want, rtol=1e-5)
