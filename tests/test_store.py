"""Atomic writes and file locks (gen_core/store.py)."""
from __future__ import annotations

import json
import os
import threading
import time

from gen_core import store


def test_write_json_atomic_round_trip(tmp_path):
    payload = {"a": [1, 2.5, None], "b": {"c": "d"}, "nan": float("nan")}
    path = tmp_path / "deeper" / "x.json"
    store.write_json_atomic(path, payload)
    back = json.loads(path.read_text())
    assert back["a"] == [1, 2.5, None] and back["b"] == {"c": "d"}
    assert back["nan"] != back["nan"]                  # NaN survives (Python's json reads it back)
    store.write_json_atomic(path, {"v": 2})                  # overwrite in place
    assert json.loads(path.read_text()) == {"v": 2}
    assert [p.name for p in path.parent.iterdir()] == ["x.json"]   # no temporary left behind


def test_a_failed_write_leaves_the_old_file(tmp_path):
    path = tmp_path / "x.json"
    store.write_json_atomic(path, {"v": 1})
    try:
        store.write_json_atomic(path, {"v": object()})             # not JSON: fails mid-write
    except TypeError:
        pass
    assert json.loads(path.read_text()) == {"v": 1}
    assert sorted(os.listdir(tmp_path)) == ["x.json"]


def test_file_lock_makes_a_second_holder_wait(tmp_path):
    lock = tmp_path / "x.lock"
    held, events = threading.Event(), []

    def first():
        with store.file_lock(lock):
            held.set()
            time.sleep(0.3)
            events.append("first releases")

    thread = threading.Thread(target=first)
    thread.start()
    held.wait()
    with store.file_lock(lock):             # flock is per open file: this blocks like another process
        events.append("second holds")
    thread.join()
    assert events == ["first releases", "second holds"]

def test_lock_path_is_outside_the_runs_folder_and_per_runs_folder(tmp_path):
    a, b = store.lock_path(tmp_path / "runs", "x"), store.lock_path(tmp_path / "other", "x")
    assert a != b and a.name == "x.lock" and tmp_path not in a.parents


def test_locks_go_to_the_shared_folder_once_the_launcher_made_it(tmp_path):
    runs = tmp_path / "runs"
    assert store.lock_path(runs, "x").parent != runs / store.SHARED_LOCKS
    (runs / store.SHARED_LOCKS).mkdir(parents=True)
    assert store.lock_path(runs, "x") == runs / ".locks" / "x.lock"
