"""Batches on Ray: mastering a catalogue, rendering a MIDI folder, generating loop packs.

A batch is a list of `BatchItem`s, each done by one of the per-item functions the CLI's own
commands use (`bandmate.mix.master.master_file`, `bandmate.jobs.render.render_file`,
`bandmate.jobs.loops.make_loops`), one Ray task per item, on a local Ray by default or on a
cluster given its address. The pieces:

- `items`: what the items of a batch are (`plan_master`, `plan_render`, `plan_loops`) and the
  function that does one (`master_item`, `render_item`, `loop_item`);
- `report`: the batch report, `OUT_DIR/batch-report.json`, the record of what is done;
- `runner`: `run_batch`, which skips what the report says is done, runs the rest on Ray and keeps
  the report up to date as items finish.

This package sits beside `jobs` (it calls them) and below `cli`; Ray is imported only when a
batch runs.
"""

from __future__ import annotations

from bandmate.batch.items import BatchItem, plan_loops, plan_master, plan_render
from bandmate.batch.report import REPORT_FILE, BatchReport
from bandmate.batch.runner import BatchSummary, run_batch

__all__ = [
    "REPORT_FILE",
    "BatchItem",
    "BatchReport",
    "BatchSummary",
    "plan_loops",
    "plan_master",
    "plan_render",
    "run_batch",
]
