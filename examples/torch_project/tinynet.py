"""A small PyTorch project: the model factory its tests check.

``build_model`` initializes a small conv net the way its authors intended (He normal for the ReLU
layers, zero biases, a zero output layer).  ``build_model_with_shared_seed`` is the same model wired with
a common mistake: both 3x3 convs are initialized from one seeded generator, so they start bit-identical.
"""
from __future__ import annotations

import torch
from torch import nn


def he_init_(module: nn.Module, generator: torch.Generator | None = None) -> nn.Module:
    """He normal for every conv/linear weight, zero biases, zero output layer."""
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            nn.init.kaiming_normal_(m.weight, nonlinearity="relu", generator=generator)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
    nn.init.zeros_(module.head.weight)
    return module


class TinyNet(nn.Module):
    def __init__(self, channels: int = 16, classes: int = 10) -> None:
        super().__init__()
        self.stem = nn.Conv2d(3, channels, 3, padding=1)
        self.conv1 = nn.Conv2d(channels, channels, 3, padding=1)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.head = nn.Linear(channels, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.relu(self.stem(x))
        x = torch.relu(self.conv1(x))
        x = torch.relu(self.conv2(x))
        return self.head(self.pool(x).flatten(1))


def build_model(seed: int = 0) -> TinyNet:
    torch.manual_seed(seed)
    return he_init_(TinyNet())


def build_model_with_shared_seed(seed: int = 0) -> TinyNet:
    model = build_model(seed)
    for conv in (model.conv1, model.conv2):  # the bug: one seeded generator per call site
        nn.init.kaiming_normal_(conv.weight, nonlinearity="relu", generator=torch.Generator().manual_seed(1234))
    return model
