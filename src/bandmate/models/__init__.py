"""Models: PyTorch modules, training, checkpoints, sampling and scoring (layer 3)."""

from __future__ import annotations


def load(name_or_path="chorale"):
    """A trained model: a shipped one by name ("chorale") or a checkpoint folder; no network.

    Returns a `bandmate.models.registry.TrainedModel` (`token_log_probs`, `nll`, `sample`).
    torch is imported here, on first use, so that importing `bandmate.models` stays cheap.
    """
    from bandmate.models.registry import load as load_model

    return load_model(name_or_path)
