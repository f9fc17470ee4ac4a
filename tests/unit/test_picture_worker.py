"""The picture worker: the bot's pictures, drawn in a child process that ends when idle."""

from __future__ import annotations

import multiprocessing
import os
import signal
import time
from datetime import date

from bot.charts import Charts
from bot.charts.timeline import draw_timeline
from bot.charts.worker import PictureWorker
from tests import chart_samples as samples


def wait_until(condition, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)


def test_the_worker_draws_what_this_process_would_draw() -> None:
    worker = PictureWorker(idle_seconds=60)
    try:
        data = samples.timeline()
        assert Charts(worker=worker).png(draw_timeline, data) == Charts().png(draw_timeline, data)
        assert worker.running
    finally:
        worker.close()
    assert not worker.running


def test_the_worker_ends_when_no_picture_is_asked_for() -> None:
    worker = PictureWorker(idle_seconds=0.3)
    try:
        Charts(worker=worker).png(draw_timeline, samples.timeline())
        wait_until(lambda: not worker.running)
        # And starts again for the next picture (and stays, so that the check cannot come
        # after its idle end on a busy machine).
        worker._idle_seconds = 60
        Charts(worker=worker).png(draw_timeline, samples.timeline(today=date(2027, 4, 1)))
        assert worker.running
    finally:
        worker.close()


def test_a_killed_worker_is_replaced() -> None:
    worker = PictureWorker(idle_seconds=60)
    charts = Charts(worker=worker)
    try:
        charts.png(draw_timeline, samples.timeline())
        children = multiprocessing.active_children()
        assert children, "the picture was drawn in a child process"
        for child in children:
            assert child.pid is not None
            os.kill(child.pid, signal.SIGKILL)
        wait_until(lambda: not any(child.is_alive() for child in children))
        other = samples.timeline(samples.theme_view("Mobilität", states={"1": "done"}))
        assert charts.png(draw_timeline, other).png.startswith(b"\x89PNG")
    finally:
        worker.close()
