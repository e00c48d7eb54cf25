"""HF SwitchTransformers keeps each expert as its own module, ``mlp.experts.expert_<k>``, and
:func:`invariants.layers.experts.expert_of` names it as one expert's dense map.

Textbook: transformers 5.25 ``models/switch_transformers/modeling_switch_transformers.py``:
``SwitchTransformersExperts`` is an ``nn.ModuleDict`` of ``SwitchTransformersDenseActDense`` keyed ``expert_{idx}``
(``wi``: ``d_model -> d_ff``, ``wo``: ``d_ff -> d_model``); ``SwitchTransformersPreTrainedModel._init_weights``
(``SwitchTransformersSparseMLP`` branch) draws every expert's ``wi`` *and* ``wo`` from
``normal(0, factor * d_model**-0.5)`` and ``router.classifier`` from ``normal(0, factor)``.

Known-good: those names read as ``(experts.wi.weight, k, None)``; the library init gets no error.
Known-bad: names that only look alike (``myexperts.expert_1``, ``expert_x``, a bare ``expert_2``) are no expert;
one expert's ``wi`` x10, every expert of one block at 0.1x, and one projection of every expert of every block at
10x (siblings agree: only the block's other roles, :mod:`invariants.modelcheck.block_roles`, show it), are errors
naming them.
"""
from __future__ import annotations

import pytest

from tests.zoo._compat import available, ensure_torchvision

pytestmark = pytest.mark.skipif(not available("transformers"), reason="transformers not installed")

D_MODEL = 32


def _model(edit=None, every=None):
    ensure_torchvision()
    import torch
    import transformers as T

    torch.manual_seed(0)
    model = T.SwitchTransformersEncoderModel(T.SwitchTransformersConfig(
        vocab_size=64, d_model=D_MODEL, d_kv=8, d_ff=64, num_layers=2, num_heads=4, num_experts=4,
        encoder_sparse_step=1))
    with torch.no_grad():
        if edit is not None:
            edit(model.encoder.block[1].layer[1].mlp.experts)
        for block in model.encoder.block if every is not None else ():
            for expert in block.layer[1].mlp.experts.values():  # one projection of every expert, every block
                getattr(expert, every).weight.mul_(10)
    return model


def _errors(model):
    from invariants.modelcheck import check_model

    return [f for f in check_model(model, probe=False).findings if f.severity == "error"]


def test_every_expert_tensor_of_a_switch_model_is_named_as_its_expert():
    from invariants.layers.experts import expert_of, module_wise

    names = [n for n, _ in _model().named_parameters()]
    experts = [n for n in names if ".experts.expert_" in n]
    assert len(experts) == 2 * 4 * 2  # blocks x experts x (wi, wo)
    for n in experts:
        owner, _, rest = n.partition(".expert_")
        k, _, leaf = rest.partition(".")
        assert expert_of(n) == (f"{owner}.{leaf}", int(k), None) and module_wise(n) == n
    assert not [n for n in names if n not in experts and expert_of(n) is not None]  # router, attention, norms
    for other in ("m.myexperts.expert_1.w", "m.experts.expert_x.w", "m.experts.expert_2", "m.experts.3.w1"):
        assert expert_of(other) is None, other


def test_library_init_is_no_error_and_matches_init_weights():
    model = _model()
    wi = model.encoder.block[1].layer[1].mlp.experts["expert_0"].wi.weight
    assert abs(float(wi.detach().std()) / D_MODEL**-0.5 - 1) < 0.1  # the SparseMLP branch's std
    assert not _errors(model)


def test_one_expert_times_ten_is_an_error_naming_it():
    errs = _errors(_model(lambda ex: ex["expert_2"].wi.weight.mul_(10)))
    assert [f.params[0] for f in errs] == ["encoder.block.1.layer.1.mlp.experts.expert_2.wi.weight"]


def test_every_expert_of_a_block_at_a_tenth_is_an_error_per_expert():
    def all01(ex):
        for e in ex.values():
            e.wi.weight.mul_(0.1), e.wo.weight.mul_(0.1)

    errs = _errors(_model(all01))
    experts = {f"encoder.block.1.layer.1.mlp.experts.expert_{k}.{w}.weight" for k in range(4) for w in ("wi", "wo")}
    assert experts <= {p for f in errs for p in f.params}  # each one named by an error
    # each a peer-scale error against its siblings in block 0, the last one (expert_3's wo, the encoder's last
    # node) too: taken for the output layer it was only a note and fell into an inconsistent-scale group led by
    # the attention q's, correct T5 tensors
    assert {f.params[0] for f in errs} == experts and {f.kind for f in errs} == {"peer-scale"}


@pytest.mark.parametrize("proj", ["wi", "wo"])
def test_one_projection_of_every_expert_at_10x_is_an_error_per_expert(proj):
    """The block-role rule, as for Mixtral's stacked experts (test_block_roles_fused.py): each expert's ``wi``
    and ``wo`` are two roles of the block ``layer.1``.  The encoder's last node is expert_3's ``wo``: it was
    taken for the model's output layer, so its 10x was only a note, and the tensor fell into an
    inconsistent-scale group led by the (correct) attention ``q``s; an expert is never the output layer."""
    errs = _errors(_model(every=proj))
    want = sorted(f"encoder.block.{b}.layer.1.mlp.experts.expert_{k}.{proj}.weight" for b in range(2) for k in range(4))
    assert sorted(f.params[0] for f in errs) == want, [f.message for f in errs]
    assert {f.kind for f in errs} == {"peer-scale"}
