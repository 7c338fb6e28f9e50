"""The app's server: daphne, with request bodies capped before they are read.

A drop-in for daphne, with the same arguments:

    python -m conversations.web.server -b 127.0.0.1 -p 8000 chatsite.asgi:application

See body_limits.py for what is refused and why it has to happen here. daphne, which
installs Twisted's reactor when imported, is imported only when the server runs.
"""

import sys


def main(argv: list[str] | None = None) -> None:
    """Run daphne's command line with the capped HTTP factory in place."""
    from daphne import server
    from daphne.cli import CommandLineInterface

    from .body_limits import CappedHTTPFactory

    # daphne's Server builds its HTTP factory by this name, once, when it runs.
    server.HTTPFactory = CappedHTTPFactory
    CommandLineInterface().run(sys.argv[1:] if argv is None else argv)


if __name__ == "__main__":
    main()
