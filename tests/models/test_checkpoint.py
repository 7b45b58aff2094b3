"""Checkpoints: safetensors and JSON only, exact round trips, and exact resumption."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import pytest
import torch

from bandmate.corpus.jsb import load_jsb
from bandmate.errors import InputFileError
from bandmate.models import checkpoint
from bandmate.models.train import TrainConfig, train, write_card

TINY_MODEL = {"d_model": 32, "n_layers": 2, "n_heads": 2, "d_ff": 64, "dropout": 0.1}


def tiny_config(**overrides) -> TrainConfig:
    fields = dict(
        steps=12,
        batch_size=4,
        seq_len=128,
        lr=3e-3,
        warmup_steps=3,
        eval_interval=4,
        sort_batches=2,
        seed=7,
        num_threads=1,
    )
    fields.update(overrides)
    return TrainConfig(**fields)


def test_a_saved_model_loads_with_the_same_outputs_and_vocabulary(
    tmp_path, tiny_chorale_model, chorale_task
):
    checkpoint.save_model(tmp_path, tiny_chorale_model, chorale_task.tokenizer, "chorale")
    loaded = checkpoint.load_model(tmp_path)
    tokens = torch.from_numpy(chorale_task.encode([(72, 67, 64, 48)] * 5)).view(1, -1)
    types = torch.from_numpy(chorale_task.token_types(tokens.shape[1])).view(1, -1)
    torch.testing.assert_close(loaded.model(tokens, types)[0], tiny_chorale_model(tokens, types)[0])
    assert loaded.tokenizer.to_dict() == chorale_task.tokenizer.to_dict()
    assert loaded.task == "chorale"
    assert loaded.model.config == tiny_chorale_model.config


def test_the_files_are_safetensors_and_json_never_pickle(
    tmp_path, tiny_chorale_model, chorale_task
):
    checkpoint.save_model(tmp_path, tiny_chorale_model, chorale_task.tokenizer, "chorale")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["config.json", "model.safetensors"]
    raw = (tmp_path / "model.safetensors").read_bytes()
    (header_len,) = struct.unpack("<Q", raw[:8])  # safetensors: u64 length, then a JSON header
    header = json.loads(raw[8 : 8 + header_len])
    assert "token_embedding.weight" in header
    assert b"\x80\x04" not in raw[:2]  # not a pickle protocol header
    config = json.loads((tmp_path / "config.json").read_text())
    assert config["model"]["vocab_size"] == chorale_task.tokenizer.vocab_size
    assert config["tokenizer"]["kind"] == "chorale"
    assert config["tokenizer"]["tokens"] == chorale_task.tokenizer.token_names()


def test_a_folder_without_a_checkpoint_is_a_clear_error(tmp_path):
    with pytest.raises(InputFileError, match=r"model\.safetensors"):
        checkpoint.load_model(tmp_path)
    with pytest.raises(InputFileError, match="resume"):
        checkpoint.read_training_config(tmp_path)


def test_a_checkpoint_from_another_version_or_damaged_is_a_clear_error(
    tmp_path, tiny_chorale_model, chorale_task
):
    # these were tracebacks (ValueError, SafetensorError, JSONDecodeError) from `bandmate eval`
    checkpoint.save_model(tmp_path, tiny_chorale_model, chorale_task.tokenizer, "chorale")
    config_path, weights = tmp_path / "config.json", tmp_path / "model.safetensors"
    config = json.loads(config_path.read_text())
    other = dict(
        config, tokenizer=dict(config["tokenizer"], tokens=config["tokenizer"]["tokens"][:-1])
    )
    config_path.write_text(json.dumps(other))
    with pytest.raises(InputFileError, match="chorale vocabulary that this version"):
        checkpoint.load_model(tmp_path)
    config_path.write_text(json.dumps(config))
    weights.write_bytes(weights.read_bytes()[:300])
    with pytest.raises(InputFileError, match="do not load"):
        checkpoint.load_model(tmp_path)
    config_path.write_text("{")
    with pytest.raises(InputFileError, match="not JSON"):
        checkpoint.load_model(tmp_path)


def _weights(folder):
    return checkpoint.load_model(folder).model.state_dict()


def test_train_save_resume_equals_one_run(tmp_path, short_chorales):
    """N steps, save, resume for M more == N + M steps in one go: losses and weights."""
    train_pieces, valid_pieces = short_chorales
    data = dict(train_pieces=train_pieces, valid_pieces=valid_pieces)
    whole = train("chorale", tmp_path / "whole", tiny_config(), TINY_MODEL, **data)
    first = train("chorale", tmp_path / "split", tiny_config(), TINY_MODEL, stop_at_step=8, **data)
    assert first.steps_done == 8
    resumed = train("chorale", tmp_path / "split", resume=True, **data)
    assert resumed.steps_done == whole.steps_done == 12

    assert [r["step"] for r in resumed.history] == [r["step"] for r in whole.history]
    valid_nll = [r["valid_nll"] for r in whole.history]
    assert [r["valid_nll"] for r in resumed.history] == pytest.approx(valid_nll, abs=1e-6)
    # the training losses of the steps after the split (averaged per eval interval) agree too
    assert resumed.history[-1]["loss"] == pytest.approx(whole.history[-1]["loss"], abs=1e-6)
    for folder in ("", "resume"):
        a, b = _weights(tmp_path / "whole" / folder), _weights(tmp_path / "split" / folder)
        for name in a:
            torch.testing.assert_close(a[name], b[name], atol=1e-6, rtol=0)
    state = json.loads((tmp_path / "split" / "resume" / "state.json").read_text())
    assert state["step"] == 12 and state["train_config"]["seed"] == 7


def test_a_run_resumes_only_on_the_task_and_data_it_started_with(tmp_path, short_chorales):
    """Resuming on other --data trained on both and wrote a card naming only the second; another
    --task crashed loading the weights. Both are refused, and no --data means the run's own."""
    from bandmate.errors import UserError

    train_pieces, valid_pieces = short_chorales
    data = dict(train_pieces=train_pieces, valid_pieces=valid_pieces)
    out = tmp_path / "run"
    train("chorale", out, tiny_config(), TINY_MODEL, stop_at_step=4, **data)
    with pytest.raises(UserError, match="a run on jsb; resume it without --data"):
        train("chorale", out, resume=True, data=["essen"], **data)
    with pytest.raises(UserError, match="holds a chorale training run, not melody"):
        train("melody", out, resume=True, **data)
    with pytest.raises(UserError, match="started without --commercial"):
        train("chorale", out, resume=True, commercial_only=True, **data)
    resumed = train("chorale", out, resume=True, stop_at_step=8, **data)
    assert resumed.steps_done == 8
    state = json.loads((out / "resume" / "state.json").read_text())
    assert state["task"] == "chorale"
    assert state["data"] == {"collections": ["jsb"], "commercial_only": False}


