"""Listeners bound by the parent, on loopback."""

import os
import socket

import pytest

from korepyd.config import model
from korepyd.supervisor.listeners import ListenError, open_listeners


def config_with(*binds, backlog=16):
    return model.Config(socket_backlog=backlog, servers=(model.Server("s", binds, tls=False),))


def test_one_reuseport_socket_per_worker_on_the_same_port():
    (listener,) = open_listeners(config_with(model.Bind("127.0.0.1", "0")), workers=1)
    port = listener.sockets[0].getsockname()[1]
    listener.close()
    (listener,) = open_listeners(config_with(model.Bind("127.0.0.1", str(port))), workers=3)
    try:
        assert len(listener.sockets) == 3
        assert {s.getsockname()[1] for s in listener.sockets} == {port}
        assert listener.socket_for(4) is listener.sockets[0]
        assert all(s.get_inheritable() for s in listener.sockets)
    finally:
        listener.close()


def test_ipv6_loopback():
    (listener,) = open_listeners(config_with(model.Bind("::1", "0")), workers=1)
    try:
        assert listener.sockets[0].family == socket.AF_INET6
        assert listener.address.startswith("[::1]:")
    finally:
        listener.close()


def test_port_in_use_says_what_to_do():
    holder = socket.socket()
    holder.bind(("127.0.0.1", 0))
    holder.listen()
    port = holder.getsockname()[1]
    try:
        with pytest.raises(ListenError, match="another program listens there"):
            open_listeners(config_with(model.Bind("127.0.0.1", "0"), model.Bind("127.0.0.1", str(port))), 1)
    finally:
        holder.close()


def test_unix_socket_replaces_a_stale_one(tmp_path):
    path = str(tmp_path / "k.sock")
    for _ in range(2):  # the second bind finds the first socket file
        (listener,) = open_listeners(config_with(model.UnixBind(path)), workers=2)
        assert len(listener.sockets) == 1 and os.path.exists(path)
        listener.close()


def test_unix_path_that_is_not_a_socket_is_left_alone(tmp_path):
    path = tmp_path / "file"
    path.write_text("keep me")
    with pytest.raises(ListenError, match="Address already in use"):
        open_listeners(config_with(model.UnixBind(str(path))), workers=1)
    assert path.read_text() == "keep me"


def test_abstract_unix_socket():
    (listener,) = open_listeners(config_with(model.UnixBind(f"@korepyd-test-{os.getpid()}")), workers=1)
    try:
        assert listener.sockets[0].getsockname().startswith(b"\0korepyd-test")
    finally:
        listener.close()
