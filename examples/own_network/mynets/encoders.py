"""My own network: any torch module mapping x to logits; infoplane captures the modules I name."""

from torch import nn


class Encoder(nn.Module):
    def __init__(self, n_inputs: int, n_classes: int, width: int):
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(n_inputs, width), nn.Tanh(), nn.Linear(width, 4), nn.Tanh())
        self.head = nn.Linear(4, n_classes)

    def forward(self, x):
        return self.head(self.encoder(x))


def build(n_inputs: int, n_classes: int, width: int = 8) -> nn.Module:
    """infoplane passes n_inputs and n_classes from the data; width comes from model.kwargs."""
    return Encoder(n_inputs, n_classes, width)