def test_scoring_a_model_without_its_card_says_what_is_missing(tmp_path):
    """A melody model whose card.json is gone has no split to score; the sentence said so but
    not what to do."""
    from bandmate.errors import UserError
    from bandmate.models.registry import load
    from bandmate.models.transformer import DecoderTransformer, TransformerConfig
    from bandmate.tokens.melody import MelodyTokenizer

    tokenizer = MelodyTokenizer()
    model = DecoderTransformer(TransformerConfig(vocab_size=tokenizer.vocab_size, **TINY_MODEL))
    checkpoint.save_model(tmp_path, model, tokenizer, "melody")
    with pytest.raises(UserError, match=r"card\.json is missing .* with its card\.json"):
        load(tmp_path).split_nll("valid")


def train_with_a_ctrl_c(out, *, ignored: bool = False) -> list[str]:
    """Train 40 steps in a process of its own (only a main thread receives signals), which
    sends itself a SIGINT after its third step (with SIGINT ignored first, as a shell script
    starts its background jobs, if `ignored`); its printed words: what `on_interrupt` said,
    then whether the result was interrupted, its steps and its best step."""
    import subprocess
    import sys

    script = f"""
import os, signal
from bandmate.corpus.jsb import load_jsb
from bandmate.models.train import TrainConfig, train, write_card
from tests.models.test_checkpoint import TINY_MODEL, tiny_config
if {ignored}:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
data = dict(train_pieces=[c[:48] for c in load_jsb("train")[:24]],
            valid_pieces=[c[:48] for c in load_jsb("valid")[:6]])
def progress(done, total, status=""):
    if done == 3:
        os.kill(os.getpid(), signal.SIGINT)
result = train("chorale", {str(out)!r}, tiny_config(steps=40, eval_interval=20),
               TINY_MODEL, progress=progress, on_interrupt=lambda: print("asked"), **data)
write_card(result, command="bandmate train")
print(result.interrupted, result.steps_done, result.best_step)
"""
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=Path(__file__).parents[2],  # the repository: `tests` is importable
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.split()


