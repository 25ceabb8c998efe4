"""Which Tor circuit a request came on, as an opaque key for counting budgets.

Threat answered: every author reaches the onion service through the same local
Tor process, so every request comes from the same address, and a limit per
address would be a limit on nobody (or on everybody at once). Tor can say
which *circuit* a stream arrived on: with `HiddenServiceExportCircuitID
haproxy` it opens each connection to nginx with a PROXY protocol header whose
source address is `fc00:dead:beef:4dad::XXXX:XXXX`, the low 32 bits being the
circuit's global id. nginx's authors' server copies that address into the
request header `X-Penname-Circuit` (deploy/nginx). A circuit is not an IP
address: it is one client's path through Tor, it says nothing about where the
client is, and it ends when the client (or Tor, or the "New Tor circuit for
this site" button) drops it. Building another costs the client a new
rendezvous, and Tor's proof-of-work when the service is under attack.

Why the header can be trusted: nginx always *sets* it (from the PROXY header
on the authors' server, empty on the editors' server), overwriting whatever
the client sent, and gunicorn listens only where nginx can reach it. Without
nginx in front (`make run`, or a test server) a client can put any circuit it
likes in the header and so pick its own budget; the site-wide ceilings behind
every per-circuit budget (`portal.authors.budgets`) still hold, which is what
bounds the server's work.

Promise: `circuit_of` accepts only a well-formed IPv6 address inside
fc00:dead:beef:4dad::/64 and returns a keyed hash of it (HMAC under the
SECRET_KEY), never the value itself, so even the cache that counts never holds
a circuit id; anything else (absent, empty, malformed, another range) is None,
and those requests share one budget. Nothing here is stored or logged.
"""

from __future__ import annotations

import ipaddress

from django.http import HttpRequest
from django.utils.crypto import salted_hmac

HEADER = "HTTP_X_PENNAME_CIRCUIT"
TOR_CIRCUIT_NETWORK = ipaddress.IPv6Network("fc00:dead:beef:4dad::/64")
# The longest text form of an IPv6 address (without a zone, which we refuse) is
# 39 characters; anything longer is not ours and is not parsed at all.
MAX_HEADER_CHARS = 39
_HMAC_SALT = "portal.circuits"


def circuit_of(request: HttpRequest) -> str | None:
    """An opaque key for the Tor circuit this request came on, or None if none is known."""
    raw = request.META.get(HEADER, "")
    if not isinstance(raw, str) or not raw or len(raw) > MAX_HEADER_CHARS:
        return None
    try:
        address = ipaddress.IPv6Address(raw)
    except ValueError:
        return None
    if address.scope_id is not None or address not in TOR_CIRCUIT_NETWORK:
        return None
    # The packed address, so every spelling of one address is one circuit.
    return salted_hmac(_HMAC_SALT, address.packed, algorithm="sha256").hexdigest()[:32]
