"""Checkpoints in safetensors and JSON only: no pickle is ever written or read.

A checkpoint is a folder:

- `model.safetensors`: the weights (tensors only; the tied output projection is the token
  embedding, so nothing is stored twice);
- `config.json`: `{"format", "task", "model": TransformerConfig, "tokenizer": Tokenizer.to_dict()}`,
  so the vocabulary travels with the weights and a checkpoint never depends on code defaults;
- `card.json` (shipped models): the model card, written by whoever publishes the model.

A resumable training state sits beside it in `resume/`: the latest weights (same two files), the
optimizer's moments flattened to `optimizer.safetensors` (`exp_avg.<param>`, `exp_avg_sq.<param>`,
`step.<param>`, plus `rng.torch`, the torch generator state that drives dropout) and
`state.json` (step counter, best valid loss, history, optimizer hyper-parameters, training
config). The data order is a pure function of (seed, step) (`bandmate.models.train`), so the
step counter is the data-order position. Restoring all of it makes "train N steps, save, resume
for M" equal "train N + M steps" to the last bit on the same machine.
"""

from __future__ import annotations

import contextlib
import importlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file

from bandmate.errors import InputFileError, OutputError
from bandmate.io.files import atomic_path, write_text_atomic
from bandmate.models.transformer import DecoderTransformer, TransformerConfig
from bandmate.tokens.base import Tokenizer

FORMAT = "bandmate-transformer/1"
WEIGHTS_FILE = "model.safetensors"
CONFIG_FILE = "config.json"
CARD_FILE = "card.json"
RESUME_DIR = "resume"
OPTIMIZER_FILE = "optimizer.safetensors"
STATE_FILE = "state.json"


@dataclass
class Checkpoint:
    """A loaded model with its tokenizer and the task it was trained for."""

    model: DecoderTransformer
    tokenizer: Tokenizer
    task: str
    card: dict[str, Any] = field(default_factory=dict)


# Every file is written to a temporary file beside it and moved into place: a run killed, or a
# disk that filled, while saving left a half-written model.safetensors over the last good one,
# and both the best model and `--resume` were lost.


def _write_json(path: Path, data: dict) -> None:
    write_text_atomic(path, json.dumps(data, indent=2, sort_keys=False) + "\n")


def _save_tensors(path: Path, tensors: dict[str, torch.Tensor], metadata=None) -> None:
    """Write `tensors` to `path` by a temporary file; a refused write (a full disk, a quota) is
    an OutputError sentence (safetensors raises its own error, not an OSError, for those)."""
    from safetensors import SafetensorError

    with atomic_path(path) as tmp:
        try:
            save_file(tensors, str(tmp), metadata=metadata)
        except SafetensorError as e:
            if "I/O error" not in str(e):
                raise
            reason = str(e).rpartition("I/O error: ")[2]
            raise OutputError(
                f"Cannot write {str(path)!r} ({reason}); make room on the disk or choose "
                "another folder."
            ) from None


