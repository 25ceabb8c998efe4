"""A stand-in for tor in front of the authors' nginx port, for tests and benchmarks.

Tor hands every connection to the authors' onion service to nginx with a PROXY
protocol (version 1) line first, naming the Tor circuit it came over
(`HiddenServiceExportCircuitID haproxy`, deploy/tor/torrc). nginx's authors'
server listens with `proxy_protocol` and refuses a connection without that
line, so everything that talks to it goes through `CircuitRelay`: each circuit
gets a loopback port of its own, and every connection to that port reaches
nginx as tor would hand it over from that circuit.

The line is built exactly as tor 0.4.x builds it (src/core/or/connection_edge.c,
export_hs_client_circuit_id): the circuit's global identifier in the last 32
bits of an address in fc00:dead:beef:4dad::/64, written as two hexadecimal
groups, its low 16 bits again as the source port, the onion port as the
destination port.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager


def circuit_address(circuit: int) -> str:
    """The source address tor gives a circuit, as tor writes it."""
    return f"fc00:dead:beef:4dad::{circuit >> 16:x}:{circuit & 0xFFFF:x}"


def proxy_line(circuit: int, onion_port: int = 80) -> bytes:
    return (f"PROXY TCP6 {circuit_address(circuit)} ::1 {circuit & 0xFFFF} {onion_port}\r\n"
            ).encode()


class CircuitRelay:
    """Loopback ports that each stand for one Tor circuit to the authors' service."""

    def __init__(self, target_port: int, host: str = "127.0.0.1") -> None:
        self.target = (host, target_port)
        self._listeners: dict[int, socket.socket] = {}
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._closed = threading.Event()

    def url(self, circuit: int) -> str:
        """http://127.0.0.1:PORT, where every connection comes over `circuit`."""
        return f"http://127.0.0.1:{self.port(circuit)}"

    def port(self, circuit: int) -> int:
        if not 0 <= circuit <= 0xFFFFFFFF:
            raise ValueError("a Tor circuit identifier is a 32-bit number")
        with self._lock:
            listener = self._listeners.get(circuit)
            if listener is None:
                listener = socket.create_server(("127.0.0.1", 0), backlog=256)
                self._listeners[circuit] = listener
                threading.Thread(target=self._accept, args=(listener, circuit),
                                 daemon=True).start()
        return int(listener.getsockname()[1])

    def _accept(self, listener: socket.socket, circuit: int) -> None:
        while not self._closed.is_set():
            try:
                client, _ = listener.accept()
            except OSError:
                return
            threading.Thread(target=self._relay, args=(client, circuit), daemon=True).start()

    def _relay(self, client: socket.socket, circuit: int) -> None:
        try:
            upstream = socket.create_connection(self.target, timeout=30)
            upstream.settimeout(None)
            upstream.sendall(proxy_line(circuit))
        except OSError:
            client.close()
            return
        with self._lock:
            self._open.update((client, upstream))
        back = threading.Thread(target=self._pump, args=(upstream, client), daemon=True)
        back.start()
        self._pump(client, upstream)
        back.join()
        with self._lock:
            self._open.difference_update((client, upstream))
        client.close()
        upstream.close()

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket) -> None:
        """Copy until the source ends, then end the sink's side too (half-close)."""
        try:
            while chunk := source.recv(65536):
                sink.sendall(chunk)
        except OSError:
            pass
        try:
            sink.shutdown(socket.SHUT_WR)
        except OSError:
            pass

    def close(self) -> None:
        self._closed.set()
        with self._lock:
            for listener in self._listeners.values():
                try:
                    listener.shutdown(socket.SHUT_RDWR)  # wakes its accept() on Linux
                except OSError:
                    pass
                listener.close()
            for connection in self._open:
                try:
                    connection.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
            self._listeners.clear()


@contextmanager
def circuit_relay(target_port: int) -> Iterator[CircuitRelay]:
    relay = CircuitRelay(target_port)
    try:
        yield relay
    finally:
        relay.close()
