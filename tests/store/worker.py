"""Subprocess body for the concurrency tests and the benchmark: `python worker.py MODE URL ARGS...`.

executions URL N STEPS TAG: record N scenario executions with STEPS steps each, the way the engine does (one
    transaction per call), then print "ok <count>".
ports URL COUNT TAG LOW HIGH: allocate COUNT ports as distinct owners, print them as JSON.
"""

from __future__ import annotations

import json
import sys


def main(argv: list[str]) -> None:
    from continuous.store import open_store

    mode, url = argv[0], argv[1]
    store = open_store(url, auto_upgrade=True)
    try:
        if mode == "executions":
            n, steps, tag = int(argv[2]), int(argv[3]), argv[4]
            for i in range(n):
                eid = store.start_execution("bench-scenario", {"i": i, "tag": tag}, worktree=f"/wt/{tag}",
                                            branch=tag, executed_by=tag)
                for k in range(1, steps + 1):
                    sid = store.start_step(eid, k, f"step-{k}")
                    store.finish_step(sid, "success", f"output {k}", checkpoint_commit=f"{i:08x}{k:04x}")
                store.finish_execution(eid, "success", artifacts={"files_changed": steps})
            print(f"ok {n}")
        elif mode == "ports":
            count, tag, low, high = int(argv[2]), argv[3], int(argv[4]), int(argv[5])
            got = [store.allocate_port(f"{tag}-{i}", f"/wt/{tag}", low=low, high=high) for i in range(count)]
            print(json.dumps(got))
        else:
            raise SystemExit(f"unknown mode {mode}")
    finally:
        store.close()


if __name__ == "__main__":
    main(sys.argv[1:])
