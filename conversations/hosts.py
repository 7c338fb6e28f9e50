"""Whether a host name or address means this machine only. No Django: settings use it too."""

import ipaddress


def is_loopback(host: str) -> bool:
    """`localhost`, `*.localhost`, 127.0.0.0/8 or ::1; a port and [brackets] are allowed."""
    name = host.strip().lower()
    if name.startswith("["):
        name = name[1:].split("]", 1)[0]
    elif name.count(":") == 1:
        name = name.split(":", 1)[0]
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(name)
    except ValueError:
        return False
    mapped = getattr(address, "ipv4_mapped", None)  # ::ffff:127.0.0.1
    return address.is_loopback or bool(mapped and mapped.is_loopback)
