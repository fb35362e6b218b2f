"""Training: the capture schedule, gradient statistics and the resumable training loop."""

from .gradients import GradientMoments
from .schedule import capture_epochs, log_schedule
from .train import TrainConfig, publish, train, weights_snapshot

__all__ = ["GradientMoments", "TrainConfig", "capture_epochs", "log_schedule", "publish", "train", "weights_snapshot"]
