"""SQLite's writers take turns through a lock file (`app.db.WriterQueue`): one at a time across
threads and processes, a write inside a write keeps its turn, and a forked child waits for its
parent's turn like anyone else."""

from __future__ import annotations

import multiprocessing
import threading
import time
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine

from app.db import WriterQueue, writer_queue

HOLD = 0.3


def test_a_writer_waits_for_another_process_to_finish_its_turn(tmp_path: Path) -> None:
    context = multiprocessing.get_context("spawn")
    held, released = context.Event(), context.Queue()
    child = context.Process(target=_hold_a_turn, args=(str(tmp_path / "app.db"), held, released))
    child.start()
    try:
        assert held.wait(30), "the other process never took its turn"
        with WriterQueue(str(tmp_path / "app.db")).turn():
            mine = time.time()
        their_release = released.get(timeout=30)
    finally:
        child.join(30)
    assert child.exitcode == 0
    assert mine >= their_release


def _hold_a_turn(database: str, held: Any, released: Any) -> None:
    with WriterQueue(database).turn():
        held.set()
        time.sleep(HOLD)
        released.put(time.time())


def test_threads_of_one_process_take_turns(tmp_path: Path) -> None:
    queue = WriterQueue(str(tmp_path / "app.db"))
    inside = 0
    most_inside = 0
    counting = threading.Lock()

    def write() -> None:
        nonlocal inside, most_inside
        for _ in range(20):
            with queue.turn():
                with counting:
                    inside += 1
                    most_inside = max(most_inside, inside)
                time.sleep(0.001)
                with counting:
                    inside -= 1

    threads = [threading.Thread(target=write) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert most_inside == 1


def test_a_write_inside_a_write_keeps_its_turn(tmp_path: Path) -> None:
    queue = WriterQueue(str(tmp_path / "app.db"))
    done = threading.Event()

    def nested() -> None:
        with queue.turn(), queue.turn():
            pass
        done.set()

    thread = threading.Thread(target=nested, daemon=True)
    thread.start()
    assert done.wait(5), "the inner turn waited for the outer one"
    # And the turn is free again afterwards.
    with queue.turn():
        pass


def test_a_forked_child_waits_for_its_parents_turn(tmp_path: Path) -> None:
    queue = WriterQueue(str(tmp_path / "app.db"))
    context = multiprocessing.get_context("fork")
    took = context.Queue()
    with queue.turn():
        child = context.Process(target=_take_a_turn, args=(queue, took))
        child.start()
        time.sleep(HOLD)
        released = time.time()
    child.join(30)
    assert child.exitcode == 0
    assert took.get(timeout=5) >= released


def _take_a_turn(queue: WriterQueue, took: Any) -> None:
    with queue.turn():
        took.put(time.time())


def test_only_a_sqlite_file_has_a_queue(tmp_path: Path) -> None:
    on_file = create_engine(f"sqlite:///{tmp_path / 'app.db'}")
    in_memory = create_engine("sqlite://")
    postgres = create_engine("postgresql+psycopg://postgres@127.0.0.1:5432/test")
    try:
        queue = writer_queue(on_file)
        assert queue is not None and queue.path == str(tmp_path / "app.db") + ".writers"
        assert writer_queue(on_file) is queue
        assert writer_queue(in_memory) is None
        assert writer_queue(postgres) is None
    finally:
        for engine in (on_file, in_memory, postgres):
            engine.dispose()