def save_model(
    out_dir: str | Path, model: DecoderTransformer, tokenizer: Tokenizer, task: str
) -> Path:
    """Write `model.safetensors` and `config.json` into `out_dir` (created); returns the folder."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    tensors = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    _save_tensors(out / WEIGHTS_FILE, tensors, metadata={"format": FORMAT, "task": task})
    config = {
        "format": FORMAT,
        "task": task,
        "model": model.config.to_dict(),
        "tokenizer": tokenizer.to_dict(),
    }
    _write_json(out / CONFIG_FILE, config)
    return out


def load_model(checkpoint_dir: str | Path) -> Checkpoint:
    """The model saved in `checkpoint_dir` (on the CPU, in eval mode) with its tokenizer."""
    folder = Path(checkpoint_dir)
    weights, config_path = folder / WEIGHTS_FILE, folder / CONFIG_FILE
    if not weights.is_file() or not config_path.is_file():
        raise InputFileError(
            f"No model checkpoint in {folder}: it needs {WEIGHTS_FILE} and {CONFIG_FILE}; "
            "give the folder that `bandmate train --out` wrote."
        )
    try:
        config = json.loads(config_path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise InputFileError(f"{config_path} is damaged: it is not JSON ({e}).") from None
    if not isinstance(config, dict) or config.get("format") != FORMAT:
        found = config.get("format") if isinstance(config, dict) else None
        raise InputFileError(
            f"{config_path} is not a bandmate transformer checkpoint (format "
            f"{found!r}, expected {FORMAT!r})."
        )
    # importing the tokenizer modules registers their kinds with Tokenizer.from_dict
    _import_tokenizers()
    try:
        tokenizer = Tokenizer.from_dict(config["tokenizer"])
    except (KeyError, TypeError, ValueError, ImportError):
        kind = (config.get("tokenizer") or {}).get("kind", "unknown")
        raise InputFileError(
            f"The model in {folder} was saved with a {kind} vocabulary that this version of "
            "bandmate does not have; train it again with this version, or use the version "
            "that made it."
        ) from None
    try:
        model = DecoderTransformer(TransformerConfig.from_dict(config["model"]))
        model.load_state_dict(load_file(str(weights)), strict=True)
    except Exception as e:  # safetensors and torch raise several kinds; all mean a bad file
        raise InputFileError(
            f"The weights in {weights} do not load ({_first_line(e)}); the checkpoint is "
            "damaged or incomplete, so train it again."
        ) from None
    model.eval()
    card_path = folder / CARD_FILE
    card = json.loads(card_path.read_text(encoding="utf-8")) if card_path.is_file() else {}
    return Checkpoint(model=model, tokenizer=tokenizer, task=config["task"], card=card)


def _first_line(error: Exception) -> str:
    lines = str(error).strip().splitlines()
    line = lines[0] if lines else type(error).__name__
    return line if len(line) <= 160 else line[:157] + "..."


def _import_tokenizers() -> None:
    for name in ("chorale", "melody", "drums"):
        # a representation this version does not have yet is simply not registered
        with contextlib.suppress(ImportError):
            importlib.import_module(f"bandmate.tokens.{name}")


# --- resumable training state ----------------------------------------------------------------


def save_training_state(
    out_dir: str | Path,
    model: DecoderTransformer,
    tokenizer: Tokenizer,
    task: str,
    optimizer: torch.optim.Optimizer,
    state: dict[str, Any],
) -> Path:
    """Write everything needed to resume into `out_dir/resume/`; `state` must be JSON-able."""
    folder = save_model(Path(out_dir) / RESUME_DIR, model, tokenizer, task)
    names = {id(p): name for name, p in model.named_parameters()}
    opt_state = optimizer.state_dict()
    params = [p for group in optimizer.param_groups for p in group["params"]]
    tensors: dict[str, torch.Tensor] = {"rng.torch": torch.get_rng_state()}
    for index, moments in opt_state["state"].items():
        name = names[id(params[index])]
        for key, value in moments.items():
            tensors[f"{key}.{name}"] = torch.as_tensor(value).detach().clone().contiguous()
    _save_tensors(folder / OPTIMIZER_FILE, tensors)
    groups = [{k: v for k, v in g.items() if k != "params"} for g in opt_state["param_groups"]]
    _write_json(folder / STATE_FILE, {**state, "param_groups": groups})
    return folder


def has_training_state(out_dir: str | Path) -> bool:
    folder = Path(out_dir) / RESUME_DIR
    return all((folder / f).is_file() for f in (WEIGHTS_FILE, OPTIMIZER_FILE, STATE_FILE))


def read_training_config(out_dir: str | Path) -> dict[str, Any]:
    """The JSON state saved by `save_training_state` (its configs say how to rebuild the run)."""
    if not has_training_state(out_dir):
        raise InputFileError(
            f"Nothing to resume in {out_dir}: no {RESUME_DIR}/ training state there; "
            "start without --resume."
        )
    return json.loads((Path(out_dir) / RESUME_DIR / STATE_FILE).read_text(encoding="utf-8"))


def load_training_state(
    out_dir: str | Path, model: DecoderTransformer, optimizer: torch.optim.Optimizer
) -> dict[str, Any]:
    """Restore weights, optimizer moments and the torch RNG saved by `save_training_state`.

    `model` and `optimizer` must be built as they were for the saved run; returns the JSON state.
    """
    state = read_training_config(out_dir)
    folder = Path(out_dir) / RESUME_DIR
    model.load_state_dict(load_file(str(folder / WEIGHTS_FILE)), strict=True)
    tensors = load_file(str(folder / OPTIMIZER_FILE))
    params = [p for group in optimizer.param_groups for p in group["params"]]
    position = {id(p): i for i, p in enumerate(params)}
    index_of = {name: position[id(p)] for name, p in model.named_parameters() if id(p) in position}
    per_param: dict[int, dict[str, torch.Tensor]] = {}
    for key, value in tensors.items():
        moment, name = key.split(".", 1)  # "exp_avg.blocks.0.attn.qkv.weight"
        if moment != "rng":
            per_param.setdefault(index_of[name], {})[moment] = value
    groups = state.pop("param_groups")
    for group, saved in zip(groups, optimizer.state_dict()["param_groups"], strict=True):
        group["params"] = saved["params"]
    optimizer.load_state_dict({"state": per_param, "param_groups": groups})
    torch.set_rng_state(tensors["rng.torch"])
    return state
