"""The worker's trio main: accept loops, the IPC channel, graceful stop.

Connections run in their own nursery, apart from the accept loops, so a
graceful stop (a STOP message or SIGTERM) can stop accepting at once while
requests in flight finish (within ipc's STOP_GRACE seconds) and idle
keep-alive connections are closed. A RETIRE message (a reload's old
generation) stops accepting too, but lets every kept-alive connection have
its next request answered, with `Connection: close` (Runtime.begin_stop).
`worker_max_connections` bounds the connections a worker holds: at the
limit it stops accepting until one ends. A readable listener is emptied
up to `worker_accept_threshold` connections at a time, as in Kore, and
each is served in a task kept from an earlier connection where one
waits (worker/conntasks.py).

Layer: role (worker).
"""

from __future__ import annotations

import errno
import os
import signal
import socket
import time

import trio
from trio.lowlevel import wait_readable

from korepyd import log
from korepyd.ipc import KEYMGR, PARENT, IpcError, Message, MsgId, accesslog
from korepyd.ipc.boot import Boot
from korepyd.ipc.channel import Channel
from korepyd.ipc.keymaterial import Certificate, Challenge
from korepyd.worker.conn import serve_connection
from korepyd.worker.conntasks import ConnectionTasks
from korepyd.worker.runtime import Runtime
from korepyd.worker.stream import PlainStream

ACCESSLOG_FLUSH = 0.1
FILEREF_SWEEP = 10.0

# accept() errors that mean "out of resources now", not "this listener is broken".
CAPACITY_ERRNOS = {errno.EMFILE, errno.ENFILE, errno.ENOMEM, errno.ENOBUFS}


async def run(rt: Runtime, boot: Boot, ipc: socket.socket, pending: bytes) -> None:
    rt.channel = Channel(ipc, pending)
    slots = trio.Semaphore(rt.config.worker_max_connections)
    async with trio.open_nursery() as nursery:
        rt.nursery = nursery
        rt.tasks.start(nursery)
        nursery.start_soon(_messages, rt)
        nursery.start_soon(_signals, rt)
        nursery.start_soon(_flush_access_log, rt)
        nursery.start_soon(_expire_files, rt)
        with rt.connections_scope:
            async with trio.open_nursery() as connections:
                tasks = ConnectionTasks(connections, _connection)
                with rt.accept_scope:
                    if rt.tls is not None:  # nothing is accepted before every domain has its certificate
                        await rt.channel.send(Message(MsgId.CERTIFICATE_REQ, rt.worker_id, KEYMGR))
                        await rt.tls.complete.wait()
                    async with trio.open_nursery() as accepting:
                        for lfd in boot.listeners:
                            listener = socket.socket(fileno=lfd.fd)
                            accepting.start_soon(_accept_loop, rt, listener, lfd.server, lfd.tls, slots, tasks)
                        await rt.channel.send(Message(MsgId.READY, rt.worker_id, PARENT, str(os.getpid()).encode()))
                        await trio.sleep_forever()
                tasks.close()  # nothing is accepted any more: the connections' tasks end with their connections
        if rt.connections_scope.cancelled_caught:
            log.warning("stop: requests still running after the grace period were cut off")
        rt.filerefs.close()  # no response reads a file any more
        await _send_access_lines(rt)
        nursery.cancel_scope.cancel()


async def _accept_loop(rt: Runtime, listener: socket.socket, server: str, tls: bool, slots: trio.Semaphore,
                       tasks: ConnectionTasks) -> None:
    """Kore's accept: once the listener is readable, take up to
    worker_accept_threshold connections in one go, then serve them; wait
    for a connection slot (worker_max_connections) only at the limit."""
    listener.setblocking(False)  # TCP_NODELAY: the parent set it on the listener, which passes it on (Linux)
    threshold = rt.config.worker_accept_threshold
    while True:
        await wait_readable(listener)
        for _ in range(threshold):
            try:
                slots.acquire_nowait()
            except trio.WouldBlock:
                await slots.acquire()
            try:
                accepted, _ = listener.accept()
            except BlockingIOError:
                slots.release()
                break
            except OSError as exc:
                slots.release()
                if exc.errno not in CAPACITY_ERRNOS:
                    raise
                log.warning(f"accept: {exc.strerror}; pausing for 100 ms")
                await trio.sleep(0.1)
                break
            tasks.start(rt, accepted, server, tls, slots)


