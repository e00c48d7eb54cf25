"""Peer scale in small models whose layers carry their own names (stop 26's new-user trials).

``fc1``/``fc2``/``out`` (torch), ``hidden1``/``hidden2``/``logits`` (Keras, Flax): the two hidden layers
form a sibling class of two, and a 10x-std layer among them was HEALTHY (a silent pass).  Known-bad: the 10x
layer, hidden or first, is a ``peer-scale`` error naming it.  Known-good: the clean models; a classifier head
at std 0.01; a tall ``orthogonal_`` first layer (it matches ``orthogonal(gain=1)`` as its square sibling
does); CleanRL's PPO agent (orthogonal gain sqrt(2) hidden layers, critic head gain 1, actor head gain 0.01:
two heads, each ending its own stack); a layer whose forward rescales its stored 10x weight back (the
stored scale is a reparametrisation that leaves the function unchanged).
"""
from __future__ import annotations

import os

import numpy as np
import pytest
import torch
from torch import nn
from torch.nn import functional as F

from invariants.modelcheck import check_model


class Named(nn.Module):
    def __init__(self, first: type = nn.Linear):
        super().__init__()
        self.fc1, self.fc2, self.out = first(64, 256), nn.Linear(256, 256), nn.Linear(256, 10)

    def forward(self, x):
        return self.out(torch.relu(self.fc2(torch.relu(self.fc1(x)))))


def named(scale_at: str | None = None, scale: float = 10.0, head_std: float | None = None, first=nn.Linear):
    torch.manual_seed(0)
    m = Named(first)
    with torch.no_grad():
        if scale_at:
            getattr(m, scale_at).weight.mul_(scale)
        if head_std is not None:
            nn.init.normal_(m.out.weight, std=head_std)
    return m


def _errors(report, kind="peer-scale"):
    return [f for f in report.find(kind) if f.severity == "error"]


@pytest.mark.parametrize("layer", ["fc2", "fc1"])
def test_a_10x_layer_among_named_siblings_is_an_error(layer):
    """Known-bad: fc2 (hidden) or fc1 (first layer) at 10x std; its sibling follows torch's default."""
    rep = check_model(named(layer))
    (f,) = _errors(rep)
    assert f.params[0] == f"{layer}.weight" and "its sibling" in f.message and "matches no named scheme" in f.message
    assert 80 < f.figures["ratio"] < 125 and 50 < f.figures["effective_ratio"] < 200
    assert not rep.ok


def test_named_siblings_clean_and_with_a_small_head_are_healthy():
    """Known-good: the clean model, and its head at std 0.01 (alone in its class: not compared)."""
    for m in (named(), named(head_std=0.01)):
        rep = check_model(m)
        assert rep.ok and not rep.find("peer-scale"), rep.findings


def test_a_2x_layer_in_a_pair_is_within_the_bound():
    """Known-good: 2x std (4x variance) is within the 10x bound on the second moment."""
    assert not _errors(check_model(named("fc2", 2.0)))


class ScaledLinear(nn.Linear):
    """Stores its weight at 10x and divides it back in the forward pass (a runtime multiplier)."""

    def forward(self, x):
        return F.linear(x, self.weight * 0.1, self.bias)


def test_a_stored_scale_the_forward_undoes_is_a_note():
    """Known-good (the reparametrisation rule): the stored weight is 10x but the layer acts at its
    sibling's scale, so the function and its signal are unchanged: a note saying the probe measured it."""
    (f,) = check_model(named("fc1", first=ScaledLinear)).find("peer-scale")
    assert f.severity == "note" and "rescales the stored weight" in f.message
    assert 0.3 < f.figures["effective_ratio"] < 3


class Tall(nn.Module):
    def __init__(self, scale_at: int | None = None):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(2, 64), nn.Tanh(), nn.Linear(64, 64), nn.Tanh(), nn.Linear(64, 64),
                                 nn.Tanh(), nn.Linear(64, 1))
        for i, lay in enumerate(self.net):
            if isinstance(lay, nn.Linear):
                nn.init.orthogonal_(lay.weight, 10.0 if i == scale_at else 1.0)
                nn.init.zeros_(lay.bias)

    def forward(self, x):
        return self.net(x)


def test_a_tall_orthogonal_first_layer_matches_orthogonal():
    """Known-good (a false accusation before): Linear(2, 64) under ``orthogonal_`` has E[w^2] = 1/64, far
    below a fan-in scheme on fan_in 2, but it is orthogonal at gain 1 as its square siblings are.
    Known-bad: one hidden layer at orthogonal gain 10 among gain 1 siblings is an error."""
    torch.manual_seed(0)
    assert check_model(Tall()).ok
    torch.manual_seed(0)
    (f,) = _errors(check_model(Tall(scale_at=2)))
    assert f.params[0] == "net.2.weight" and 50 < f.figures["ratio"] < 200


def layer_init(layer, std=np.sqrt(2), bias_const=0.0):
    """cleanrl/ppo.py's initializer."""
    nn.init.orthogonal_(layer.weight, std)
    nn.init.constant_(layer.bias, bias_const)
    return layer