def test_a_ctrl_c_stops_the_run_at_its_step_saved_and_resume_carries_on(tmp_path):
    # nothing was saved until the next eval: a Ctrl-C lost the run since the last one, or,
    # before the first, all of it
    assert train_with_a_ctrl_c(tmp_path / "run") == ["asked", "True", "3", "3"]
    assert checkpoint.has_training_state(tmp_path / "run")
    assert checkpoint.read_training_config(tmp_path / "run")["step"] == 3
    assert (tmp_path / "run" / checkpoint.WEIGHTS_FILE).is_file()  # the best model so far
    card = json.loads((tmp_path / "run" / checkpoint.CARD_FILE).read_text())
    assert card["training"]["steps"] == 3 and card["training"]["stopped"] == "by Ctrl-C"
    data = dict(
        train_pieces=[c[:48] for c in load_jsb("train")[:24]],
        valid_pieces=[c[:48] for c in load_jsb("valid")[:6]],
    )
    resumed = train("chorale", tmp_path / "run", resume=True, **data)
    assert resumed.steps_done == 40 and not resumed.interrupted
    write_card(resumed, command="bandmate train --resume")
    card = json.loads((tmp_path / "run" / checkpoint.CARD_FILE).read_text())
    assert card["training"]["steps"] == 40 and "stopped" not in card["training"]


def test_a_run_started_with_ctrl_c_ignored_goes_on_ignoring_it(tmp_path):
    # a script's background job (`bandmate train ... & tail -f log`) ignores Ctrl-C, which is
    # the foreground job's; the handler for it stopped the training all the same
    assert train_with_a_ctrl_c(tmp_path / "run", ignored=True) == ["False", "40", "40"]


def test_a_save_the_disk_refuses_is_one_sentence_and_leaves_the_last_model_whole(
    tmp_path, chorale_task
):
    # a disk that filled while a model was saved ended the run in a SafetensorError traceback;
    # it is one sentence, and the last model stays whole, loadable, with nothing left beside it
    # (a file-size limit makes the second, bigger save fail as a full disk would)
    import subprocess
    import sys

    from bandmate.models.transformer import DecoderTransformer, TransformerConfig

    fields = {**TINY_MODEL, "d_model": 16, "d_ff": 16}
    small = DecoderTransformer(
        TransformerConfig(vocab_size=chorale_task.tokenizer.vocab_size, **fields)
    )
    checkpoint.save_model(tmp_path, small, chorale_task.tokenizer, "chorale")
    weights = tmp_path / checkpoint.WEIGHTS_FILE
    before = weights.read_bytes()
    script = f"""
import resource, signal, sys
from bandmate.models import checkpoint
from bandmate.models.tasks import make_task
from bandmate.models.transformer import DecoderTransformer, TransformerConfig
task = make_task("chorale")
big = DecoderTransformer(TransformerConfig(vocab_size=task.tokenizer.vocab_size, d_model=256,
                                           n_layers=4, n_heads=4, d_ff=512))
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # an over-long write fails with EFBIG instead
limit = {len(before)} * 4
resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
from bandmate.errors import OutputError
try:
    checkpoint.save_model({str(tmp_path)!r}, big, task.tokenizer, "chorale")
except OutputError as e:
    sys.exit(f"refused: {{e}}")
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert weights.read_bytes() == before
    assert "refused" in done.stderr and "File too large" in done.stderr, done.stderr
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []
    loaded = checkpoint.load_model(tmp_path)
    assert loaded.model.config.d_model == 16
