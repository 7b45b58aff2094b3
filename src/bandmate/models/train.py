"""Train a `DecoderTransformer` on a task's token sequences, on the CPU, resumably.

The same function trains the tiny model of a test and the shipped chorale model of
`bench/train_chorale.py`; only the two config dataclasses differ.

**Data order.** Example `k` of the training stream is piece `perm_e[k mod n]` of epoch
`e = k // n`, where `perm_e` is a permutation drawn from `default_rng([seed, e])`; its
augmentation (a transposition) and its crop are drawn from `default_rng([seed, e, k])`. So the
stream is a pure function of the seed, nothing is carried from step to step, and resuming needs
only the step counter. Batches are cut from "megabatches" of `batch_size x sort_batches` examples
sorted by length, so a batch pads little (pieces differ in length by up to 10x), and the order of
the batches within a megabatch is drawn from the seed too.

**Schedule.** AdamW with weight decay on matrices only, linear warm-up, cosine decay to
`min_lr_ratio x lr` at `steps`, or, given a time budget (`minutes`), over that much training
time, so that a run on a busy machine still ends annealed on time (its warm-up then ends by a
tenth of the budget at the latest). Every `eval_interval` steps
the model is scored on `valid` by the task's own metric (nats per token,
`bandmate.models.scoring`); the best goes to `out_dir` (`model.safetensors`, `config.json`), the
latest full state to `out_dir/resume/`.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import platform
import signal
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from bandmate.errors import UserError
from bandmate.io.files import check_output_folder
from bandmate.models import checkpoint
from bandmate.models.scoring import sequence_log_probs
from bandmate.models.tasks import DEFAULT_COLLECTIONS, JSB_COLLECTION, make_task
from bandmate.models.transformer import DecoderTransformer, TransformerConfig
from bandmate.progress import ProgressCallback, no_progress
from bandmate.tokens.base import PAD


@dataclass
class TrainConfig:
    """How to train; saved in the resume state and in the model card. The defaults are the
    chorale recipe of `bench/train_chorale.py`."""

    steps: int = 10_000
    batch_size: int = 4  # pieces per batch
    seq_len: int = 1024  # training window in tokens: a random crop of a longer piece
    lr: float = 2e-3
    min_lr_ratio: float = 0.05
    warmup_steps: int = 200
    weight_decay: float = 0.1
    grad_clip: float = 1.0
    betas: tuple[float, float] = (0.9, 0.98)
    eval_interval: int = 500
    seed: int = 0
    transpositions: tuple[int, ...] = tuple(range(-5, 7))  # semitones; every key once
    sort_batches: int = 8  # batches per length-sorted megabatch
    num_threads: int = 2
    # a time budget: the cosine decay then runs on training time (evaluations included), not on
    # steps, and the run ends when the time is spent (or at `steps`). On a shared CPU a fixed
    # step count may not fit the time; this always ends annealed, at the price of depending on
    # the machine's speed (a run is no longer repeatable to the bit). None: schedule by steps.
    minutes: float | None = None

    @classmethod
    def from_dict(cls, data: dict) -> TrainConfig:
        data = dict(data)
        for key in ("betas", "transpositions"):
            data[key] = tuple(data[key])
        return cls(**data)


# the model each task trains unless told otherwise (see bench/train_chorale.py for the numbers)
DEFAULT_MODELS: dict[str, dict[str, Any]] = {
    "chorale": {"d_model": 128, "n_layers": 4, "n_heads": 4, "d_ff": 512, "dropout": 0.1},
    "melody": {"d_model": 128, "n_layers": 4, "n_heads": 4, "d_ff": 512, "dropout": 0.1},
    "drums": {"d_model": 128, "n_layers": 4, "n_heads": 4, "d_ff": 512, "dropout": 0.1},
}
# how each task's recipe differs from the chorale one: a folk tune is ~250 tokens, so a melody
# batch takes 16 whole tunes (~4,000 tokens, as 4 chorale crops do); drum tracks are ~1,000
# tokens, as long as a chorale crop; with 14 training grooves an epoch is 4 steps, so valid is
# scored more often to catch the point where the drum model starts to learn them by heart
DEFAULT_TRAINING: dict[str, dict[str, Any]] = {
    "melody": {"batch_size": 16},
    "drums": {"eval_interval": 100},
}


def recipe(task: str, **changes) -> TrainConfig:
    """The default TrainConfig of `task`, with `changes`."""
    return replace(TrainConfig(), **{**DEFAULT_TRAINING.get(task, {}), **changes})


#: The fewest train pieces a run on ledger data accepts. A transformer of the default size
#: (~0.8M parameters) given a handful of tunes learns them by heart within a few hundred steps,
#: and then writes little but copies, which the originality check flags; ten is a floor below
#: which that is near certain, not a count at which a model does well (the shipped melody model
#: learnt from ~10,000 tunes).
MIN_TRAIN_PIECES = 10
#: files to advise for MIN_TRAIN_PIECES in train, when 1 in 10 goes to valid or test by its hash
MIN_FILES_ADVISED = 12

#: what each task's pieces need, for the message when the data has none
_NEEDS = {"melody": "a pitched part", "drums": "a drum part (MIDI channel 10)"}


def run_config(
    task: str,
    out: str | os.PathLike,
    *,
    resume: bool = False,
    seed: int = 0,
    threads: int = 1,
    steps: int | None = None,
    minutes: float | None = None,
    batch_size: int | None = None,
) -> TrainConfig:
    """The TrainConfig of a run as `bandmate train` and the distributed entry point ask for it,
    after checking the settings and the output folder (UserError, one sentence, otherwise).

    With a time budget and no step count the budget alone ends the run.
    """
    if steps is not None and steps < 1:
        raise UserError("--steps must be at least 1.")
    if threads < 1:
        raise UserError("--threads must be at least 1.")
    if minutes is not None and minutes <= 0:
        raise UserError("--minutes must be more than 0.")
    if batch_size is not None and batch_size < 1:
        raise UserError("--batch-size must be at least 1.")
    _check_out_can_be_made(out)  # else found only at the end, after the training
    if resume and not checkpoint.has_training_state(out):
        raise UserError(f"Nothing to resume in {out}; run once without --resume first.")
    if not resume and checkpoint.has_training_state(out):
        raise UserError(
            f"{out} already holds a training run; add --resume to continue it or choose "
            "another --out."
        )
    taken = [
        name
        for name in (checkpoint.WEIGHTS_FILE, checkpoint.CONFIG_FILE, checkpoint.CARD_FILE)
        if (Path(out) / name).exists()
    ]
    if not resume and taken:  # a finished model, or files of the user's: never overwritten
        raise UserError(
            f"--out {out} already holds {', '.join(taken)}; choose another --out (a new or "
            "empty folder) so that nothing there is overwritten."
        )
    config = recipe(task, seed=seed, num_threads=threads, minutes=minutes)
    if batch_size is not None:
        config = replace(config, batch_size=batch_size)
    if steps is not None:
        config = replace(config, steps=steps)
    elif minutes is not None:
        config = replace(config, steps=1_000_000)  # the time budget ends the run
    return config


def _check_out_can_be_made(out: str | os.PathLike) -> None:
    """Refuse (OutputError) an --out that could not be written: a file, one inside a file, in a
    folder this user cannot write or beyond one they may not enter. The model is saved only
    after the training, which would be lost."""
    check_output_folder(out)


@dataclass
class TrainResult:
    """What a run did: where the best model is, how good it is, and how it was made."""

    out_dir: Path
    task: str
    best_valid_nll: float
    best_step: int
    steps_done: int
    seconds: float
    train_config: dict[str, Any]
    model_config: dict[str, Any]
    num_parameters: int
    data: dict[str, Any]
    history: list[dict[str, Any]] = field(default_factory=list)
    #: the split `best_valid_nll` was scored on: "valid", or "train" when valid held no pieces
    valid_split: str = "valid"
    warnings: list[str] = field(default_factory=list)
    #: the run was stopped by Ctrl-C at `steps_done`, evaluated and saved (`--resume` goes on)
    interrupted: bool = False


class _Interrupts:
    """The first Ctrl-C (SIGINT) asks a run to stop once its step is done; the run then
    evaluates and saves as at an eval, so `--resume` carries on from that step. The model was
    saved only at each eval (every 500 steps by default): a Ctrl-C ended the run with nothing
    saved since the last, or, before the first, with no model at all. A second Ctrl-C stops at
    once, as before. Only on the main thread of a single process: the ranks of a distributed
    run must stop together, and signals reach only the main thread."""

    def __init__(self, active: bool, on_request: Callable[[], None] | None = None):
        # a run started in the background by a shell script ignores Ctrl-C (the script's own
        # foreground job takes it), and a handler set outside Python cannot be put back: both
        # are left as they are
        self.active = (
            active
            and threading.current_thread() is threading.main_thread()
            and signal.getsignal(signal.SIGINT) not in (signal.SIG_IGN, None)
        )
        self.on_request = on_request
        self.requested = False
        self._previous = None

    def __enter__(self):
        if self.active:
            self._previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def _handle(self, signum, frame) -> None:
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True
        if self.on_request is not None:  # said at once: the step, eval and save take seconds
            self.on_request()

    def __exit__(self, *exc) -> bool:
        if self.active:
            signal.signal(signal.SIGINT, self._previous)
        return False


# with a time budget, the warm-up ends by this share of it at the latest
WARMUP_BUDGET_SHARE = 0.1


def learning_rate(step: int, config: TrainConfig, seconds: float = 0.0) -> float:
    """Linear warm-up to `lr` over `warmup_steps`, then cosine decay to `min_lr_ratio x lr`
    at `config.steps`, or, with a time budget, at `config.minutes` of training (`seconds`).

    With a time budget the rate is the cosine of the time spent times the warm-up's ramp, and the
    ramp ends at `warmup_steps` or at `WARMUP_BUDGET_SHARE` of the budget, whichever comes
    first: on a slow or busy machine a short budget (`--minutes 1`) can end before the warm-up's
    steps are done, and the run ended still warming up, at most of the full rate, never decayed.
    """
    floor = config.lr * config.min_lr_ratio
    if config.minutes is not None:
        budget = 60 * config.minutes
        ramp = max((step + 1) / config.warmup_steps, seconds / (WARMUP_BUDGET_SHARE * budget))
        progress = min(1.0, seconds / budget)
        cosine = floor + 0.5 * (config.lr - floor) * (1 + math.cos(math.pi * progress))
        return min(1.0, ramp) * cosine
    if step < config.warmup_steps:
        return config.lr * (step + 1) / config.warmup_steps
    progress = (step - config.warmup_steps) / max(1, config.steps - config.warmup_steps)
    return floor + 0.5 * (config.lr - floor) * (1 + math.cos(math.pi * min(1.0, progress)))


class TrainingStream:
    """The deterministic sequence of training batches (see the module docs)."""

    def __init__(self, task, pieces: list, config: TrainConfig, max_len: int):
        self.task, self.pieces, self.config = task, pieces, config
        self.window = min(config.seq_len, max_len)
        self._megabatch: tuple[int, list] | None = None

    def _example(self, k: int) -> tuple[np.ndarray, int]:
        """Tokens of stream example k (cropped to the window) and the position they start at."""
        n = len(self.pieces)
        epoch = k // n
        piece = self.pieces[np.random.default_rng([self.config.seed, epoch]).permutation(n)[k % n]]
        rng = np.random.default_rng([self.config.seed, epoch, k])
        tokens = self.task.encode_train(piece, rng)
        if len(tokens) <= self.window:
            return tokens, 0
        start = int(rng.integers(len(tokens) - self.window + 1))
        return tokens[start : start + self.window], start

    def batch(self, step: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Inputs (B, T), their token types (B, T) and targets (B, T) (`<pad>` = ignore)."""
        size, per = self.config.batch_size, self.config.sort_batches
        m = step // per
        if self._megabatch is None or self._megabatch[0] != m:
            examples = [self._example(k) for k in range(m * size * per, (m + 1) * size * per)]
            examples.sort(key=lambda e: len(e[0]))
            batches = [examples[i * size : (i + 1) * size] for i in range(per)]
            order = np.random.default_rng([self.config.seed, m, 1 << 20]).permutation(per)
            self._megabatch = (m, [batches[i] for i in order])
        examples = self._megabatch[1][step % per]
        longest = max(len(tokens) for tokens, _ in examples)
        tokens = np.full((len(examples), longest), PAD, dtype=np.int64)  # (B, T + 1)
        types = np.zeros((len(examples), longest), dtype=np.int64)
        for b, (seq, start) in enumerate(examples):
            tokens[b, : len(seq)] = seq
            types[b] = self.task.token_types(longest, start)
        tokens_t = torch.from_numpy(tokens)
        return tokens_t[:, :-1], torch.from_numpy(types[:, :-1]), tokens_t[:, 1:]


