"""Structural checks on real-model patterns (issue 13): a zeroed projection among random siblings, duplicated
units inside one tensor, a deliberately zero head without a probe, embedding padding rows, tied parameters.
Each rule: a known-bad model it rejects and a known-good one it accepts (synthetic torch models), then the
zoo models (skipped when their library is missing)."""
from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402

from invariants.frameworks.model import ModelView, Param  # noqa: E402
from invariants.layers import Dense, Embedding  # noqa: E402
from invariants.modelcheck import check_model  # noqa: E402
from invariants.modelcheck.checks import (  # noqa: E402
    DUPLICATE_LOG2,
    FINGERPRINT_BLOCK,
    chance_of_duplicates,
    constant_tensors,
    raw_bytes,
    row_candidates,
    zero_siblings,
)
from invariants.render import render_model  # noqa: E402
from tests.zoo.reports import group as zoo_group  # noqa: E402
from tests.zoo.reports import report as zoo_report  # noqa: E402


# ------------------------------------------------------------------------------------------ zero siblings


class _Block(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.fc1, self.fc2 = nn.Linear(d, d), nn.Linear(d, d)

    def forward(self, x):
        return x + self.fc2(torch.relu(self.fc1(x)))


class _SeqBlock(nn.Module):
    """Numbered roles (a Sequential: ``mlp.0``, ``mlp.2``), as HF ResNet's ``layer.0/1/2``."""

    def __init__(self, d):
        super().__init__()
        self.mlp = nn.Sequential(nn.Linear(d, d), nn.ReLU(), nn.Linear(d, d))

    def forward(self, x):
        return x + self.mlp(x)


def _residual(block=_Block, zero=(), n=3):
    torch.manual_seed(0)

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.inp = nn.Linear(16, 32)
            self.blocks = nn.Sequential(*[block(32) for _ in range(n)])
            self.out = nn.Linear(32, 4)

        def forward(self, x):
            return self.out(self.blocks(self.inp(x)))

    net = Net()
    params = dict(net.named_parameters())
    with torch.no_grad():
        for name in zero:
            params[name].zero_()
    return net


def test_one_zeroed_projection_among_random_siblings_is_an_error():
    report = check_model(_residual(zero=["blocks.1.fc2.weight"]))
    (f,) = report.find("constant-tensor")
    assert f.severity == "error" and f.params == ("blocks.1.fc2.weight",), render_model(report)
    assert f.figures["random_siblings"] == 5 and "blocks.0.fc2.weight" in f.message
    assert not report.ok


def test_a_zero_pattern_every_block_shares_is_the_fixup_note():
    report = check_model(_residual(zero=[f"blocks.{i}.fc2.weight" for i in range(3)]))
    assert report.ok and report.kinds() == {"zero-residual-branch"}, render_model(report)
    assert all("zero too" in f.message for f in report.find("zero-residual-branch"))


@pytest.mark.parametrize("block, name", [(_Block, "blocks.0.fc2.weight"), (_SeqBlock, "blocks.0.mlp.2.weight")])
def test_a_lone_zero_branch_stays_a_note(block, name):
    """One block: a random first layer next to the zero last one is a role, not another block."""
    report = check_model(_residual(block, zero=[name], n=1))
    assert report.ok and report.kinds() == {"zero-residual-branch"}, render_model(report)


def test_numbered_roles_sequential_blocks():
    good = check_model(_residual(_SeqBlock, zero=[f"blocks.{i}.mlp.2.weight" for i in range(3)]))
    assert good.ok and good.kinds() == {"zero-residual-branch"}, render_model(good)
    bad = check_model(_residual(_SeqBlock, zero=["blocks.2.mlp.2.weight"]))
    assert [f.params for f in bad.find("constant-tensor")] == [("blocks.2.mlp.2.weight",)], render_model(bad)


def test_zero_siblings_decision_on_names():
    def view(zero_names, names):
        ps = [Param(n, np.zeros((4, 4)) if n in zero_names else np.random.default_rng(0).normal(size=(4, 4)),
                    "weight", owner_type="Linear", layer=Dense(4, 4)) for n in names]
        return ModelView("torch", "m", ps), {p.name: p for p in ps}

    names = [f"layer{s}.{b}.conv{c}.weight" for s in (1, 2) for b in (0, 1) for c in (1, 2)]
    v, ps = view({n for n in names if n.endswith("conv2.weight")}, names)
    assert zero_siblings(v, ps["layer2.0.conv2.weight"])[0] is True          # every block's conv2: Fixup
    v, ps = view({"layer2.0.conv2.weight"}, names)
    shared, zero, rand = zero_siblings(v, ps["layer2.0.conv2.weight"])
    assert shared is False and not zero and len(rand) == 7
    assert rand[0] == "layer2.1.conv2.weight"  # the same layer in another block first
    v, ps = view({"h.0.fc.weight"}, ["h.0.fc.weight", "h.1.fc.weight"])
    assert zero_siblings(v, ps["h.0.fc.weight"])[0] is False                 # one of two blocks zeroed
    v, ps = view({"fc.weight"}, ["fc.weight", "other.weight"])
    assert zero_siblings(v, ps["fc.weight"])[0] is None                       # lone
    v, ps = view({"blocks.0.fc2.weight"}, ["blocks.0.fc1.weight", "blocks.0.fc2.weight"])
    assert zero_siblings(v, ps["blocks.0.fc2.weight"])[0] is None             # a role, not another block


# ------------------------------------------------------------------------------------------ duplicated units


def _conv_bn(copy=False, zero_gamma=False):
    torch.manual_seed(0)
    m = nn.Sequential(nn.Conv2d(3, 16, 3, padding=1, bias=False), nn.BatchNorm2d(16), nn.ReLU(),
                      nn.Conv2d(16, 16, 3, padding=1, bias=False), nn.BatchNorm2d(16), nn.ReLU(),
                      nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(16, 4))
    for mod in m:
        if isinstance(mod, nn.Conv2d):
            nn.init.kaiming_normal_(mod.weight, mode="fan_out", nonlinearity="relu")
    with torch.no_grad():
        if copy:
            m[3].weight[1:5].copy_(m[3].weight[0:1].expand_as(m[3].weight[1:5]))
        if zero_gamma:
            m[4].weight.zero_()
    return m, torch.randn(8, 3, 8, 8)


def test_copied_filters_inside_one_conv_are_an_error():
    report = check_model(_conv_bn(copy=True))
    (f,) = report.find("duplicated-units")
    assert f.severity == "error" and f.params == ("3.weight",) and f.figures["classes"] == [[0, 1, 2, 3, 4]]
    assert "training separates them" in f.message and "interchangeable-units" not in report.kinds()
    assert not check_model(_conv_bn()).find("duplicated-units")


def _mlp_rows(edit):
    torch.manual_seed(0)
    m = nn.Sequential(nn.Linear(64, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(), nn.Linear(256, 10))
    with torch.no_grad():
        edit(m[2])
    return m


def test_copied_rows_with_different_biases_are_an_error():
    """Known-bad (the new-user trial's cases): one row, then half the rows of a random Linear copied, biases
    left as drawn: the units are different functions (no symmetry), but the rows are no initializer's draw.
    Known-good: the same layer as drawn; legitimate equal rows (a constant-filled layer, zero rows, an
    identity kernel, rows of fan_in 1 where coincidences are likely) give no duplicated-units."""
    def one(lin):
        lin.weight[1] = lin.weight[0]

    def half(lin):
        lin.weight[1:128] = lin.weight[0]

    for edit, n_copied in ((one, 2), (half, 128)):
        (f,) = check_model(_mlp_rows(edit)).find("duplicated-units")
        assert f.severity == "error" and f.params == ("2.weight",) and len(f.figures["classes"][0]) == n_copied
        assert f.figures["classes_with_different_biases"] == 1 and "biases differ" in f.message
        assert "no symmetry ties them" in f.message and "copied one unit's weights" in f.message
    assert not check_model(_mlp_rows(lambda lin: None)).find("duplicated-units")

    def legit(lin):
        lin.weight[:8] = 0.0                                             # zero rows: dead-units' business
        lin.weight[8:16] = 0.01                                          # constant rows
        lin.weight[16:24] = 0.0
        lin.weight[16:24, 3] = 1.0                                       # identity-like rows: one nonzero, equal
    report = check_model(_mlp_rows(legit))
    assert "duplicated-units" not in report.kinds(), render_model(report)
    torch.manual_seed(0)
    narrow = nn.Sequential(nn.Linear(1, 8), nn.Tanh(), nn.Linear(8, 2))  # fan_in 1: chance explains twins
    with torch.no_grad():
        narrow[0].weight[1] = narrow[0].weight[0]
    assert "duplicated-units" not in check_model(narrow).kinds()


def test_zero_gradient_proves_no_tie_for_ever():
    """Behind a zero-γ BatchNorm δ = 0 for every channel at init; that is no evidence of identical
    outgoing weights, so the copies are duplicated-units, not interchangeable-units."""
    report = check_model(_conv_bn(copy=True, zero_gamma=True))
    assert "duplicated-units" in report.kinds("error") and "interchangeable-units" not in report.kinds()
    assert "gradients are zero at init" in report.find("duplicated-units")[0].message


def test_duplicates_chance_could_explain_are_no_error():
    rows = np.random.default_rng(0).normal(size=(64, 288)).astype(np.float32)
    assert chance_of_duplicates(rows, 64) < -1000
    one = np.random.default_rng(0).normal(size=(4096, 1)).astype(np.float32)
    assert chance_of_duplicates(one, 4096) > DUPLICATE_LOG2              # fan_in 1: coincidences are likely
    ternary = np.random.default_rng(0).choice([-1.0, 0.0, 1.0], size=(64, 8)).astype(np.float32)
    assert chance_of_duplicates(ternary, 64) > DUPLICATE_LOG2            # a discrete law: many coincide
    torch.manual_seed(0)
    m = nn.Sequential(nn.Linear(1, 8), nn.Tanh(), nn.Linear(8, 2))
    with torch.no_grad():
        m[0].weight[1] = m[0].weight[0]
        m[0].bias[1] = m[0].bias[0]
    report = check_model(m)
    assert "duplicated-units" not in report.kinds() and "tied-units" in report.kinds("note"), render_model(report)


def _twins_by_digest(rows):
    """The rows that have a bit-identical twin, by one digest per row (the reference: the former rule)."""
    import hashlib

    seen = {}
    for j in range(rows.shape[0]):
        seen.setdefault(hashlib.sha256(raw_bytes(rows[j])).digest(), []).append(j)
    return sorted(j for g in seen.values() if len(g) > 1 for j in g)


def _twins_among(rows, candidates):
    sub = rows[candidates]
    return sorted(candidates[j] for j in _twins_by_digest(sub)) if len(candidates) else []


@pytest.mark.parametrize("seed", range(6))
def test_row_fingerprints_find_exactly_the_bit_identical_rows(seed):
    """Known-bad: planted twins (copies, all-zero rows beside an all-(-0) row) in float32,
    float16, bfloat16 and float64, contiguous or transposed, over more rows than one fingerprint block:
    every twin is a candidate and comparing the candidates' bytes gives the reference's twins exactly.
    Known-good: distinct random rows give no candidate."""
    ml_dtypes = pytest.importorskip("ml_dtypes")  # installed with the torch extra
    rng = np.random.default_rng(seed)
    dtype = [np.float32, np.float16, ml_dtypes.bfloat16, np.float64, np.float32, np.float32][seed]
    n, k = (3000, FINGERPRINT_BLOCK // 1000 + 7) if seed == 5 else (int(rng.integers(2, 300)), int(rng.integers(0, 40)))
    rows = rng.standard_normal((n, k)).astype(dtype)
    if seed == 4:
        rows = np.ascontiguousarray(rows.T).T  # a strided view, as Node.incoming returns for some layouts
    assert _twins_by_digest(rows) == [] or k < 3  # short rows of a coarse dtype may tie by chance
    assert list(row_candidates(rows)) == _twins_by_digest(rows) or k < 3
    if k and n >= 8:
        rows = np.array(rows)
        rows[1] = rows[0]
        rows[n - 1] = rows[0]
        rows[3] = rows[2]
        rows[4] = rows[2]
        rows[5] = 0
        rows[6] = -0.0  # equal values, other bytes: no twin of rows 5 and 7
        rows[7] = 0
    cand = row_candidates(rows)
    assert set(_twins_by_digest(rows)) <= set(cand.tolist())
    assert _twins_among(rows, cand) == _twins_by_digest(rows)


# ------------------------------------------------------------------------------------------ zero head, no probe


class _NoProbe(nn.Module):
    """A model the probe cannot run (it insists on 32 features, like torchvision's ViT on its image size)."""

    def __init__(self, zero_hidden=False):
        super().__init__()
        torch.manual_seed(0)
        self.body, self.head = nn.Linear(32, 16), nn.Linear(16, 10)
        nn.init.zeros_(self.head.weight)
        nn.init.zeros_(self.head.bias)
        if zero_hidden:
            nn.init.zeros_(self.body.weight)

    def forward(self, x):
        assert x.shape[-1] == 33, "wrong size"
        return self.head(torch.relu(self.body(x)))


def test_zero_head_without_probe_is_no_tie():
    report = check_model(_NoProbe())
    assert not report.kinds("error") and report.kinds() == {"probe", "zero-output-layer"}, render_model(report)
    bad = check_model(_NoProbe(zero_hidden=True))
    assert "constant-tensor" in bad.kinds("error")


# ------------------------------------------------------------------------------------------ padding rows


def _lm(padding_idx=0, zero_all=False, zero_row=None):
    torch.manual_seed(0)
    m = nn.Sequential(nn.Embedding(200, 32, padding_idx=padding_idx), nn.Linear(32, 16))
    with torch.no_grad():
        nn.init.normal_(m[0].weight, std=1.0)
        if padding_idx is not None:
            m[0].weight[padding_idx].zero_()
        if zero_row is not None:
            m[0].weight[zero_row].zero_()
        if zero_all:
            m[0].weight.zero_()
    return m, torch.randint(0, 200, (8, 5))


def test_padding_row_is_named_and_kept_out_of_the_variance_test():
    report = check_model(_lm(padding_idx=3))
    (f,) = report.find("padding-row")
    assert f.severity == "note" and f.params == ("0.weight",) and f.figures["rows"] == [3]
    assert not any(f.kind == "variance" and "0.weight" in f.params for f in report.findings), render_model(report)
    assert any(r.name == "0.weight" for r in report.tensors)  # the rest of the table is still tested


def test_zero_table_with_padding_idx_is_still_an_error():
    report = check_model(_lm(padding_idx=0, zero_all=True))
    assert [f.params for f in report.find("constant-tensor")] == [("0.weight",)]
    assert "padding-row" not in report.kinds()


def test_undeclared_zero_row_is_not_a_padding_row():
    report = check_model(_lm(padding_idx=None, zero_row=0))
    assert "padding-row" not in report.kinds()


# ------------------------------------------------------------------------------------------ tied names


def test_findings_name_a_tied_parameter_by_all_its_names():
    w = Param("transformer.wte.weight", np.zeros((50, 8), np.float32), "embedding", owner_type="Embedding",
              layer=Embedding(50, 8))
    w.tied = ("lm_head.weight",)  # set by the extractor where Param has the field
    other = Param("h.0.fc.weight", np.random.default_rng(0).normal(size=(8, 8)), "weight", owner_type="Linear",
                  layer=Dense(8, 8))
    (f,) = [f for f in constant_tensors(ModelView("torch", "m", [w, other])) if f.kind == "constant-tensor"]
    assert f.params == ("transformer.wte.weight",) and "(tied: also lm_head.weight)" in f.message


# ------------------------------------------------------------------------------------------ the zoo


def _zoo(target):
    from tests.zoo.models import BY_NAME

    z = BY_NAME[target.split("__")[0]]
    if not z.available():
        pytest.skip(f"{z.name} needs {', '.join(z.requires)}")
    return zoo_report(target)  # tests/zoo reads the same report: each test is in its model's xdist group


@zoo_group("hf_llama__zero_projection")
def test_zoo_llama_zeroed_down_proj_is_an_error():
    report = _zoo("hf_llama__zero_projection")
    assert ("model.layers.0.mlp.down_proj.weight",) in [f.params for f in report.find("constant-tensor")]


@zoo_group("hf_resnet__copy_layer")
def test_zoo_hf_resnet_copied_filters_are_an_error():
    report = _zoo("hf_resnet__copy_layer")
    (f,) = report.find("duplicated-units")
    assert f.params == ("resnet.encoder.stages.2.layers.0.layer.1.convolution.weight",)


@zoo_group("tv_vit__bare")
def test_zoo_torchvision_vit_zero_head_without_probe_is_no_error():
    report = _zoo("tv_vit__bare")
    assert "interchangeable-units" not in report.kinds() and "zero-output-layer" in report.kinds("note")


@zoo_group("hf_bert")
def test_zoo_bert_padding_row():
    report = _zoo("hf_bert")
    (f,) = report.find("padding-row")
    assert f.params == ("embeddings.word_embeddings.weight",)
    assert not any(g.kind == "variance" and f.params[0] in g.params for g in report.findings)
