"""Trained models by name: `bandmate.models.load("chorale")`, offline.

A shipped model is a folder in the package, `bandmate/data/models/<name>/`, holding
`model.safetensors`, `config.json` (model config and vocabulary) and `card.json` (the model card:
task, training data and its licences, settings, hardware, training time, command, metrics). A
path to any folder that `bandmate train` wrote loads the same way. Nothing is downloaded.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from bandmate.errors import UserError
from bandmate.models.checkpoint import CONFIG_FILE, load_model
from bandmate.models.sampling import PitchConstraints, sample_tokens
from bandmate.models.scoring import sequence_log_probs
from bandmate.models.tasks import make_task


def shipped_model_dir(name: str) -> Path:
    return Path(str(resources.files("bandmate.data") / "models" / name))


def shipped_models() -> list[str]:
    """Names of the models that ship with this version of bandmate."""
    root = Path(str(resources.files("bandmate.data") / "models"))
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir() if (p / CONFIG_FILE).is_file())


class TrainedModel:
    """A loaded model with its task: scores and samples pieces of that task.

    For chorales a piece is a list of SATB steps (MIDI pitches, -1 = silent).
    """

    def __init__(self, checkpoint_dir: str | Path):
        loaded = load_model(checkpoint_dir)
        self.path = Path(checkpoint_dir)
        self.model, self.tokenizer, self.card = loaded.model, loaded.tokenizer, loaded.card
        self.task = make_task(loaded.task, loaded.tokenizer)

    def __repr__(self) -> str:
        c = self.model.config
        return (
            f"TrainedModel({self.task.name!r}, {self.model.num_parameters():,} parameters, "
            f"d_model={c.d_model}, n_layers={c.n_layers}, max_len={c.max_len})"
        )

    # --- scoring -------------------------------------------------------------------------------
    def token_log_probs(self, piece) -> np.ndarray:
        """Natural-log probability (4 * steps,) of each token S, A, T, B of each step of a chorale,
        each conditioned on every token before it (`<bos>` given, `<eos>` not scored)."""
        return self.batch_log_probs([piece])[0]

    def batch_log_probs(self, pieces: Sequence) -> list[np.ndarray]:
        """`token_log_probs` of many pieces at once (batched: much faster for a whole split)."""
        sequences = [self.task.encode(p) for p in pieces]
        return [lp[:-1] for lp in sequence_log_probs(self.model, self.task, sequences)]

    def nll(self, pieces: Sequence) -> float:
        """Nats per token over every scored token of `pieces` (`bandmate.models.nll`)."""
        from bandmate.models.nll import nll_nats_per_token

        return nll_nats_per_token(self.batch_log_probs(pieces), pieces)

    def split_nll(self, split: str, data: dict | None = None) -> tuple[float, int, int]:
        """(nats per token, pieces, scored tokens) on a split of the model's own data: the JSB
        split for a chorale model; for a melody or drum model, the split of the ledger
        collections its card names (or `data`, a card's training-data record), scored as
        training scored valid."""
        if self.task.name == "chorale":
            from bandmate.corpus.jsb import load_jsb

            chorales = load_jsb(split)
            return self.nll(chorales), len(chorales), 4 * sum(len(c) for c in chorales)
        from bandmate.models.train import evaluate

        data = data or self.card.get("training", {}).get("data", {})
        names = [c["name"] for c in data.get("collections", [])]
        if not names:
            raise UserError(
                f"The model in {self.path} has no card naming its training data (card.json is "
                "missing or lists no collections), so there is no split to score; give the "
                "folder `bandmate train --out` wrote, with its card.json."
            )
        from bandmate.corpus.ledger import Ledger, not_recorded

        ledger = Ledger()
        known = set(ledger.collection_names())
        missing = [n for n in names if n not in known]
        if missing:  # a folder added under another BANDMATE_HOME, or on another machine
            licence_of = {c["name"]: c.get("licence") for c in data.get("collections", [])}
            consequence = f"the {split} split of {{its}} music cannot be scored"
            raise UserError(not_recorded(missing, licence_of, ledger.path, consequence))
        self.task.check_data(names, commercial_only=False)
        pieces = self.task.pieces(split)
        if not pieces:
            raise UserError(f"The {split} split of {', '.join(names)} holds no pieces.")
        tokens = sum(len(p) - 2 for p in pieces)
        return evaluate(self.model, self.task, pieces), len(pieces), tokens

    # --- sampling ------------------------------------------------------------------------------
    def sample(
        self,
        n_steps: int = 64,
        *,
        soprano: Sequence[int | None] | None = None,
        fixed_steps: Mapping[int, Sequence[int | None]] | None = None,
        pitch_classes: Collection[int] | None = None,
        pitch_range: tuple[int, int] | None = None,
        voice_ranges: Mapping[int, tuple[int, int]] | None = None,
        temperature: float = 1.0,
        top_p: float = 0.95,
        seed: int = 0,
    ) -> list[tuple[int, ...]]:
        """A chorale of `n_steps` 16th steps (a list of SATB steps).

        soprano: a given melody, one MIDI pitch (or -1, or None = free) per step, to harmonise.
        fixed_steps: step index -> (S, A, T, B), each a pitch, -1 or None (free).
        pitch_classes / pitch_range / voice_ranges: see `PitchConstraints`; they bind the free
        voices (given notes are kept as they are).
        """
        if self.task.name != "chorale":
            raise UserError(
                f"sample() writes chorales; for a {self.task.name} model use "
                "bandmate.models.sampling.sample_tokens and the tokenizer's decode."
            )
        fixed: dict[int, int] = {}
        given = dict(fixed_steps or {})
        for i, pitch in enumerate(soprano or ()):
            given.setdefault(i, (None, None, None, None))
            given[i] = (pitch, *tuple(given[i])[1:])
        for i, step in given.items():
            if not 0 <= i < n_steps or len(step) != 4:
                raise UserError(f"Fixed step {i} must lie in 0..{n_steps - 1} and give 4 voices.")
            for voice, pitch in enumerate(step):
                if pitch is not None:
                    fixed[1 + 4 * i + voice] = self._token_for(pitch)
        constraints = PitchConstraints(pitch_classes, pitch_range, dict(voice_ranges or {}))
        tokens = sample_tokens(
            self.model,
            self.task,
            length=4 * n_steps,
            fixed=fixed,
            constraints=constraints,
            temperature=temperature,
            top_p=top_p,
            seed=seed,
        )
        return self.tokenizer.decode(tokens)

    def _token_for(self, pitch: int) -> int:
        try:
            return self.tokenizer.token_for(int(pitch))
        except ValueError as e:
            raise UserError(f"{e}; give pitches this model knows.") from None

    def info(self) -> dict[str, Any]:
        return {"path": str(self.path), "card": self.card, "config": self.model.config.to_dict()}


def load(name_or_path: str | Path = "chorale") -> TrainedModel:
    """A shipped model by name ("chorale"), or the checkpoint folder at a path."""
    path = Path(name_or_path)
    shipped = shipped_model_dir(str(name_or_path))
    if (path / CONFIG_FILE).is_file():
        return TrainedModel(path)
    if (shipped / CONFIG_FILE).is_file():
        return TrainedModel(shipped)
    if path.is_dir():
        return TrainedModel(path)  # raises, saying what the folder lacks
    names = ", ".join(shipped_models()) or "none in this installation"
    raise UserError(
        f"No model called {str(name_or_path)!r}; shipped models: {names}. "
        "Give a shipped name or the folder that `bandmate train --out` wrote."
    )
