"""The server as deployed, with the test-only source of external tools offered in it
(tests/tools/external_for_tests.py): what an MCP package would register at start-up.

    python -m tests.deployment.external_tools_server -b 127.0.0.1 -p 8000 chatsite.asgi:application
"""

import runpy

from conversations.tools import external
from tests.tools.external_for_tests import TestSource

if __name__ == "__main__":
    external.add_source(TestSource())
    runpy.run_module("conversations.web.server", run_name="__main__", alter_sys=True)