class Agent(nn.Module):
    """cleanrl/ppo.py's agent (with a forward returning both heads, for the probe)."""

    def __init__(self, obs: int = 4, act: int = 2, hidden_gain: float = np.sqrt(2)):
        super().__init__()
        self.critic = nn.Sequential(layer_init(nn.Linear(obs, 64)), nn.Tanh(), layer_init(nn.Linear(64, 64)),
                                    nn.Tanh(), layer_init(nn.Linear(64, 1), std=1.0))
        self.actor = nn.Sequential(layer_init(nn.Linear(obs, 64)), nn.Tanh(),
                                   layer_init(nn.Linear(64, 64), std=hidden_gain), nn.Tanh(),
                                   layer_init(nn.Linear(64, act), std=0.01))

    def forward(self, x):
        return self.actor(x), self.critic(x)


def test_cleanrl_ppo_is_healthy():
    """Known-good (a false accusation before: the head not run last was an error): both heads end their
    own stacks; the actor head's 0.01 gain is a note at most."""
    torch.manual_seed(0)
    rep = check_model(Agent())
    assert rep.ok and not [f for f in rep.findings if f.severity == "error"], rep.findings
    assert {f.params[0] for f in rep.find("peer-scale")} <= {"actor.4.weight"}
    torch.manual_seed(0)
    rep = check_model(Agent(obs=8, act=6))  # Atari-like sizes
    assert rep.ok


def test_cleanrl_ppo_with_a_10x_hidden_layer_is_an_error():
    """Known-bad: the actor's hidden layer at gain 10 sqrt(2) among gain sqrt(2) siblings."""
    torch.manual_seed(0)
    (f,) = _errors(check_model(Agent(hidden_gain=10 * np.sqrt(2))))
    assert f.params[0] == "actor.2.weight"


def test_keras_and_flax_named_hidden_layers():
    """Keras ``hidden1``/``hidden2``/``logits`` and Flax's custom names: 10x on ``hidden2`` is an error
    (known-bad), the clean model is healthy (known-good)."""
    os.environ.setdefault("KERAS_BACKEND", "jax")
    keras = pytest.importorskip("keras")
    keras.utils.set_random_seed(0)
    k = keras.Sequential([keras.Input((64,)), keras.layers.Dense(256, activation="relu", name="hidden1"),
                          keras.layers.Dense(256, activation="relu", name="hidden2"), keras.layers.Dense(10, name="logits")])
    assert check_model(k).ok
    w, b = k.get_layer("hidden2").get_weights()
    k.get_layer("hidden2").set_weights([w * 10, b])
    (f,) = _errors(check_model(k))
    assert "hidden2" in f.params[0]


def test_flax_named_hidden_layers():
    jax = pytest.importorskip("jax")
    fnn = pytest.importorskip("flax.linen")

    class FM(fnn.Module):
        @fnn.compact
        def __call__(self, x):
            x = fnn.relu(fnn.Dense(256, name="hidden1")(x))
            x = fnn.relu(fnn.Dense(256, name="hidden2")(x))
            return fnn.Dense(10, name="logits")(x)

    m = FM()
    v = m.init(jax.random.PRNGKey(0), np.ones((8, 64), np.float32))
    assert check_model((m, v)).ok
    p = dict(v["params"])
    p["hidden2"] = dict(p["hidden2"], kernel=p["hidden2"]["kernel"] * 10)
    (f,) = _errors(check_model((m, {"params": p})))
    assert "hidden2" in f.params[0]


class TD3Critic(nn.Module):
    """TD3's twin critics (``l1``-``l3`` and ``l4``-``l6``: one sibling class ``l#`` holding two stacks), with
    the final layers drawn U(+-3e-3) as DDPG-style code does."""

    def __init__(self, s: int = 17, a: int = 6):
        super().__init__()
        self.l1, self.l2, self.l3 = nn.Linear(s + a, 256), nn.Linear(256, 256), nn.Linear(256, 1)
        self.l4, self.l5, self.l6 = nn.Linear(s + a, 256), nn.Linear(256, 256), nn.Linear(256, 1)
        for lay in (self.l3, self.l6):
            nn.init.uniform_(lay.weight, -3e-3, 3e-3)

    def forward(self, x):
        return (self.l3(torch.relu(self.l2(torch.relu(self.l1(x))))),
                self.l6(torch.relu(self.l5(torch.relu(self.l4(x))))))


def test_twin_heads_in_one_class_are_notes():
    """Known-good: both Q heads end their stacks (their width 1 feeds no member), whichever runs last: notes.
    Known-bad: ``l5`` at 10x std among its siblings stays an error."""
    torch.manual_seed(0)
    rep = check_model(TD3Critic())
    assert rep.ok and {f.params[0] for f in rep.find("peer-scale")} == {"l3.weight", "l6.weight"}
    torch.manual_seed(0)
    m = TD3Critic()
    with torch.no_grad():
        m.l5.weight.mul_(10)
    (f,) = _errors(check_model(m))
    assert f.params[0] == "l5.weight"
