"""A TCP forwarder that can cut a member off from its peers.

Each cluster member advertises its peer URL on a proxy port; the proxy forwards to
the member's real peer listener. Blocking a proxy closes every connection through
it and refuses new ones, so messages *to* that member are lost — together with
pausing or blocking the others it partitions the network. Only the test process
uses it; it never touches client traffic.
"""
import socket
import threading


class Proxy:
    def __init__(self, target_port):
        self.target_port = target_port
        self._listener = socket.socket()
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(64)
        self.port = self._listener.getsockname()[1]
        self._lock = threading.Lock()
        self._blocked = False
        self._sockets = set()
        self._closed = False
        threading.Thread(target=self._accept_loop, daemon=True).start()

    def block(self):
        with self._lock:
            self._blocked = True
            sockets, self._sockets = self._sockets, set()
        for s in sockets:
            _close(s)

    def unblock(self):
        with self._lock:
            self._blocked = False

    def close(self):
        self._closed = True
        self.block()
        _close(self._listener)

    def _accept_loop(self):
        while not self._closed:
            try:
                downstream, _ = self._listener.accept()
            except OSError:
                return
            with self._lock:
                blocked = self._blocked
            if blocked:
                _close(downstream)
                continue
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target_port), timeout=2)
                upstream.settimeout(None)
            except OSError:
                _close(downstream)
                continue
            with self._lock:
                self._sockets.update((downstream, upstream))
            for a, b in ((downstream, upstream), (upstream, downstream)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    def _pipe(self, src, dst):
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
                self._sockets.discard(src)
                self._sockets.discard(dst)


def _close(s):
    try:
        s.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    try:
        s.close()
    except OSError:
        pass
