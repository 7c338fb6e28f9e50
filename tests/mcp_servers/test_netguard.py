"""The outbound address guard: a server entry that is not `internal` reaches public
addresses only, whatever form the address takes, after the guard resolved the name itself;
and response bodies stop at the size bound as they are read."""

import ipaddress
import socket

import anyio
import httpx2
import pytest

from conversations.mcp_servers import netguard

LOOPBACK_FORMS = [
    "localhost",
    "127.0.0.1",
    "127.1",
    "0.0.0.0",
    "[::1]",
    "[::ffff:127.0.0.1]",
    "2130706433",  # 127.0.0.1 as one decimal number.
    "0x7f000001",  # ... as hex.
]


@pytest.mark.parametrize(
    "address, reason",
    [
        ("127.0.0.1", "loopback"),
        ("::1", "loopback"),
        ("0.0.0.0", "unspecified"),
        ("::", "unspecified"),
        ("10.1.2.3", "private"),
        ("172.16.0.1", "private"),
        ("192.168.1.1", "private"),
        ("169.254.169.254", "link-local"),
        ("fe80::1", "link-local"),
        ("fc00::1", "private"),
        ("100.64.0.1", "not public"),  # Shared address space (carrier-grade NAT).
        ("224.0.0.1", "multicast"),
        ("ff02::1", "multicast"),
        ("240.0.0.1", "reserved"),
        ("::ffff:127.0.0.1", "loopback"),
        ("::ffff:10.0.0.1", "private"),
        ("2002:7f00:1::", "loopback"),  # 6to4 around 127.0.0.1.
        ("64:ff9b::a9fe:a9fe", "link-local"),  # NAT64 around 169.254.169.254.
    ],
)
def test_private_addresses_are_refused(address, reason):
    assert netguard.refusal(ipaddress.ip_address(address)) == reason


@pytest.mark.parametrize(
    "address", ["93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c", "1.1.1.1"]
)
def test_public_addresses_pass(address):
    assert netguard.refusal(ipaddress.ip_address(address)) is None


async def get(url: str, *, internal: bool = False, max_bytes: int = 10_000):
    guard = netguard.Guard(allow_private=internal, max_response_bytes=max_bytes)
    async with netguard.http_client(guard, headers={}, timeout=5, read_timeout=5) as http:
        try:
            return await http.get(url), guard
        except httpx2.HTTPError as error:
            return error, guard


@pytest.mark.parametrize("host", LOOPBACK_FORMS)
async def test_every_form_of_loopback_is_refused_at_connect_time(mcp_server, host):
    answer, guard = await get(f"http://{host}:{mcp_server.port}/mcp")
    assert isinstance(answer, httpx2.ConnectError)
    assert guard.refused is not None
    seen = len(mcp_server.headers_seen)
    assert seen == 0  # Nothing reached the server.


async def test_an_internal_entry_may_reach_loopback(mcp_server):
    answer, guard = await get(f"http://127.1:{mcp_server.port}/nothing", internal=True)
    assert isinstance(answer, httpx2.Response) and answer.status_code == 404
    assert guard.refused is None


@pytest.mark.parametrize("host", ["10.0.0.1", "169.254.169.254"])
async def test_private_and_metadata_addresses_are_refused_before_connecting(host):
    answer, guard = await get(f"http://{host}/mcp")
    assert isinstance(answer, httpx2.ConnectError) and guard.refused.startswith(host)


async def test_a_name_resolving_to_loopback_is_refused(mcp_server, monkeypatch):
    """A public-looking name whose DNS answer is 127.0.0.1 (rebinding): judged by the
    address, and the connection goes to the address checked."""
    real = anyio.getaddrinfo

    async def fake_dns(host, port, **kwargs):
        if host == "tools.example.com":
            return await real("127.0.0.1", port, **kwargs)
        return await real(host, port, **kwargs)

    monkeypatch.setattr(anyio, "getaddrinfo", fake_dns)
    answer, guard = await get(f"http://tools.example.com:{mcp_server.port}/mcp")
    assert isinstance(answer, httpx2.ConnectError)
    assert guard.refused == "tools.example.com (127.0.0.1, loopback)"


async def test_a_name_with_one_private_address_among_public_ones_is_refused(monkeypatch):
    async def fake_dns(host, port, **kwargs):
        return [
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.215.14", port)),
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.0.0.5", port)),
        ]

    monkeypatch.setattr(anyio, "getaddrinfo", fake_dns)
    answer, guard = await get("http://mixed.example.com/mcp")
    assert isinstance(answer, httpx2.ConnectError) and "10.0.0.5" in guard.refused


async def test_a_redirect_to_a_private_address_is_refused(monkeypatch):
    """The first hop is public (answered here by a stub connection); its redirect to
    169.254.169.254 is checked again when that connection is made."""
    requests: list[str] = []

    class Public(netguard.GuardedBackend):
        async def connect_tcp(self, host, port, *args, **kwargs):
            requests.append(host)
            if host == "public.example.com":
                return _canned(
                    b"HTTP/1.1 307 Temporary Redirect\r\nLocation: http://169.254.169.254/latest\r\nContent-Length: 0\r\n\r\n"
                )
            return await super().connect_tcp(host, port, *args, **kwargs)

    monkeypatch.setattr(netguard, "GuardedBackend", Public)
    guard = netguard.Guard(allow_private=False, max_response_bytes=10_000)
    async with httpx2.AsyncClient(
        transport=netguard.GuardedTransport(guard), follow_redirects=True
    ) as http:
        with pytest.raises(httpx2.ConnectError):
            await http.get("http://public.example.com/mcp")
    assert requests == ["public.example.com", "169.254.169.254"]
    assert guard.refused.startswith("169.254.169.254")


async def test_the_body_stops_at_the_size_bound_as_it_is_read(mcp_server):
    guard = netguard.Guard(allow_private=True, max_response_bytes=100)
    async with netguard.http_client(guard, headers={}, timeout=5, read_timeout=5) as http:
        # A 404 page is small: within the bound.
        response = await http.get(f"http://127.0.0.1:{mcp_server.port}/nothing")
        assert response.status_code == 404 and not guard.too_large
        guard.max_response_bytes = 5
        with pytest.raises(netguard.ResponseTooLarge):
            await http.get(f"http://127.0.0.1:{mcp_server.port}/nothing")
    assert guard.too_large


def _canned(raw: bytes):
    import httpcore2

    class Stream(httpcore2.AsyncNetworkStream):
        def __init__(self):
            self.data = raw

        async def read(self, max_bytes, timeout=None):
            chunk, self.data = self.data[:max_bytes], self.data[max_bytes:]
            return chunk

        async def write(self, buffer, timeout=None):
            pass

        async def aclose(self):
            pass

        def get_extra_info(self, info):
            return None

    return Stream()
