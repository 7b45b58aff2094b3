"""Jobs: whole tasks that read inputs and write a folder of outputs (layer 4).

The CLI and the web server both call these functions; each takes its settings as arguments,
checks every output before any work, writes atomically, and records what it did in a manifest.
"""
