"""`bandmate chart`: check a chord chart and print it as bandmate reads it."""

from __future__ import annotations


def add_parser(sub) -> None:
    p = sub.add_parser(
        "chart",
        help="check a chord chart and print it bar by bar",
        description="Parse a chord chart (the text itself or a file) and print it with repeats "
        "expanded, one bar per line. Errors name the bar and the token.",
    )
    p.add_argument("chart", help="chart text such as '| C | Am | F G7 |', or a file holding it")
    p.set_defaults(run=run)


def run(args) -> int:
    from bandmate.io.charts import load_chart
    from bandmate.theory.chords import format_chord
    from bandmate.theory.harmony import chart_key

    chart = load_chart(args.chart)
    heard = None if chart.key or any(bar.key for bar in chart.bars) else chart_key(chart)
    # a chart that names no key is played in the one its chords name: say which
    key = f", key {chart.key}" if chart.key else f", key {heard} (from its chords)" if heard else ""
    bars = f"{len(chart)} bar" + ("" if len(chart) == 1 else "s")
    print(f"{bars} in {chart.meter[0]}/{chart.meter[1]}{key}")
    section, key = None, chart.key
    for i, bar in enumerate(chart.bars, start=1):
        if bar.section != section and bar.section:
            print(f"[{bar.section}]")
        if bar.key != key or (bar.key is not None and str(bar.key) != str(key)):
            print(f"(key: {bar.key})")  # a key change, as the chart writes one
        section, key = bar.section, bar.key
        chords = "  ".join(f"{format_chord(c.symbol)}@{c.beat + 1}" for c in bar.chords)
        print(f"{i:4d}  {bar.meter[0]}/{bar.meter[1]}  {chords}")
    return 0