def evaluate(model: DecoderTransformer, task, sequences: list[np.ndarray]) -> float:
    """Nats per token on `sequences`, over every token after `<bos>` and before `<eos>`."""
    log_probs = sequence_log_probs(model, task, sequences)
    scored = [lp[:-1] for lp in log_probs]  # the last token is <eos>: not scored
    return float(-sum(lp.sum() for lp in scored) / sum(lp.size for lp in scored))


def _make_optimizer(model: DecoderTransformer, config: TrainConfig) -> torch.optim.AdamW:
    # decay matrices (linear weights, embeddings); never norms or biases
    decay = [p for p in model.parameters() if p.dim() >= 2]
    keep = [p for p in model.parameters() if p.dim() < 2]
    groups = [
        {"params": decay, "weight_decay": config.weight_decay},
        {"params": keep, "weight_decay": 0.0},
    ]
    return torch.optim.AdamW(groups, lr=config.lr, betas=config.betas, foreach=False)


def _train_step(
    model,
    optimizer,
    stream: TrainingStream,
    step: int,
    lr: float,
    grad_clip: float,
    shard: tuple[int, int] = (0, 1),
):
    """One optimizer step on batch `step` at learning rate `lr`; (mean loss, target tokens).

    shard: (rank, world size) when `model` is a DistributedDataParallel: this rank takes its
    rows of the global batch and its loss is scaled so that DDP's gradient average is the
    gradient of the global mean (see `bandmate.models.distributed`). The loss and the token
    count returned are the global batch's.
    """
    for group in optimizer.param_groups:
        group["lr"] = lr
    inputs, types, targets = stream.batch(step)
    tokens = int((targets != PAD).sum())
    rank, world = shard
    config = getattr(model, "module", model).config  # under DDP, the wrapped model's
    if world > 1:
        from bandmate.models import distributed

        inputs, types, targets = distributed.shard_rows((inputs, types, targets), rank, world)
    logits, _ = model(inputs, types if config.n_token_types else None)  # (B, T, V)
    flat_logits, flat_targets = logits.flatten(0, 1), targets.flatten()
    if world == 1:
        loss = F.cross_entropy(flat_logits, flat_targets, ignore_index=PAD)
    else:  # this rank's tokens' share of the global mean; x world undoes DDP's average
        summed = F.cross_entropy(flat_logits, flat_targets, ignore_index=PAD, reduction="sum")
        loss = summed / max(tokens, 1)
    optimizer.zero_grad(set_to_none=True)
    (loss * world if world > 1 else loss).backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), grad_clip)
    optimizer.step()
    if world > 1:
        return distributed.global_mean(loss.item()), tokens
    return loss.item(), tokens


