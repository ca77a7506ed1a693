"""The yardstick's feature extractors: LeNet-style for MNIST, a small ResNet for CIFAR-10.

Both take images in [0, 1] (B, C, H, W) and standardise inside, so generated samples of
every family go in as they are. `embed` is the feature space of the Frechet distance and of
precision/recall; `forward` adds the linear layer that gives class logits, which tell the classes
a run's samples cover (the collapse rule).
"""
from __future__ import annotations

import torch
from torch import nn
import torch.nn.functional as F

# Per-channel mean and std of the training sets, for standardising inputs.
_STATS = {"mnist": ((0.1307,), (0.3081,)),
          "cifar10": ((0.4914, 0.4822, 0.4465), (0.2470, 0.2435, 0.2616))}


class _Standardise(nn.Module):
    def __init__(self, dataset: str):
        super().__init__()
        mean, std = _STATS[dataset]
        self.register_buffer("mean", torch.tensor(mean).view(1, -1, 1, 1))
        self.register_buffer("std", torch.tensor(std).view(1, -1, 1, 1))

    def forward(self, x):
        return (x - self.mean) / self.std


class LeNet(nn.Module):
    """conv5-pool-conv5-pool-fc: 28x28 -> 14x14 -> 5x5 -> `num_features` -> 10 logits."""

    def __init__(self, width: int = 32, num_features: int = 128):
        super().__init__()
        self.num_features = num_features          # torchmetrics reads this instead of probing
        self.body = nn.Sequential(
            _Standardise("mnist"),
            nn.Conv2d(1, width, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),           # (B, w, 14, 14)
            nn.Conv2d(width, 2 * width, 5), nn.ReLU(), nn.MaxPool2d(2),              # (B, 2w, 5, 5)
            nn.Flatten(), nn.Linear(2 * width * 25, num_features), nn.ReLU(),       # (B, F)
        )
        self.head = nn.Linear(num_features, 10)

    def embed(self, x):
        return self.body(x)

    def forward(self, x):
        return self.head(self.embed(x))


class _Block(nn.Module):
    """Pre-activation-free basic block: conv3-BN-ReLU-conv3-BN plus a (projected) shortcut."""

    def __init__(self, c_in: int, c_out: int, stride: int):
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(c_out)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(c_out)
        self.shortcut = nn.Sequential()
        if stride != 1 or c_in != c_out:
            self.shortcut = nn.Sequential(nn.Conv2d(c_in, c_out, 1, stride, bias=False), nn.BatchNorm2d(c_out))

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        return F.relu(self.bn2(self.conv2(out)) + self.shortcut(x))


class SmallResNet(nn.Module):
    """3 stages of `blocks` basic blocks at widths w, 2w, 4w: 32x32 -> 32 -> 16 -> 8 -> pooled 4w."""

    def __init__(self, width: int = 16, blocks: int = 1):
        super().__init__()
        self.num_features = 4 * width
        layers = [_Standardise("cifar10"), nn.Conv2d(3, width, 3, 1, 1, bias=False), nn.BatchNorm2d(width), nn.ReLU()]
        c_in = width
        for stage, c_out in enumerate((width, 2 * width, 4 * width)):
            for b in range(blocks):
                layers.append(_Block(c_in, c_out, stride=2 if stage > 0 and b == 0 else 1))
                c_in = c_out
        layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten()]                       # (B, 4w)
        self.body = nn.Sequential(*layers)
        self.head = nn.Linear(self.num_features, 10)

    def embed(self, x):
        return self.body(x)

    def forward(self, x):
        return self.head(self.embed(x))