async def _connection(rt: Runtime, sock: socket.socket, server: str, tls: bool, slots: trio.Semaphore) -> None:
    stream = None
    try:
        sni = None
        if tls:
            accepted = await rt.tls.accept(sock, server, rt.config.http_header_timeout)
            if accepted is None:
                return
            stream, sni = accepted
        else:
            stream = PlainStream(sock)
        await serve_connection(rt, stream, server, tls, sni)
    except Exception:  # a bug must cost one connection, never the worker
        log.exception("internal error on a connection (closed); please report it")
        with trio.CancelScope(shield=True):
            await trio.aclose_forcefully(stream or PlainStream(sock))
    finally:
        slots.release()


async def _flush_access_log(rt: Runtime) -> None:
    """Send queued access-log lines to the parent every 100 ms (as Kore).
    A flush under way is finished even when the worker ends meanwhile: the
    lines it took are the parent's only copy."""
    while True:
        await trio.sleep(ACCESSLOG_FLUSH)
        with trio.CancelScope(shield=True):
            await _send_access_lines(rt)


async def _expire_files(rt: Runtime) -> None:
    """Close the filemaps' files left unread (worker/filerefs.py), as Kore every 10 s."""
    while True:
        await trio.sleep(FILEREF_SWEEP)
        rt.filerefs.expire(time.monotonic())  # dispatch's clock (trio's has an offset)


async def _send_access_lines(rt: Runtime) -> None:
    pending, rt.access_lines = rt.access_lines, {}
    for path, lines in pending.items():
        await rt.channel.send(Message(MsgId.ACCESSLOG, rt.worker_id, PARENT, accesslog.frame(path, lines)))


async def _messages(rt: Runtime) -> None:
    """What the parent says: STOP means a graceful stop, RETIRE a reload's
    (idle keep-alive connections are answered once more); EOF means the
    parent is gone, so stop too."""
    while True:
        msg = await rt.channel.receive()
        if msg is None or msg.id == MsgId.STOP:
            rt.begin_stop()
            if msg is None:
                return
        elif msg.id == MsgId.RETIRE:
            rt.begin_stop(retire=True)
        elif msg.id == MsgId.PYTHON_SEND_OBJ:
            rt.tasks.spawn(rt.deliver_object, msg.payload)
        elif msg.id == MsgId.WEBSOCKET and msg.payload:
            rt.broadcast_local(None, msg.payload[0], msg.payload[1:])
        elif msg.id in KEY_MATERIAL:
            try:
                await _key_material(rt, msg)
            except IpcError as exc:
                log.error(f"keymgr sent a message this worker cannot read: {exc}")


KEY_MATERIAL = {MsgId.CERTIFICATE, MsgId.ACME_CHALLENGE, MsgId.ACME_CHALLENGE_CLEAR}


async def _key_material(rt: Runtime, msg: Message) -> None:
    """keymgr's material; a worker without TLS listeners (worker_no_accept)
    only acknowledges challenges, so that keymgr need not wait for it."""
    if msg.id == MsgId.CERTIFICATE:
        if rt.tls is not None:
            rt.tls.install(Certificate.decode(msg.payload))
    elif msg.id == MsgId.ACME_CHALLENGE:
        challenge = Challenge.decode(msg.payload)
        if rt.tls is not None:
            rt.tls.set_challenge(challenge)
        await rt.channel.send(Message(MsgId.ACME_CHALLENGE_SET, rt.worker_id, KEYMGR, challenge.token.encode()))
    elif rt.tls is not None:
        rt.tls.clear_challenge(Challenge.decode(msg.payload))


async def _signals(rt: Runtime) -> None:
    """SIGTERM stops gracefully; SIGUSR1 only reaches the app. Either is
    then passed to koreapp.signal(signo), as Kore does."""
    hook = rt.resolve("koreapp.signal")
    with trio.open_signal_receiver(signal.SIGTERM, signal.SIGUSR1) as signals:
        async for signum in signals:
            if signum == signal.SIGTERM:
                rt.begin_stop()
            if hook is not None:
                try:
                    hook(signum)
                except Exception:
                    rt.tasks.report("koreapp.signal")