def train(
    task: str,
    out_dir: str | Path,
    config: TrainConfig | None = None,
    model_config: dict[str, Any] | None = None,
    *,
    data: list[str] | None = None,
    commercial_only: bool = False,
    resume: bool = False,
    steps: int | None = None,
    stop_at_step: int | None = None,
    max_minutes: float | None = None,
    train_pieces: list | None = None,
    valid_pieces: list | None = None,
    progress: ProgressCallback = no_progress,
    report=None,
    warn: Callable[[str], None] = lambda message: None,
    distributed: bool = False,
    on_interrupt: Callable[[], None] | None = None,
) -> TrainResult:
    """Train a model for `task` ("chorale", ...) into `out_dir`; returns the best valid NLL.

    model_config: TransformerConfig fields other than vocab_size and n_token_types (which the
    task fixes); default `DEFAULT_MODELS[task]`. data / commercial_only: the ledger collections
    to learn from and whether each must be cleared for commercial use (chorales: "jsb" only).
    resume: continue the run saved in `out_dir/resume/` with its configs (`steps` may extend
    it; the cosine schedule then stretches to the new end).
    stop_at_step / max_minutes: stop early (state saved) without changing the lr schedule, so a
    later `resume` carries on exactly (`config.minutes`, by contrast, sets a time budget that the
    schedule follows). train_pieces / valid_pieces: the task's data by default
    (chorales: JSB train / valid); tests pass small lists. report(record): called with a dict
    (step, loss, lr, tokens_per_s, valid_nll when evaluated) after every eval.
    distributed: this process is one rank of a running `torch.distributed` process group: the
    model is wrapped in DistributedDataParallel, each rank trains on its share of every global
    batch of `config.batch_size` pieces, and rank 0 alone evaluates, saves, shows progress and
    reports (see `bandmate.models.distributed`).
    on_interrupt(): called when a first Ctrl-C asks the run to stop (it then stops once its step
    is done, evaluated and saved; `TrainResult.interrupted`).
    warn(message): called, before the first step, with a sentence for each doubt about the
    data (a valid split with no pieces: the train pieces then choose the best model); the
    sentences are also in the result's `warnings`.

    Data from the ledger with fewer than `MIN_TRAIN_PIECES` train pieces is refused (UserError).
    """
    torch.set_num_threads((config or TrainConfig()).num_threads)
    out = Path(out_dir)
    saved: dict[str, Any] | None = None
    if resume:
        saved = checkpoint.read_training_config(out)
        data, commercial_only = _resumed_data(out, saved, task, data, commercial_only)
        config = TrainConfig.from_dict(saved["train_config"])
        model_config = saved["model_config"]
    config = config or TrainConfig()
    if steps is not None:
        config = replace(config, steps=steps)
    model_config = DEFAULT_MODELS.get(task, {}) if model_config is None else model_config
    the_task = make_task(task, transpositions=config.transpositions)
    from_ledger = train_pieces is None
    warnings: list[str] = []
    if from_ledger:  # checked before any work; what is learnt is known once it is read
        the_task.check_data(data, commercial_only)
    else:
        data_record = {"items": len(train_pieces), "source": "given by the caller of train()"}
    tokenizer = the_task.tokenizer
    fields = {k: v for k, v in (model_config or {}).items() if k not in ("vocab_size",)}
    fields["n_token_types"] = the_task.n_token_types
    fields.setdefault("max_len", config.seq_len)
    torch.manual_seed(config.seed)
    model = DecoderTransformer(TransformerConfig(vocab_size=tokenizer.vocab_size, **fields))
    optimizer = _make_optimizer(model, config)
    state: dict[str, Any] = {"step": 0, "best_valid_nll": math.inf, "best_step": -1, "history": []}
    if resume:
        state = checkpoint.load_training_state(out, model, optimizer)
    rank, world = 0, 1
    trained = model  # what the steps run: the model, or its DDP wrapper
    if distributed:
        from torch.nn.parallel import DistributedDataParallel

        from bandmate.models import distributed as dist_tools

        rank, world = dist_tools.rank_and_world()
        if config.batch_size % world:
            raise UserError(
                f"The batch of {config.batch_size} pieces does not split evenly over {world} "
                "processes; give a batch size that is a multiple of the process count."
            )
        trained = DistributedDataParallel(model)  # broadcasts rank 0's weights
        if rank:  # dropout: each rank its own draws
            torch.manual_seed(config.seed * 1_000_003 + 7_919 * rank + state["step"])
            progress, report = no_progress, None
    main_rank = rank == 0
    train_pieces = the_task.pieces("train") if train_pieces is None else train_pieces
    valid_pieces = the_task.pieces("valid") if valid_pieces is None else valid_pieces
    if not train_pieces and not valid_pieces:  # the data holds nothing this task reads
        if from_ledger:
            _refuse_unreadable_data(the_task)
        raise UserError(
            f"The training data holds no pieces a {task} model can learn from (a {task} model "
            f"needs {_NEEDS.get(task, 'music of its kind')}); choose other --data."
        )
    fewest = MIN_TRAIN_PIECES if from_ledger else 1
    if len(train_pieces) < fewest:
        have = len(train_pieces)
        raise UserError(
            f"The train split of the training data holds {have} {_plural(have, 'piece')} with "
            f"{_NEEDS.get(task, 'music of its kind')}, too few: a {task} model needs at least "
            f"{fewest} "
            f"(give about {MIN_FILES_ADVISED} files or more, since 1 in 10 is kept aside for "
            "valid and test), so add files to the folder and run `bandmate corpus add` on it "
            "again."
        )
    if from_ledger:  # the items that gave pieces, and those left out with their reason
        data_record = the_task.data_record("train")
    valid_split = "valid"
    if not valid_pieces:  # 1 in 20 items goes to valid by its hash: a small folder may have none
        valid_split, valid_pieces = "train", train_pieces
        warnings.append(
            f"the valid split of the training data holds no pieces a {task} model can learn "
            "from (1 in 20 files goes there, chosen by its hash), so the best model is chosen "
            "by its loss on the training pieces, which favours learning them by heart; add "
            "files for a fairer choice."
        )
    for message in warnings if main_rank else ():
        warn(message)
    valid = [the_task.encode(p) for p in valid_pieces]
    stream = TrainingStream(the_task, train_pieces, config, model.config.max_len)
    record_configs = {
        "train_config": asdict(config),
        "model_config": model.config.to_dict(),
        "task": task,
        "data": {"collections": _collections(task, data), "commercial_only": commercial_only},
    }

    def save_state() -> None:
        checkpoint.save_training_state(
            out, model, tokenizer, task, optimizer, {**state, **record_configs}
        )

    end = config.steps if stop_at_step is None else min(stop_at_step, config.steps)
    started, tokens_seen, loss_sum, loss_count = time.monotonic(), 0, 0.0, 0
    seconds_before = state.get("seconds", 0.0)  # training time of earlier sessions of this run
    budget = None if config.minutes is None else 60 * config.minutes
    clocked = budget is not None or max_minutes is not None  # time decides: ranks must agree

    def local_seconds() -> float:  # training time of this run so far, all sessions
        return seconds_before + time.monotonic() - started

    def seconds() -> float:  # the same on rank 0's clock: a collective, so every rank calls it
        now = local_seconds()
        return dist_tools.rank0_value(now) if world > 1 and clocked else now

    trained.train()
    step = state["step"]
    shown_loss = None  # the loss on the progress bar, smoothed over about 20 steps
    interrupts = _Interrupts(world == 1, on_interrupt)
    with interrupts:
        while step < end and (budget is None or seconds() < budget):
            lr = learning_rate(step, config, seconds())
            loss, tokens = _train_step(
                trained, optimizer, stream, step, lr, config.grad_clip, (rank, world)
            )
            step += 1
            state["step"] = step
            tokens_seen += tokens
            loss_sum, loss_count = loss_sum + loss, loss_count + 1
            shown_loss = loss if shown_loss is None else 0.95 * shown_loss + 0.05 * loss
            status = f"step {step}  loss {shown_loss:.3f}"
            now = seconds()
            if budget is None:
                progress(step, config.steps, status=status)
            else:
                progress(min(now, budget), budget, status=status)
            out_of_time = (
                (budget is not None and now >= budget)
                or (max_minutes is not None and now - seconds_before > 60 * max_minutes)
                or interrupts.requested
            )
            if not main_rank:  # rank 0 evaluates and saves; the others go on to the next step
                if out_of_time:
                    break
                continue
            if step % config.eval_interval == 0 or step == end or out_of_time:
                valid_nll = evaluate(model, the_task, valid)
                record = {
                    "step": step,
                    "loss": loss_sum / loss_count,
                    "valid_nll": valid_nll,
                    "lr": lr,
                    "tokens_per_s": tokens_seen / max(time.monotonic() - started, 1e-9),
                    "seconds": local_seconds(),  # rank 0 only here: never the collective
                    **({} if valid_split == "valid" else {"scored_on": valid_split}),
                }
                state["seconds"] = record["seconds"]
                loss_sum, loss_count = 0.0, 0
                state["history"].append(record)
                if valid_nll < state["best_valid_nll"]:
                    state["best_valid_nll"], state["best_step"] = valid_nll, step
                    checkpoint.save_model(out, model, tokenizer, task)
                save_state()
                if report is not None:
                    report(record)
                if out_of_time:
                    break
    if world > 1:
        dist_tools.barrier()  # rank 0's last save is done before any rank leaves
    return TrainResult(
        out_dir=out,
        task=task,
        best_valid_nll=state["best_valid_nll"],
        best_step=state["best_step"],
        steps_done=step,
        seconds=state.get("seconds", 0.0),
        train_config=asdict(config),
        model_config=model.config.to_dict(),
        num_parameters=model.num_parameters(),
        data=data_record,
        history=state["history"],
        valid_split=valid_split,
        warnings=warnings,
        interrupted=interrupts.requested,
    )


