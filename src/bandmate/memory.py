"""Process-wide memory settings for bandmate's commands (layer 0).

`tune_allocator()` keeps big arrays on glibc's heap. By default glibc hands every allocation over
a threshold (128 kB, growing to at most 32 MB) its own fresh pages from the kernel and gives them
back when the array is freed, so each new buffer of audio (a 3-minute stereo stem is 63 MB as
float32) is paid for again in page faults as it is first written: 0.05 to 0.1 s per buffer. Audio
work allocates dozens of such buffers, one per filter, meter block or gain. With the threshold
at 1 GB and no trimming, freed buffers are reused: on a 3-minute backing track (`bench/backing.py`)
the job's CPU time falls from about 16 to 13 s and its time from about 10 to 8 s, for about 12%
more peak memory (2.1 to 2.35 GB), since the heap keeps what it has had.

One arena. glibc gives each thread that allocates its own heap (arena), up to eight per core,
and a buffer freed in one arena is reused only by allocations there. Audio read on the main
thread and let go once a worker has prepared it (automix) then stayed in the main arena while
the workers' arenas grew: 12 four-minute stereo stems mixed peaked at 2.7 GB with every stem
released as soon as it was prepared, 1.9 GB in one arena. One arena serialises malloc itself,
which the audio work calls a few times per buffer; a 3-minute backing track takes the same time
either way (13 s, 0.8-0.9 GB).

Options considered: the MALLOC_MMAP_THRESHOLD_ environment variable does the same but must be set
before Python starts (a wrapper script, or a re-exec); jemalloc or mimalloc by LD_PRELOAD need a
system package and the same wrapper; reusing buffers by hand (`out=` everywhere) would reach only
bandmate's own code, not SciPy's or pedalboard's. `mallopt` from the process itself is one call.

It is called by the command line (`bandmate.cli.main`), the web studio and the benchmarks that
time what the commands do; a program that imports bandmate as a library keeps its own settings.
Elsewhere than glibc (macOS, musl) it does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import sys

_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
_M_ARENA_MAX = -8
MMAP_THRESHOLD = 1 << 30  # allocations above this still get their own pages
TRIM_THRESHOLD = (1 << 31) - 1  # mallopt takes an int: the heap is trimmed only above 2 GB free


@functools.cache
def tune_allocator() -> bool:
    """Keep big arrays on glibc's heap, in one arena (see the module's docs); True when the
    settings took."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # not glibc
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    took = mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD) == 1
    took = mallopt(_M_ARENA_MAX, 1) == 1 and took
    return mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD) == 1 and took
