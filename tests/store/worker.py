"""Subprocess body for the concurrency tests: `python worker.py PROCS MODE URL ARGS...`.

The process imports the store once, then forks PROCS children *before* any database connection exists; each
child opens its own store (own connections) and works concurrently with the others. Forking after the import
keeps the test about database concurrency rather than about 16 interpreters importing SQLAlchemy on 2 cores.
Prints one JSON list, one {"ok", "out"|"error"} object per child; exits 1 if any child failed.

executions URL N STEPS: each child records N scenario executions with STEPS steps, one transaction per call.
ports URL COUNT LOW HIGH: each child allocates COUNT ports as distinct owners.
"""

from __future__ import annotations

import json
import os
import sys
import traceback
from typing import Any

import continuous.store.repository  # noqa: F401  (imported before forking, on purpose)


def job(mode: str, url: str, args: list[str], tag: str) -> Any:
    from continuous.store import open_store

    store = open_store(url, auto_upgrade=True)
    try:
        if mode == "executions":
            n, steps = int(args[0]), int(args[1])
            for i in range(n):
                eid = store.start_execution(
                    "bench-scenario", {"i": i, "tag": tag}, worktree=f"/wt/{tag}", branch=tag, executed_by=tag
                )
                for k in range(1, steps + 1):
                    sid = store.start_step(eid, k, f"step-{k}")
                    store.finish_step(sid, "success", f"output {k}", checkpoint_commit=f"{i:08x}{k:04x}")
                store.finish_execution(eid, "success", artifacts={"files_changed": steps})
            return n
        if mode == "ports":
            count, low, high = int(args[0]), int(args[1]), int(args[2])
            return [store.allocate_port(f"{tag}-{i}", f"/wt/{tag}", low=low, high=high) for i in range(count)]
        raise ValueError(f"unknown mode {mode}")
    finally:
        store.close()


def main(argv: list[str]) -> int:
    procs, mode, url, rest = int(argv[0]), argv[1], argv[2], argv[3:]
    children: list[tuple[int, int]] = []
    for i in range(procs):
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(r)
            code = 0
            try:
                payload = {"ok": True, "out": job(mode, url, rest, f"p{i}")}
            except BaseException as exc:
                payload = {"ok": False, "error": f"{type(exc).__name__}: {exc}\n{traceback.format_exc()}"}
                code = 1
            with os.fdopen(w, "w") as fh:
                fh.write(json.dumps(payload))
            os._exit(code)
        os.close(w)
        children.append((pid, r))
    results = []
    for pid, r in children:
        with os.fdopen(r) as fh:
            data = fh.read()
        os.waitpid(pid, 0)
        results.append(json.loads(data) if data else {"ok": False, "error": "child died without output"})
    print(json.dumps(results))
    return 0 if all(x["ok"] for x in results) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