def _refuse_unreadable_data(the_task) -> None:
    """Raise a UserError saying so when no train item of the ledger data could be read (files
    moved or deleted since `bandmate corpus add`, or all damaged): the message for data that
    holds no music of the task's kind would blame music that is there."""
    from bandmate.models.data import UNREADABLE

    left_out = the_task.data_record("train")["left_out"]
    if not left_out["items"] or set(left_out["reasons"]) != {UNREADABLE}:
        return
    first = left_out["listed"][0]
    detail = first.get("detail", "").strip().rstrip(".") or f"{first['item']!r} is unreadable"
    count = left_out["items"]
    which = "The one file" if count == 1 else f"None of the {count} files"
    could = "could not" if count == 1 else "could"
    raise UserError(
        f"{which} in the train split of the training data {could} be read ("
        f"{'' if count == 1 else 'the first: '}{detail}); restore the files, or choose other "
        "--data."
    )


def _plural(n: int, word: str) -> str:
    return word if n == 1 else word + "s"


def _collections(task: str, data: Sequence[str] | None) -> list[str]:
    """The ledger collections a run of `task` learns from, given --data (None: the default), in
    the order given: the order of the training pieces follows it."""
    return list(dict.fromkeys(data or DEFAULT_COLLECTIONS.get(task, (JSB_COLLECTION,))))


