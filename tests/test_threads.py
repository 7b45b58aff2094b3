"""threads.thread_map: results in order, progress on the calling thread, a stop that stops."""

import threading
import time

import pytest

from bandmate.threads import thread_map


def test_results_in_order_and_progress_on_the_calling_thread():
    caller = threading.get_ident()
    seen = []

    def progress(done, total):
        seen.append((done, total, threading.get_ident() == caller))

    out = thread_map(lambda n: (time.sleep(0.01 * (5 - n)), n * n)[1], range(5), progress=progress)
    assert out == [0, 1, 4, 9, 16]
    assert seen == [(d, 5, True) for d in range(1, 6)]


def test_a_progress_callback_that_raises_stops_the_items_not_yet_started():
    # a cancelled studio job raises from its progress callback: a mix of 40 stems must not go
    # on preparing the other 38 first
    started = []

    def work(n):
        started.append(n)
        time.sleep(0.05)
        return n

    class Stop(BaseException):
        pass

    def stop(done, total):
        raise Stop

    with pytest.raises(Stop):
        thread_map(work, range(20), progress=stop)
    time.sleep(0.2)  # anything still queued would have started by now
    assert len(started) < 6


def test_an_error_in_an_item_is_raised():
    def work(n):
        if n == 3:
            raise ValueError("three")
        return n

    with pytest.raises(ValueError, match="three"):
        thread_map(work, range(6))
