"""Children of `manage.py serve` run a module as `python -m` would, and end when their
parent does, however it ends (even by SIGKILL)."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from django.conf import settings

SUPERVISED = [sys.executable, "-m", "conversations.management.supervision"]


def env_with(path: Path) -> dict:
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(path), str(settings.BASE_DIR)])}


def test_the_module_runs_with_its_arguments_as_main(tmp_path):
    (tmp_path / "echo_args.py").write_text(
        "import sys\nif __name__ == '__main__':\n    print(repr(sys.argv[1:]), sys.argv[0])\n"
    )
    result = subprocess.run(
        [*SUPERVISED, str(os.getpid()), "echo_args", "one", "--two"],
        cwd=settings.BASE_DIR,
        env=env_with(tmp_path),
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"['one', '--two'] {tmp_path / 'echo_args.py'}\n"  # As `-m` sets it.


def test_without_a_module_it_says_how_to_call_it():
    result = subprocess.run(
        [*SUPERVISED, str(os.getpid())], capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 1 and result.stderr.startswith("usage: python -m ")


def ended(pid: int) -> bool:
    """Gone, or a zombie waiting for whoever adopted it to reap it."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return True
    return "State:\tZ" in status


def test_a_child_ends_when_its_parent_is_killed(tmp_path):
    (tmp_path / "sleeper.py").write_text("import time\ntime.sleep(60)\n")
    parent_code = (
        "import os, subprocess, sys, time\n"
        f"child = subprocess.Popen({SUPERVISED!r} + [str(os.getpid()), 'sleeper'])\n"
        "print(child.pid, flush=True)\n"
        "time.sleep(60)\n"
    )
    parent = subprocess.Popen(
        [sys.executable, "-c", parent_code],
        cwd=settings.BASE_DIR,
        env=env_with(tmp_path),
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        child = int(parent.stdout.readline())
        assert not ended(child)
        parent.send_signal(signal.SIGKILL)
        parent.wait(10)
        deadline = time.monotonic() + 10
        while not ended(child) and time.monotonic() < deadline:
            time.sleep(0.05)  # Polling for the child's end, with a deadline.
        assert ended(child), "the child outlived its parent"
    finally:
        parent.kill()
        parent.wait()
        parent.stdout.close()