def _resumed_data(
    out: Path, saved: dict[str, Any], task: str, data, commercial_only: bool
) -> tuple[list[str] | None, bool]:
    """(data, commercial_only) of a resumed run: the ones it was started with.

    A run resumed on other data would end with weights learnt from both and a card that names
    only the second, so other --data, --commercial or --task is refused (UserError).
    """
    started = saved.get("task")
    if started is None:  # saved before the state recorded it: the resume checkpoint has it
        config = json.loads((out / checkpoint.RESUME_DIR / checkpoint.CONFIG_FILE).read_text())
        started = config.get("task")
    if started is not None and started != task:
        raise UserError(
            f"{out} holds a {started} training run, not {task}; give --task {started} to "
            "resume it, or choose another --out."
        )
    chosen = saved.get("data")
    if chosen is None:  # an older run: what it learnt from was not recorded
        return data, commercial_only
    if data is not None and set(_collections(task, data)) != set(chosen["collections"]):
        raise UserError(
            f"{out} is a run on {', '.join(chosen['collections'])}; resume it without --data "
            "(or with the same collections), or train on other data into another --out."
        )
    if commercial_only and not chosen["commercial_only"]:
        raise UserError(
            f"{out} is a run started without --commercial; resume it without --commercial, or "
            "train with it into another --out."
        )
    return chosen["collections"], chosen["commercial_only"]


