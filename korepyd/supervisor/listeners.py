"""The parent's listening sockets: bound before any privilege is dropped,
then handed to the workers (Kore: kore_server_bind(),
kore_server_bind_unix()).

Kore binds one socket per `bind` line and lets every worker accept on it
under a lock. korepyd binds one SO_REUSEPORT socket per worker per `bind`
line instead: the kernel spreads connections over the workers, and a
respawned worker is handed the same socket, with the connections queued on
it while its predecessor was gone. Where SO_REUSEPORT is missing, one
shared socket serves every worker. A `unix` socket is always shared; an
existing socket file is replaced, and a leading '@' makes an abstract
socket (Linux).

Layer: role (supervisor: the parent process).
"""

from __future__ import annotations

import errno
import os
import socket
import stat
from dataclasses import dataclass, field

from korepyd.config import model
from korepyd.errors import KorepydError

# A TCP listener hands a worker a connection once its client has sent
# something (its request, or its ClientHello), as nginx's `listen ...
# deferred`: a new connection is then served without waiting for its
# first bytes. One that stays silent is handed over after about this many
# seconds all the same, and http_header_timeout runs from then.
DEFER_ACCEPT = 1


class ListenError(KorepydError):
    """A listener could not be opened; the message says what to do."""


@dataclass
class Listener:
    """One `bind` or `unix` line: its socket for each worker slot."""

    server: str
    tls: bool
    bind: model.Bind | model.UnixBind
    sockets: list[socket.socket] = field(default_factory=list)

    def socket_for(self, worker_id: int) -> socket.socket:
        """The socket worker `worker_id` (1-based) accepts on."""
        return self.sockets[(worker_id - 1) % len(self.sockets)]

    @property
    def address(self) -> str:
        if isinstance(self.bind, model.UnixBind):
            return f"unix:{self.bind.path}"
        host = f"[{self.bind.host}]" if ":" in self.bind.host else self.bind.host
        return f"{host}:{self.bind.port}"

    def close(self) -> None:
        for sock in self.sockets:
            sock.close()


def open_listeners(config: model.Config, workers: int) -> list[Listener]:
    """Bind and listen on every listener of every server."""
    opened: list[Listener] = []
    try:
        for server in config.servers:
            for bind in server.binds:
                listener = Listener(server.name, server.tls, bind)
                opened.append(listener)
                if isinstance(bind, model.UnixBind):
                    listener.sockets.append(_unix(bind.path, config.socket_backlog))
                else:
                    listener.sockets.extend(_tcp(bind, config.socket_backlog, workers))
    except BaseException:
        for listener in opened:
            listener.close()
        raise
    return opened


def _tcp(bind: model.Bind, backlog: int, workers: int) -> list[socket.socket]:
    try:
        infos = socket.getaddrinfo(bind.host, bind.port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise ListenError(f"getaddrinfo({bind.host}): {exc.strerror}: check the bind line's host and port") from None
    family, kind, proto, _, address = infos[0]
    count = workers if hasattr(socket, "SO_REUSEPORT") else 1
    sockets = []
    for _ in range(count):
        sock = socket.socket(family, kind, proto)
        sockets.append(sock)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if count > 1:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            if family == socket.AF_INET6:
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # every connection accepted inherits it
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_DEFER_ACCEPT, DEFER_ACCEPT)
            sock.bind(address)
            sock.listen(backlog)
        except OSError as exc:
            for s in sockets:
                s.close()
            raise ListenError(_bind_advice(f"{bind.host}:{bind.port}", exc)) from None
        sock.set_inheritable(True)
    return sockets


def _unix(path: str, backlog: int) -> socket.socket:
    address = "\0" + path[1:] if path.startswith("@") else path
    if not path.startswith("@"):
        _remove_stale_socket(path)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.bind(address)
        sock.listen(backlog)
    except OSError as exc:
        sock.close()
        raise ListenError(_bind_advice(f"unix:{path}", exc)) from None
    sock.set_inheritable(True)
    return sock


def _remove_stale_socket(path: str) -> None:
    try:
        if stat.S_ISSOCK(os.lstat(path).st_mode):
            os.unlink(path)
    except FileNotFoundError:
        pass
    except OSError as exc:
        raise ListenError(_bind_advice(f"unix:{path}", exc)) from None


def _bind_advice(where: str, exc: OSError) -> str:
    reason = exc.strerror or str(exc)
    if exc.errno == errno.EADDRINUSE:
        return f"bind({where}): {reason}: another program listens there; stop it or change the bind line"
    if exc.errno in (errno.EACCES, errno.EPERM):
        return f"bind({where}): {reason}: ports below 1024 need root (or CAP_NET_BIND_SERVICE)"
    if exc.errno == errno.EADDRNOTAVAIL:
        return f"bind({where}): {reason}: this machine has no such address"
    return f"bind({where}): {reason}"
