"""JSB Chorales NLL: an n-gram baseline, bandmate's Transformer and the published figures.

The protocol is `bandmate.models.nll`: nats per token over every S, A, T, B token of a split,
each conditioned on all tokens before it in its chorale (`<bos>` given, `<eos>` not scored). The
n-gram is trained here on `train` (with transposition augmentation) and its order and
augmentation are chosen on `valid`; `test` is then reported once, for the chosen model. The
Transformer is the shipped chorale model, or the checkpoint folder given with --checkpoint.

    .venv/bin/python bench/jsb.py [--checkpoint DIR] [--max-order 24]
"""

from __future__ import annotations

import argparse
import time

from bandmate.corpus.jsb import load_jsb
from bandmate.errors import UserError
from bandmate.models.ngram import select_ngram
from bandmate.models.nll import score_split

# published valid NLLs under the same note-wise protocol (Music Transformer paper, table 1;
# TonicNet, Peracha 2019, which adds chord tokens to the stream, so its figure is not comparable)
PUBLISHED = (
    ("Coconet (Huang et al. 2017)", 0.436, "published"),
    ("Music Transformer (Huang et al. 2018)", 0.335, "published"),
    ("TonicNet (Peracha 2019)", 0.220, "published; extra chord tokens, not comparable"),
)
TRANSPOSITION_SETS = ((0,), range(-6, 6))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", metavar="DIR", help="a folder `bandmate train` wrote")
    parser.add_argument("--max-order", type=int, default=24, help="longest n-gram tried")
    args = parser.parse_args()

    train, valid, test = (load_jsb(s) for s in ("train", "valid", "test"))
    print(
        f"JSB Chorales: {len(train)}/{len(valid)}/{len(test)} chorales, "
        f"{4 * sum(map(len, valid)):,} valid and {4 * sum(map(len, test)):,} test tokens"
    )

    start = time.perf_counter()
    chosen, tried = select_ngram(
        train, valid, orders=range(1, args.max_order + 1), transposition_sets=TRANSPOSITION_SETS
    )
    ngram_test = score_split(chosen, test)
    ngram_seconds = time.perf_counter() - start
    print_selection(tried)

    rows = [
        (f"n-gram, {describe(chosen)}", valid_of(tried, chosen), ngram_test, "chosen on valid"),
    ]
    for model, nll in tried:
        if model.order == 5 and len(model.transpositions) == 12 and model is not chosen:
            rows.append((f"n-gram, {describe(model)}", nll, None, "one step of context"))
    rows.append(transformer_row(args.checkpoint, valid, test))
    rows += [(name, f"{nll:.3f}", None, note) for name, nll, note in PUBLISHED]

    print("\nNLL, nats per token (lower is better)")
    print(f"{'model':<44}{'valid':>8}{'test':>8}  note")
    for name, valid_nll, test_nll, note in rows:
        print(f"{name:<44}{fmt(valid_nll):>8}{fmt(test_nll):>8}  {note}")
    print(f"\nn-gram: trained, chosen and scored in {ngram_seconds:.0f} s ({chosen!r})")


def describe(model) -> str:
    keys = "as written" if model.transpositions == (0,) else f"{len(model.transpositions)} keys"
    return f"KN order {model.order}, {keys}"


def valid_of(tried, model) -> float:
    return next(nll for m, nll in tried if m is model)


def print_selection(tried) -> None:
    """Valid NLL of every n-gram tried: one row per order, one column per transposition set."""
    columns = sorted({m.transpositions for m, _ in tried}, key=len)
    table = {(m.order, m.transpositions): nll for m, nll in tried}
    names = ["as written" if c == (0,) else f"{len(c)} keys" for c in columns]
    print("\nn-gram valid NLL by order (train on train, choose on valid)")
    print(f"{'order':>6}" + "".join(f"{n:>12}" for n in names))
    for order in sorted({m.order for m, _ in tried}):
        print(f"{order:>6}" + "".join(f"{fmt(table.get((order, c))):>12}" for c in columns))


def transformer_row(checkpoint: str | None, valid, test):
    name = "bandmate Transformer"
    try:
        from bandmate.models import load

        model = load(checkpoint or "chorale")
    except (ImportError, AttributeError, FileNotFoundError, UserError) as e:
        if checkpoint is None:
            return (name, None, None, "not trained yet (no shipped model; give --checkpoint DIR)")
        return (name, None, None, f"not trained yet: {e}")
    if hasattr(model, "nll"):
        valid_nll, test_nll = model.nll(valid), model.nll(test)
    else:
        valid_nll, test_nll = score_split(model, valid), score_split(model, test)
    return (name, valid_nll, test_nll, f"{getattr(model, 'path', checkpoint or 'shipped')}")


def fmt(value: float | str | None) -> str:
    """4 decimals for figures measured here; published ones are given as printed (strings)."""
    if value is None:
        return "—"
    return value if isinstance(value, str) else f"{value:.4f}"


if __name__ == "__main__":
    main()
