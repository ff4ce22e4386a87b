"""Fault injection between cluster members: a per-member outbound proxy.

Each member runs with grpc_proxy pointing at its own ConnectProxy, so the test knows
and controls every connection a member opens to a peer. Blocking destinations in both
directions partitions the network symmetrically (see Cluster.partition). Only the
test process uses it; client traffic from the tests themselves does not go through it.
"""
import socket
import threading


def _close(s):
    try:
        s.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    try:
        s.close()
    except OSError:
        pass


class ConnectProxy:
    """An HTTP CONNECT proxy for one member's outgoing peer connections.

    The member runs with grpc_proxy pointing here, so every channel it opens to a
    peer is a tunnel through this proxy, and the proxy knows the destination. Blocking
    a destination port closes the tunnels to it and refuses new ones: messages *from*
    this member to that peer are lost. Blocking both directions between two groups of
    members partitions them symmetrically.
    """

    def __init__(self):
        self._listener = socket.socket()
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(64)
        self.port = self._listener.getsockname()[1]
        self._lock = threading.Lock()
        self._blocked = set()   # destination ports
        self._tunnels = {}      # destination port -> set of sockets
        self.connects = 0       # tunnels opened, so tests can tell the proxy is in use
        self._closed = False
        threading.Thread(target=self._accept_loop, daemon=True).start()

    def block(self, ports):
        with self._lock:
            self._blocked = set(ports)
            doomed = [s for p in self._blocked for s in self._tunnels.pop(p, set())]
        for s in doomed:
            _close(s)

    def close(self):
        self._closed = True
        self.block(list(self._tunnels))
        _close(self._listener)

    def _accept_loop(self):
        while not self._closed:
            try:
                downstream, _ = self._listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(downstream,), daemon=True).start()

    def _serve(self, downstream):
        request = b""
        try:
            while b"\r\n\r\n" not in request and len(request) < 8192:
                chunk = downstream.recv(4096)
                if not chunk:
                    raise OSError("closed before the request ended")
                request += chunk
            head, _, rest = request.partition(b"\r\n\r\n")
            method, target, _ = head.split(b"\r\n")[0].split(b" ", 2)
            port = int(target.rsplit(b":", 1)[1])
            if method != b"CONNECT":
                raise OSError("not a CONNECT request")
        except (OSError, ValueError, IndexError):
            _close(downstream)
            return
        with self._lock:
            blocked = port in self._blocked
        if blocked:
            try:
                downstream.sendall(b"HTTP/1.1 403 Forbidden\r\n\r\n")
            except OSError:
                pass
            _close(downstream)
            return
        try:
            upstream = socket.create_connection(("127.0.0.1", port), timeout=2)
            upstream.settimeout(None)
            downstream.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
            if rest:
                upstream.sendall(rest)
        except OSError:
            _close(downstream)
            return
        with self._lock:
            if port in self._blocked:
                _close(upstream)
                _close(downstream)
                return
            self._tunnels.setdefault(port, set()).update((downstream, upstream))
            self.connects += 1
        for a, b in ((downstream, upstream), (upstream, downstream)):
            threading.Thread(target=self._pipe, args=(a, b, port), daemon=True).start()

    def _pipe(self, src, dst, port):
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                dst.sendall(data)
        except OSError:
            pass
        finally:
            _close(src)
            _close(dst)
            with self._lock:
                self._tunnels.get(port, set()).discard(src)
                self._tunnels.get(port, set()).discard(dst)
