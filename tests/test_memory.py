"""The allocator setting the commands make (bandmate.memory) takes effect here (glibc Linux)."""

import sys

import pytest

from bandmate.memory import tune_allocator


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="a glibc setting")
def test_the_allocator_keeps_big_arrays_on_the_heap():
    # glibc refuses a threshold it cannot honour; then every stem buffer would cost page faults
    assert tune_allocator() is True
