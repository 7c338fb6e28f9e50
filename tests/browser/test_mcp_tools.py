"""An MCP server's tool in a persona, end to end: a real MCP server on loopback (the SDK's
server side, tests/mcp_servers/server.py), the app as deployed (daphne) listing its tools,
a persona made in the page that offers one, the fake provider's model calling it, and the
result going back to the model; the step shown inline as a built-in tool's is."""

import json
import re

import pytest

from tests.a11y import shoot
from tests.browser_support import connected, django, sign_up, start_site
from tests.fake_upstream import text_stream, tool_calls_stream
from tests.mcp_servers.server import McpTestServer

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def mcp():
    try:
        server = McpTestServer().start()
    except Exception as error:  # Never skipped: the run fails.
        pytest.fail(f"The test MCP server could not start: {error}")
    yield server
    server.stop()


@pytest.fixture(scope="module")
def site(upstream, tmp_path_factory, mcp):
    # The entry is made by another process (manage.py shell), which cannot tell this
    # server's in-memory channel layer: the site lists its servers again every second.
    server = start_site(upstream, tmp_path_factory, "mcp-site", CHAT_MCP_REFRESH_SECONDS="1")
    django(
        server,
        "from conversations.mcp_servers.models import McpServer\n"
        f"McpServer.objects.create(name='Notes', prefix='notes', url={mcp.url!r}, internal=True)\n"
        # Nothing listens on the discard port: a server the page shows as unreachable.
        "McpServer.objects.create(name='Archive', prefix='archive', timeout=1, internal=True,"
        " url='http://127.0.0.1:9/mcp')\n"
        "print('null')",
    )
    yield server
    server.stop()


def test_a_persona_offers_an_mcp_tool_the_model_calls_and_reads(site, upstream, mcp, browser):
    from playwright.sync_api import expect

    page = browser.new_page(viewport={"width": 1280, "height": 900})
    sign_up(page, site.url, "mina")
    page.goto(f"{site.url}/personas/new/")
    page.fill("#id_name", "Note keeper")
    page.fill("#id_system_prompt", "Repeat what you are told with the echo tool.")
    echo = page.locator("input[name=tools][value=notes__echo]")
    # The site lists the server's tools a moment after the entry is made.
    for _ in range(30):
        if echo.count():
            break
        page.wait_for_timeout(500)
        page.reload()
        page.fill("#id_name", "Note keeper")
        page.fill("#id_system_prompt", "Repeat what you are told with the echo tool.")
    echo.check()
    page.click("button[type=submit]")
    expect(page.locator(".persona-list")).to_contain_text("Note keeper")

    page.goto(f"{site.url}/")
    connected(page)
    page.click("#settings-menu summary")
    page.select_option("#persona", label="Note keeper")
    page.click("#tools-menu summary")
    expect(page.locator("input[value=notes__echo]")).to_be_checked()  # The persona's.
    down = page.locator(".tools-panel .tool-down")
    expect(down).to_have_text("Not reachable just now: its tools are not offered.")
    expect(page.locator(".tools-panel .tool-server").last).to_have_text("Server: Archive")
    page.click("#tools-menu summary")
    upstream.script(
        tool_calls_stream(("notes__echo", json.dumps({"text": "<b>hello</b> from MCP"}))),
        text_stream("It said ", "hello."),
    )
    page.fill("#input", "Echo hello")
    page.keyboard.press("Enter")

    answer = page.locator("article.message.assistant").last
    expect(answer.locator(".body")).to_have_text("It said hello.", timeout=20_000)
    step = page.locator("article.message.tool .tool-card").last
    expect(step.locator("summary").first).to_contain_text(
        re.compile(r"Tool · notes__echo \(Notes\) · ok · \d+")
    )
    step.locator("summary").first.click()
    expect(step.locator("pre").nth(1)).to_have_text("echo: <b>hello</b> from MCP")  # Inert text.
    assert step.locator("b").count() == 0

    # The call reached the MCP server (the echo is its answer), and went back to the model.
    second = upstream.completions()[-1].body
    assert second["messages"][-1] == {
        "role": "tool",
        "tool_call_id": second["messages"][-2]["tool_calls"][0]["id"],
        "content": "echo: <b>hello</b> from MCP",
    }
    first = upstream.completions()[-2].body
    assert [tool["function"]["name"] for tool in first["tools"]] == ["notes__echo"]
    assert first["messages"][0]["content"] == "Repeat what you are told with the echo tool."

    sent = answer.locator("details.sent")
    sent.locator("summary").click()
    expect(sent).to_contain_text("Note keeper (version 1)")
    expect(sent).to_contain_text(re.compile(r"notes__echo \(server Notes\): ok, \d+ ms"))
    shoot(page, "chat-mcp-tool")
    page.close()
