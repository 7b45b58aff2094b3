"""`bandmate styles`: the styles bandmate ships, a line each."""

from __future__ import annotations


def add_parser(sub) -> None:
    p = sub.add_parser("styles", help="list the backing-track styles")
    p.set_defaults(run=run)


def run(args) -> int:
    from bandmate.arrange.style import load_style, style_names

    names = style_names()
    width = max(map(len, names))
    for name in names:
        s = load_style(name)
        meter = f"{s.meter[0]}/{s.meter[1]}"
        tempo = f"{s.tempo_min:g}-{s.tempo_max:g} BPM"
        print(f"{name:{width}s}  {meter:4s} {tempo:12s} {s.description}")
    return 0
