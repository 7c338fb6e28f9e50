"""The offline model's server: llama.cpp's own OpenAI-compatible server, through xllamacpp.

`manage.py serve` runs it as a child process (see `local_model.server_command`); it
serves on loopback until SIGINT or SIGTERM, or until its parent goes away.
Nothing here imports Django.
"""

import argparse
import os
import signal
import sys
import threading

from conversations.management.supervision import exit_with_parent

HOST = "127.0.0.1"  # Loopback only: the app is its one client.


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m conversations.provider.local_server")
    parser.add_argument("--model", required=True, help="path of the GGUF weights")
    parser.add_argument("--alias", required=True, help="the model id clients ask for")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--ctx", type=int, default=8192, help="context window of each slot")
    parser.add_argument("--parallel", type=int, default=2, help="replies served at once")
    # One core is left to daphne and the browser: llama.cpp's threads spin while they
    # wait for each other, so when any one of them loses its core every token waits.
    # On 2 busy cores, 1 thread streamed 45-73 tokens/s and 2 threads 10-70.
    parser.add_argument("--threads", type=int, default=max(1, (os.cpu_count() or 2) - 1))
    parser.add_argument("--parent-pid", type=int, help="exit when this process is gone")
    return parser.parse_args(argv)


def main(argv: list[str]) -> None:
    args = parse_args(argv)
    if args.parent_pid:
        exit_with_parent(args.parent_pid)
    import xllamacpp  # After the parent check: loading the extension takes a moment.

    params = xllamacpp.CommonParams()
    params.model.path = args.model
    params.model_alias = {args.alias}
    params.n_parallel = args.parallel
    # llama.cpp splits n_ctx between the slots: give each one the whole window.
    params.n_ctx = args.ctx * args.parallel
    params.cpuparams.n_threads = args.threads
    params.cpuparams_batch.n_threads = args.threads
    params.hostnames = [HOST]
    params.port = args.port
    params.use_jinja = True  # The model's own chat template, as published with it.
    params.ui = False  # The app is the interface: no chat page of the server's own.
    params.offline = True  # Never reach for a model hub.
    params.cors_origins = ""  # Only the app calls it, never a browser.
    try:
        server = xllamacpp.Server(params)  # Returns once the model is loaded and listening.
    except RuntimeError as exc:
        # llama.cpp logs the cause above (most often the port is taken); say what we tried.
        sys.exit(f"Could not serve {args.model} on {HOST}:{args.port}: {exc}")
    print(f"Serving {args.alias} on {server.listening_address}", flush=True)
    # Both signals end it at once: the server has nothing to save, and tearing down
    # llama.cpp's threads one by one only adds time.
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    threading.Event().wait()


if __name__ == "__main__":
    main(sys.argv[1:])
