"""The outbound address guard, and the response size bound, for requests to MCP servers.

A staff-entered URL must not become a way into the host's own network (SSRF): a server
entry may reach only public addresses unless a superuser marked it `internal`. The guard
sits where a connection is made (httpcore2's network backend): it resolves the host name
itself, refuses the connection when ANY address the name resolves to is private, loopback,
link-local, unspecified, multicast, reserved or shared (IPv4 and IPv6; IPv4-mapped,
6to4, Teredo and NAT64 forms judged by the IPv4 address inside), then connects to an
address it checked: there is no second resolution a DNS rebinding could answer
differently. Every connection goes through it, so a redirect's target is checked too (the
SDK follows only redirects within the endpoint's origin; those still connect through here).
A name is judged by what it resolves to, so `localhost`, `127.1`, `2130706433`,
`0x7f000001` and a public name pointing at 127.0.0.1 all meet the same check.

The size bound counts a response body's bytes as they are read, and stops reading past
the bound (the transport raises; the SDK turns that into a failed request).
"""

import ipaddress
import socket
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass

import anyio
import httpcore2
import httpx2

MAX_ADDRESSES = 16  # Addresses of one name tried at most.
NAT64 = ipaddress.ip_network("64:ff9b::/96")

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class AddressRefused(httpcore2.ConnectError):
    """The host resolves to an address this server entry may not reach."""


class ResponseTooLarge(httpx2.StreamError):
    """A response body went past the size bound; reading stopped there."""


@dataclass
class Guard:
    """One client's settings, and what the guard saw (the client reports it as the error)."""

    allow_private: bool
    max_response_bytes: int
    refused: str | None = None  # The address refused, for the error message.
    too_large: bool = False


def refusal(address: IPAddress) -> str | None:
    """Why a connection to this address is refused, or None for a public address."""
    inner = _embedded_ipv4(address)
    if inner is not None:
        return refusal(inner)
    for reason, flag in (
        ("loopback", address.is_loopback),
        ("unspecified", address.is_unspecified),
        ("link-local", address.is_link_local),
        ("multicast", address.is_multicast),
        ("reserved", address.is_reserved),
        ("private", address.is_private),
    ):
        if flag:
            return reason
    if not address.is_global:  # Shared (100.64/10), documentation and other special ranges.
        return "not public"
    return None


def _embedded_ipv4(address: IPAddress) -> ipaddress.IPv4Address | None:
    if not isinstance(address, ipaddress.IPv6Address):
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]  # The client's address.
    if address in NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


async def resolve(host: str, port: int) -> list[IPAddress]:
    """Every address the host name stands for (a literal address stands for itself)."""
    infos = await anyio.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    addresses: list[IPAddress] = []
    for _family, _type, _proto, _name, sockaddr in infos:
        address = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
        if address not in addresses:
            addresses.append(address)
        if len(addresses) >= MAX_ADDRESSES:
            break
    return addresses


class GuardedBackend(httpcore2.AsyncNetworkBackend):
    """Connects only to addresses the guard allows, to the very address it checked."""

    def __init__(self, guard: Guard) -> None:
        self.guard = guard
        self.inner = httpcore2.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable | None = None,
    ) -> httpcore2.AsyncNetworkStream:
        try:
            with anyio.fail_after(timeout):
                addresses = await resolve(host, port)
        except TimeoutError as error:
            raise httpcore2.ConnectTimeout(f"Resolving {host} timed out") from error
        except OSError as error:
            raise httpcore2.ConnectError(f"Cannot resolve {host}") from error
        if not addresses:
            raise httpcore2.ConnectError(f"Cannot resolve {host}")
        if not self.guard.allow_private:
            for address in addresses:
                reason = refusal(address)
                if reason is not None:
                    self.guard.refused = f"{host} ({address}, {reason})"
                    raise AddressRefused(f"Refused to connect to a {reason} address")
        last: Exception | None = None
        for address in addresses:  # The checked addresses, never the name again.
            try:
                return await self.inner.connect_tcp(
                    str(address), port, timeout, local_address, socket_options
                )
            except httpcore2.ConnectError as error:
                last = error
        assert last is not None
        raise last

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options=None
    ):
        raise AddressRefused("Unix sockets are not allowed")

    async def sleep(self, seconds: float) -> None:
        await self.inner.sleep(seconds)


class GuardedTransport(httpx2.AsyncHTTPTransport):
    """httpx2's transport over the guarded backend, with bounded response bodies. No proxy:
    one would connect on our behalf, past the guard."""

    def __init__(self, guard: Guard) -> None:
        super().__init__(trust_env=False)
        self.guard = guard
        # httpx2 takes no network backend: the pool it built gets the guarded one (the
        # tests connecting to loopback through this transport fail if this stops working).
        self._pool._network_backend = GuardedBackend(guard)

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        response = await super().handle_async_request(request)
        response.stream = _BoundedStream(response.stream, self.guard)
        return response


class _BoundedStream(httpx2.AsyncByteStream):
    def __init__(self, inner: httpx2.AsyncByteStream, guard: Guard) -> None:
        self.inner = inner
        self.guard = guard

    async def __aiter__(self) -> AsyncIterator[bytes]:
        seen = 0
        async for chunk in self.inner:
            seen += len(chunk)
            if seen > self.guard.max_response_bytes:
                self.guard.too_large = True
                await self.inner.aclose()
                raise ResponseTooLarge(
                    f"The response was larger than {self.guard.max_response_bytes} bytes"
                )
            yield chunk

    async def aclose(self) -> None:
        await self.inner.aclose()


def http_client(
    guard: Guard, *, headers: dict[str, str], timeout: float, read_timeout: float | None
) -> httpx2.AsyncClient:
    """A client whose every connection passes the guard (`read_timeout` None: a stream
    may stay quiet for ever, as a watch's does)."""
    return httpx2.AsyncClient(
        transport=GuardedTransport(guard),
        headers=headers,
        timeout=httpx2.Timeout(timeout, read=read_timeout),
        follow_redirects=False,  # The SDK follows same-origin ones itself (see above).
        trust_env=False,
    )
