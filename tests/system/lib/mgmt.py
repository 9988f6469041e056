"""A raw client of the management socket, for feeding it what vsctl never would."""
from __future__ import annotations

import json
import socket
import time


class RawClient:
    def __init__(self, path, timeout: float = 5):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect(str(path))
        self.buf = b""
        self.timeout = timeout

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def request(self, method: str, params=None, id=1) -> dict:
        msg = {"jsonrpc": "2.0", "method": method, "id": id}
        if params is not None:
            msg["params"] = params
        self.send(json.dumps(msg).encode() + b"\n")
        return self.read_json()

    def read_line(self, timeout: float | None = None) -> bytes | None:
        """One line without its newline, or None if the server closed the connection first.
        Raises TimeoutError if nothing complete arrives in time."""
        deadline = time.monotonic() + (timeout or self.timeout)
        while b"\n" not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"no complete reply line; got {self.buf[:200]!r}")
            self.sock.settimeout(left)
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                continue
            except ConnectionResetError:
                chunk = b""
            if not chunk:
                return None
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return line

    def read_json(self, timeout: float | None = None) -> dict:
        line = self.read_line(timeout)
        if line is None:
            raise ConnectionError("server closed the connection instead of replying")
        return json.loads(line)

    def closed_by_peer(self, timeout: float = 5) -> bool:
        """True if the server closes the connection (EOF) within `timeout` (buffered replies
        are skipped)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.sock.settimeout(max(0.01, deadline - time.monotonic()))
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                return False
            except ConnectionResetError:
                return True
            if not chunk:
                return True
            self.buf += chunk
        return False

    def close(self) -> None:
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
