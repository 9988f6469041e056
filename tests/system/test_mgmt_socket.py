"""The management socket survives garbage: error replies, other clients unaffected, forwarding on."""
import json
import threading

import pytest

from lib import names
from lib.mgmt import RawClient
from lib.traffic import ping

GARBAGE = [
    # bytes sent, expected JSON-RPC error code
    (b"this is not json\n", -32700),
    (b'{"jsonrpc": "2.0", "method": "version", "id": 1\n', -32700),   # truncated JSON
    (b"\xff\xfe\xfd garbage that is not UTF-8\n", -32700),
    (b'{"hello": "world"}\n', -32600),                                 # JSON, not JSON-RPC
    (b'"just a string"\n', -32600),
    (b'{"jsonrpc": "1.0", "method": "version", "id": 2}\n', -32600),
    (b'{"jsonrpc": "2.0", "method": 42, "id": 3}\n', -32600),
    (b'{"jsonrpc": "2.0", "method": "no/such/method", "id": 4}\n', -32601),
    (b'{"jsonrpc": "2.0", "method": "fdb/show", "params": {"bridge": 7}, "id": 5}\n', -32602),
]


def _assert_error(reply, code, sent):
    assert reply.get("jsonrpc") == "2.0", reply
    assert "error" in reply and "result" not in reply, f"{sent!r} got {reply}"
    assert reply["error"]["code"] == code, f"{sent!r}: expected error {code}, got {reply}"
    assert isinstance(reply["error"].get("message"), str) and reply["error"]["message"], reply


def test_garbage_gets_error_replies_and_the_connection_survives(lan):
    net = lan(2)
    d = net.daemon
    show = d.vsctl_json("show")
    with RawClient(d.socket) as c:
        for data, code in GARBAGE:
            c.send(data)
            reply = c.read_json()
            _assert_error(reply, code, data)
        # Same connection still serves a valid request, with its id.
        reply = c.request("version", id=77)
        assert reply.get("id") == 77 and "version" in reply.get("result", {}), reply
    assert d.vsctl_json("show") == show
    assert ping(net.hosts[0], net.hosts[1].ip).rc == 0


def test_half_sent_line_does_not_block_other_clients(lan):
    net = lan(2)
    d = net.daemon
    with RawClient(d.socket) as stuck:
        stuck.send(b'{"jsonrpc": "2.0", "method": "vers')   # no newline, ever
        r = d.vsctl("list-br", timeout=5)
        assert r.rc == 0 and net.bridge in r.out.split(), r
        r = d.vsctl("add-br", names.unique(names.KIND_BRIDGE), timeout=5)
        assert r.rc == 0, r
        assert ping(net.hosts[0], net.hosts[1].ip).rc == 0


def test_oversized_line_closes_only_that_connection(lan):
    net = lan(2)
    d = net.daemon
    show = d.vsctl_json("show")
    with RawClient(d.socket, timeout=15) as bystander, RawClient(d.socket, timeout=15) as big:
        assert "result" in bystander.request("version", id=1)
        # A syntactically plausible request, 65 MiB long (the limit is 64 MiB).
        pad = b"x" * (65 * 1024 * 1024)
        line = b'{"jsonrpc":"2.0","method":"version","id":9,"params":{"pad":"' + pad + b'"}}\n'
        send_err = []

        def sender():
            try:
                big.send(line)
            except OSError as e:  # the server may close before reading it all
                send_err.append(e)
        t = threading.Thread(target=sender, daemon=True)
        t.start()
        reply_line = big.read_line(timeout=15)
        t.join(timeout=15)
        assert reply_line is not None, "connection closed without an error reply (-32005)"
        reply = json.loads(reply_line)
        _assert_error(reply, -32005, b"<65 MiB line>")
        assert big.closed_by_peer(timeout=5), "connection with the oversized line left open"
        # Everyone else is fine.
        assert bystander.request("version", id=2).get("id") == 2
    assert d.vsctl_json("show") == show
    assert ping(net.hosts[0], net.hosts[1].ip).rc == 0


@pytest.mark.parametrize("n", [70])
def test_many_clients_do_not_stop_the_daemon(lan, n):
    """More connections than the limit (64): the extra ones are refused, the daemon carries on."""
    net = lan(2)
    d = net.daemon
    clients = []
    try:
        for _ in range(n):
            clients.append(RawClient(d.socket, timeout=5))
        answered = busy = 0
        for i, c in enumerate(clients):
            try:  # a refused client may find its -32006 reply waiting and the socket closed
                c.send(json.dumps({"jsonrpc": "2.0", "method": "version", "id": i}).encode() +
                       b"\n")
            except OSError:
                pass
            try:
                reply = c.read_json(timeout=5)
            except (ConnectionError, TimeoutError, ValueError):
                continue
            if "result" in reply:
                answered += 1
            elif reply.get("error", {}).get("code") == -32006:
                busy += 1
        assert answered >= 60, f"only {answered} of {n} clients served"
        assert answered + busy == n, (
            f"{n - answered - busy} clients got neither a reply nor a -32006 busy error")
    finally:
        for c in clients:
            c.close()
    r = d.vsctl("list-br", timeout=5)
    assert r.rc == 0 and net.bridge in r.out.split(), r
    assert ping(net.hosts[0], net.hosts[1].ip).rc == 0
