"""check-model never changes the user's model, the cost estimate's shape pass included.

A new user's trial crashed on timm CoaT (``coat_lite_tiny``), whose ``cpe``/``crpe`` modules are registered
under two paths each: the estimate's meta-device pass (``torch.func.functional_call``) left the shared
modules' parameters on the meta device, and the CLI exited 2 with "Cannot copy out of meta tensor".
Known-bad: :func:`shared_module` (the trial's minimal case) on that code; known-good: the same model on the
swap-and-restore pass (:func:`invariants.modelcheck.cost._swapped` via :func:`activation_bytes`), and
models without sharing."""
from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402

from invariants import cli  # noqa: E402
from invariants.modelcheck import check_model  # noqa: E402
from invariants.modelcheck.cost import activation_bytes  # noqa: E402


class _Block(nn.Module):
    def __init__(self, shared: nn.Module):
        super().__init__()
        self.shared, self.fc = shared, nn.Linear(16, 16)

    def forward(self, x):
        return self.fc(torch.relu(self.shared(x)))


class _SharedNet(nn.Module):
    """``pos`` registered under three paths (``pos``, ``blocks.0.shared``, ``blocks.1.shared``), as timm
    CoaT's ``cpe1``/``crpe1`` modules are shared by its serial blocks."""

    def __init__(self):
        super().__init__()
        self.pos = nn.Linear(16, 16)
        self.blocks = nn.ModuleList([_Block(self.pos), _Block(self.pos)])
        self.head = nn.Linear(16, 4)

    def forward(self, x):
        for b in self.blocks:
            x = b(x)
        return self.head(x)


def shared_module():
    """The CLI target: the shared-module net with its probe input."""
    torch.manual_seed(0)
    return _SharedNet(), torch.randn(32, 16, generator=torch.Generator().manual_seed(1))


def _state(model: nn.Module) -> dict:
    """Every parameter and buffer under every path: the object, its device, storage and values."""
    return {k: (v, v.device, v.data_ptr(), v.detach().clone())
            for k, v in [*model.named_parameters(remove_duplicate=False),
                         *model.named_buffers(remove_duplicate=False)]}


def _assert_untouched(before: dict, model: nn.Module) -> None:
    after = _state(model)
    assert after.keys() == before.keys()
    for k, (obj, dev, ptr, val) in before.items():
        a = after[k]
        assert a[0] is obj and a[1] == dev and a[2] == ptr, k
        assert torch.equal(a[3], val), k


def test_the_estimate_leaves_a_module_under_two_paths_on_its_device():
    model, x = shared_module()
    before = _state(model)
    assert activation_bytes(model, x) == 4 * 32 * (16 * 4 + 4)  # pos and fc twice each, then head
    _assert_untouched(before, model)


def test_check_model_leaves_a_shared_module_model_untouched():
    model, x = shared_module()
    before = _state(model)
    estimates = []  # with on_estimate the cost estimate runs first, as on the command line
    report = check_model(model, example_input=x, on_estimate=lambda cost, excludes: estimates.append(excludes))
    assert estimates == [None]  # estimated with the activations, not left out
    _assert_untouched(before, model)
    assert report.exit_code in (0, 1) and report.coverage.tensors == 8  # judged, not crashed


def test_the_cli_judges_a_shared_module_model(capsys):
    assert cli.main(["check-model", "tests.modelcheck.test_model_untouched:shared_module", "-q"]) in (0, 1)
    assert "internal error" not in capsys.readouterr().err


def test_tied_parameters_stay_tied_in_the_meta_pass():
    # the decoder shares the embedding's Parameter (weight tying): one meta twin, so the pass stays on meta
    emb, dec = nn.Embedding(10, 8), nn.Linear(8, 10, bias=False)
    dec.weight = emb.weight
    model = nn.Sequential(emb, dec)
    before = _state(model)
    x = torch.arange(6).reshape(2, 3)
    assert activation_bytes(model, x) == 4 * 6 * (8 + 10)
    _assert_untouched(before, model)


def test_the_fake_mode_pass_leaves_batch_norm_buffers_alone():
    # a forward that makes a CPU tensor cannot run on meta tensors: the fake-mode pass; without fake twins
    # swapped in it wrote BatchNorm's num_batches_tracked += 1 through to the real buffer
    class M(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv, self.bn = nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4)

        def forward(self, x):
            return self.bn(self.conv(x)) + torch.ones(1)

    model = M()
    before = _state(model)
    assert activation_bytes(model, torch.randn(2, 3, 8, 8)) == 2 * (2 * 4 * 6 * 6) * 4  # conv and bn outputs
    _assert_untouched(before, model)
