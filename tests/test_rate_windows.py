"""The single-node rate limiter's moving windows (chat/kit/windows.py), on a clock the test moves."""

from __future__ import annotations

from chat.kit import windows
from chat.kit.windows import MovingWindows


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_window_lets_limit_hits_through_then_says_how_long_to_wait():
    clock = Clock()
    counts = MovingWindows(clock)
    assert [counts.hit("k", 3, 10) for _ in range(3)] == [None, None, None]
    assert counts.hit("k", 3, 10) == 10  # the first hit leaves the window in 10 s
    assert counts.hit("other", 3, 10) is None  # keys count apart
    clock.now += 4
    counts.hit("k", 3, 10)  # refused hits are not counted: still 6 s to wait
    assert counts.test("k", 3, 10) == 6
    clock.now += 6  # all three left the window: three fit again
    assert [counts.hit("k", 3, 10) for _ in range(3)] == [None, None, None]
    clock.now += 2.5
    assert counts.hit("k", 3, 10) == 7.5


def test_idle_keys_are_swept(monkeypatch):
    monkeypatch.setattr(windows, "SWEEP_EVERY", 10)
    clock = Clock()
    counts = MovingWindows(clock)
    for i in range(5):
        counts.hit(f"user-{i}", 5, 60)
    clock.now += 61
    for _ in range(10):
        counts.hit("busy", 100, 60)
    assert len(counts) == 1  # only the key still inside its window is left