def _hardware() -> dict[str, Any]:
    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return {
        "device": "cpu",
        "cpu": cpu,
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "python": platform.python_version(),
    }


PROTOCOLS = {
    "chorale": "bandmate.models.nll: nats per token over every S, A, T, B token of the split; "
    "<bos> and <eos> not scored",
    "sequence": "bandmate.models.train.evaluate: nats per token over every token of every piece "
    "of the ledger split of the collections in training.data, each conditioned on all before "
    "it; <bos> and <eos> not scored",
}


_SCORED_ON_TRAIN = (
    "the train split: the valid split held no pieces, so this figure (and the choice of the "
    "best step) measures how well the model learnt its own training pieces"
)


def write_card(result: TrainResult, command: str, **extra: Any) -> Path:
    """Write `card.json` (the model card) beside the best model of `result`; returns its path."""
    card = {
        "task": result.task,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "model": {
            "architecture": "DecoderTransformer",
            "parameters": result.num_parameters,
            "config": result.model_config,
        },
        "training": {
            "data": result.data,
            "settings": result.train_config,
            "steps": result.steps_done,
            # a run stopped by Ctrl-C short of its settings' steps (`--resume` goes on)
            **({"stopped": "by Ctrl-C"} if result.interrupted else {}),
            "best_step": result.best_step,
            "minutes": round(result.seconds / 60, 1),
            "hardware": _hardware(),
            "command": command,
        },
        "metrics": {
            "valid_nll_nats_per_token": result.best_valid_nll,
            "protocol": PROTOCOLS.get(result.task, PROTOCOLS["sequence"]),
            **({} if result.valid_split == "valid" else {"scored_on": _SCORED_ON_TRAIN}),
        },
        **({"warnings": result.warnings} if result.warnings else {}),
        "history": result.history,
        **extra,
    }
    from bandmate.io.files import write_text_atomic

    path = Path(result.out_dir) / checkpoint.CARD_FILE
    # whole or not at all: a model whose card is cut short is refused as having none
    write_text_atomic(path, json.dumps(card, indent=2) + "\n")
    return path
