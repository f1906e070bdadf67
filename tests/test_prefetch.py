import threading

import pytest

from unswap.prefetch import prefetch


def test_yields_everything_in_order():
    assert list(prefetch(iter(range(100)), depth=3)) == list(range(100))


def test_error_in_producer_reaches_the_consumer_after_the_good_items():
    def items():
        yield 1
        yield 2
        raise ValueError("broken file")

    got = []
    with pytest.raises(ValueError, match="broken file"):
        for x in prefetch(items()):
            got.append(x)
    assert got == [1, 2]


def test_consumer_stopping_early_stops_the_producer():
    produced = []
    done = threading.Event()

    def items():
        try:
            for i in range(10_000):
                produced.append(i)
                yield i
        finally:
            done.set()

    for x in prefetch(items(), depth=2):
        if x == 3:
            break
    assert done.wait(2.0)
    assert len(produced) < 20


def test_producer_starts_before_the_first_next():
    started = threading.Event()

    def items():
        started.set()
        yield 1

    with prefetch(items()) as it:
        assert started.wait(2.0)
        assert list(it) == [1]


def test_closing_unblocks_a_producer_stuck_on_a_full_queue():
    done = threading.Event()

    def items():
        try:
            yield from range(100)
        finally:
            done.set()

    it = prefetch(items(), depth=1)
    assert next(it) == 0
    it.close()
    assert done.wait(2.0)
    assert list(it) == []
