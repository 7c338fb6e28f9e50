"""Children of `manage.py serve` that stop when their parent stops, however it stops.

A child calls `exit_with_parent(pid)` first thing. On Linux the kernel then sends it
SIGTERM the moment its parent dies, even by SIGKILL; everywhere, a watchdog thread
notices the parent pid change within a second and does the same.

`python -m conversations.management.supervision PARENT_PID MODULE [ARGS...]` runs MODULE as
`python -m MODULE ARGS...` would, under that rule (serve runs daphne so).
"""

import ctypes
import os
import runpy
import signal
import sys
import threading
import time

PR_SET_PDEATHSIG = 1  # From <linux/prctl.h>.
POLL_SECONDS = 0.5
GRACE_SECONDS = 10.0


def exit_with_parent(parent_pid: int) -> None:
    """End this process with SIGTERM when `parent_pid` stops being its parent.

    For the kernel, the parent is the thread that started this process: start children
    from a thread that lives as long as its process does (serve's main thread).
    """
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    # The parent may have died before the line above: then nothing would ever tell us.
    if os.getppid() != parent_pid:
        sys.exit(f"Parent process {parent_pid} is gone: not starting.")
    threading.Thread(target=_watch, args=(parent_pid,), name="watch-parent", daemon=True).start()


def _watch(parent_pid: int) -> None:
    while os.getppid() == parent_pid:
        time.sleep(POLL_SECONDS)
    os.kill(os.getpid(), signal.SIGTERM)
    time.sleep(GRACE_SECONDS)
    os._exit(1)  # SIGTERM was handled and did not end us in time.


def main(argv: list[str]) -> None:
    """Run a module as __main__ after `exit_with_parent`."""
    if len(argv) < 2:
        sys.exit(
            "usage: python -m conversations.management.supervision PARENT_PID MODULE [ARGS...]"
        )
    parent_pid, module, *args = argv
    exit_with_parent(int(parent_pid))
    sys.argv = [module, *args]
    runpy.run_module(module, run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main(sys.argv[1:])
