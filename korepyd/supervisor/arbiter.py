"""The parent's trio loop: start the workers, watch them, relay their
messages, respawn the dead, reload on HUP and stop on TERM/INT/QUIT (Kore:
kore_server_start(), kore_worker_reap() and the signal handling of
src/kore.c and src/worker.c).

Children are started with fork+exec (`python -m korepyd.worker`), never by
forking inside trio. Each gets a socketpair for IPC and, by pass_fds, its
listening sockets; its first message is BOOT (a pickled ipc.boot.Boot).

A reload (HUP) re-reads the configuration; if it is invalid the errors are
logged and the running generation keeps serving. Otherwise a new
generation of workers starts on the same listening sockets, and once it is
ready the old one is told to retire (RETIRE, not STOP): it stops accepting,
finishes the requests it has, answers the next request of each kept-alive
connection with `Connection: close` (closing those that stay idle for
http_keepalive_time), and exits, so no request fails. A HUP meanwhile starts
yet another generation: several may drain at once, each child on its own
clock, and a TERM sends every one of them STOP, which makes a retirement a
stop (idle connections closed at once, STOP_GRACE for the rest).

Layer: role (supervisor: the parent process).
"""

from __future__ import annotations

import os
import pickle
import signal
import socket
import sys
from collections.abc import Callable
from dataclasses import dataclass, field

import trio

from korepyd import log
from korepyd.config import model
from korepyd.errors import ExitCode, KorepydError
from korepyd.ipc import KEYMGR, PARENT, Message, MsgId, destinations
from korepyd.ipc.boot import AppSocket, Boot, ListenerFd
from korepyd.ipc.channel import Channel
from korepyd.ipc.messages import STOP_GRACE
from korepyd.supervisor import notify
from korepyd.supervisor.accesslog import AccessLogs
from korepyd.supervisor.listeners import Listener, open_listeners
from korepyd.tls.context import OPENSSL_CNF

START_TIMEOUT = 30.0       # seconds a worker has to report READY
FAILED_STARTS_MAX = 3      # consecutive failed starts before the server gives up
STOP_TIMEOUT = STOP_GRACE + 5.0


@dataclass
class Child:
    worker_id: int
    generation: int
    process: trio.Process
    channel: Channel
    ready: trio.Event = field(default_factory=trio.Event)
    stopping: bool = False
    exited: trio.Event = field(default_factory=trio.Event)

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def name(self) -> str:
        return "keymgr" if self.worker_id == KEYMGR else f"worker {self.worker_id}"


@dataclass
class Options:
    """What the supervisor needs from the command line."""

    skip_chroot: bool = False
    skip_runas: bool = False
    quiet: bool = False
    daemonize: bool = False
    app: str | None = None          # a Kore 4.x app (korepyd app.py), imported again by each worker
    app_args: tuple[str, ...] = ()
    app_sockets: Callable[[], tuple[AppSocket, ...]] = tuple   # the sockets the app bound while loading, now


class Supervisor:
    def __init__(self, config: model.Config, opts: Options, reload_config: Callable[[], model.Config]):
        self.config = config
        self.opts = opts
        self.reload_config = reload_config
        self.listeners: list[Listener] = []
        self.accesslogs = AccessLogs()
        self.children: dict[int, Child] = {}          # current generation, by worker id
        self.draining: list[Child] = []               # older generations being stopped
        self.generation = 0
        self.failed_starts: dict[int, int] = {}
        self.stopping = False
        self.starting: int | None = None              # the generation being started, if any
        self.exit_code = ExitCode.OK
        self.nursery: trio.Nursery | None = None
        self._stop_requested = trio.Event()
        self._graceful = True

    @property
    def workers(self) -> int:
        return self.config.workers or os.cpu_count() or 1

    @property
    def _serving(self) -> int:
        return sum(1 for worker_id in self.children if worker_id != KEYMGR)

    # -- the main loop ---------------------------------------------------------

    async def run(self) -> int:
        async with trio.open_nursery() as nursery:
            self.nursery = nursery
            await nursery.start(self._signals)
            if await self._start_generation():
                notify.send("READY=1", f"STATUS=serving with {self._serving} workers")
                log.info(f"serving with {self._serving} worker(s)")
                await self._stop_requested.wait()
            elif self.exit_code == ExitCode.OK and not self._stop_requested.is_set():
                self.exit_code = ExitCode.BOOT_ERROR
            await self._stop(graceful=self._graceful)
            nursery.cancel_scope.cancel()
        return self.exit_code

    async def _signals(self, task_status=trio.TASK_STATUS_IGNORED) -> None:
        with trio.open_signal_receiver(signal.SIGTERM, signal.SIGINT, signal.SIGQUIT, signal.SIGHUP,
                                       signal.SIGUSR1) as sigs:
            task_status.started()
            async for signum in sigs:
                if signum == signal.SIGUSR1:  # keymgr reads the certificates again; the app may hear it
                    self._signal_all(signal.SIGUSR1)
                elif signum == signal.SIGHUP:
                    if not self._stop_requested.is_set():
                        await self._reload()
                elif signum == signal.SIGQUIT:
                    log.info("SIGQUIT: stopping at once")
                    self.request_stop(graceful=False)
                else:
                    log.info(f"{signal.Signals(signum).name}: stopping gracefully")
                    self.request_stop()

    def request_stop(self, *, graceful: bool = True) -> None:
        self._graceful = self._graceful and graceful
        self._stop_requested.set()

    def fail(self, message: str) -> None:
        """Stop the server with an error."""
        log.error(message)
        self.exit_code = ExitCode.BOOT_ERROR
        self.request_stop()

    # -- generations -------------------------------------------------------------

    async def _start_generation(self) -> bool:
        """Start a full set of workers and wait until all are ready; a worker
        that dies before it is ready fails the whole start (Kore: "worker N
        failed to start")."""
        self.generation += 1
        self.starting = self.generation
        keymgr = [KEYMGR] if any(s.tls for s in self.config.servers) else []
        try:
            started = [await self._spawn(child_id) for child_id in keymgr + list(range(1, self.workers + 1))]
            with trio.move_on_after(START_TIMEOUT):
                while not all(c.ready.is_set() for c in started):
                    dead = next((c for c in started if c.exited.is_set()), None)
                    if dead is not None:
                        log.error(f"{dead.name} failed to start")
                        return False
                    if self._stop_requested.is_set():
                        return False
                    await trio.sleep(0.05)
                return True
            log.error(f"workers did not start within {START_TIMEOUT:.0f} s")
            return False
        finally:
            self.starting = None

    async def _reload(self) -> None:
        notify.send("RELOADING=1", f"MONOTONIC_USEC={int(trio.current_time() * 1e6)}")
        log.info("SIGHUP: reloading the configuration")
        try:
            config = self.reload_config()
        except KorepydError as exc:
            log.error(f"reload failed, still serving the previous configuration: {exc}")
            notify.send("READY=1")
            return
        old_config, old = self.config, dict(self.children)
        self.config = config
        try:
            self._update_listeners()
            self.accesslogs.open(config)
        except (KorepydError, OSError) as exc:
            log.error(f"reload failed, still serving the previous configuration: {exc}")
            self.config = old_config
            notify.send("READY=1")
            return
        self.children = {}
        if not await self._start_generation():
            log.error("reload failed: the new workers did not start; still serving the previous configuration")
            for child in self.children.values():
                self._stop_child(child, retire_after=config.http_keepalive_time)
            self.config, self.children = old_config, old
            notify.send("READY=1")
            return
        for child in old.values():
            self._stop_child(child, retire_after=old_config.http_keepalive_time)
        log.info(f"reloaded: generation {self.generation} serves")
        notify.send("READY=1", f"STATUS=serving with {self._serving} workers")

    def _update_listeners(self) -> None:
        """Keep the sockets of binds that remain (queued connections stay);
        open new ones; close those no longer configured once nothing uses them."""
        fresh = open_listeners(_only_new_binds(self.config, self.listeners), self.workers)
        keep = [lst for lst in self.listeners if _still_bound(lst, self.config)]
        for lst in self.listeners:
            if lst not in keep:
                lst.close()  # the old workers keep their own copies until they exit
        self.listeners = keep + fresh

    # -- children ------------------------------------------------------------------

    async def _spawn(self, worker_id: int) -> Child:
        parent_end, child_end = socket.socketpair()
        fds = [child_end.fileno()]
        passed = []
        if worker_id != KEYMGR and worker_id not in self.config.worker_no_accept:
            for lst in self.listeners:
                sock = lst.socket_for(worker_id)
                fds.append(sock.fileno())
                passed.append(ListenerFd(lst.server, lst.tls, sock.fileno(), sock.family))
        app_sockets = self.opts.app_sockets() if worker_id != KEYMGR else ()
        fds += [shared.fd for shared in app_sockets]
        boot = Boot(worker_id, self.generation, self.config, tuple(passed), os.getcwd(), self.opts.skip_chroot,
                    self.opts.skip_runas, self.opts.quiet, self.opts.app, self.opts.app_args, app_sockets)
        process = await trio.lowlevel.open_process(
            [sys.executable, "-m", "korepyd.keymgr" if worker_id == KEYMGR else "korepyd.worker",
             "--ipc", str(child_end.fileno())], pass_fds=fds, env=_child_environment())
        child_end.close()
        child = Child(worker_id, self.generation, process, Channel(parent_end))
        self.children[worker_id] = child
        await child.channel.send(Message(MsgId.BOOT, PARENT, worker_id, pickle.dumps(boot)))
        self.nursery.start_soon(self._watch, child)
        self.nursery.start_soon(self._receive, child)
        return child

    async def _watch(self, child: Child) -> None:
        status = await child.process.wait()
        child.exited.set()
        if child in self.draining:
            self.draining.remove(child)
        if self.children.get(child.worker_id) is not child:
            return  # an older generation's worker, stopped on purpose
        del self.children[child.worker_id]
        if self.stopping or child.stopping:
            return
        if child.generation == self.starting and not child.ready.is_set():
            return  # a failed start: _start_generation reports it
        log.warning(f"{child.name} (#{child.pid}) {_describe_exit(status)}")
        await self._after_death(child)

    async def _after_death(self, child: Child) -> None:
        if self.config.worker_death_policy == "terminate":
            self.fail("worker_death_policy is terminate: stopping the server")
            return
        failed = self.failed_starts.get(child.worker_id, 0) + (0 if child.ready.is_set() else 1)
        self.failed_starts[child.worker_id] = failed
        if failed >= FAILED_STARTS_MAX:
            self.fail(f"{child.name} failed to start {failed} times in a row; stopping "
                      "(its messages above say why)")
            return
        await trio.sleep(0.1 * (2 ** failed - 1))  # no delay after a crash of a worker that served
        if not self.stopping:
            log.info(f"restarting {child.name}")
            await self._spawn(child.worker_id)

    async def _receive(self, child: Child) -> None:
        while (msg := await child.channel.receive()) is not None:
            if msg.id == MsgId.READY:
                self.failed_starts[child.worker_id] = 0
                child.ready.set()
            elif msg.id == MsgId.ACCESSLOG:
                self.accesslogs.write(msg.payload, child.worker_id)
            elif msg.id == MsgId.SHUTDOWN:
                log.info(f"worker {child.worker_id} asked the server to stop")
                self.request_stop()
            elif msg.id == MsgId.FATALX:
                reason = msg.payload.decode("utf-8", "replace")
                log.error(f"worker {child.worker_id} stopped the server: {reason}")
                self.exit_code = ExitCode.FATAL
                self.request_stop()
            else:
                await self._relay(child, msg)

    async def _relay(self, sender: Child, msg: Message) -> None:
        msg = Message(msg.id, sender.worker_id, msg.dst, msg.payload)  # a child cannot lie about its id
        for worker_id in destinations(msg, self.children):
            try:
                await self.children[worker_id].channel.send(msg)
            except (trio.BrokenResourceError, trio.ClosedResourceError, KeyError):
                pass  # it died meanwhile; _watch reports that

    def _stop_child(self, child: Child, *, retire_after: float | None = None) -> None:
        """Tell a child to stop gracefully (STOP) or, with `retire_after` (the
        http_keepalive_time of its configuration), a worker to retire
        (RETIRE: its kept-alive connections get one more request, so it may
        take that much longer). A child already draining may be told again:
        a STOP after a RETIRE makes the retirement a stop."""
        child.stopping = True
        if child not in self.draining:
            self.draining.append(child)
        retire = retire_after is not None and child.worker_id != KEYMGR
        timeout = STOP_TIMEOUT + (retire_after if retire else 0.0)
        self.nursery.start_soon(self._send_stop, child, MsgId.RETIRE if retire else MsgId.STOP, timeout)

    async def _send_stop(self, child: Child, msg_id: MsgId, timeout: float) -> None:
        try:
            await child.channel.send(Message(msg_id, PARENT, child.worker_id))
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            return
        with trio.move_on_after(timeout):
            await child.exited.wait()
            return
        log.warning(f"{child.name} (#{child.pid}) did not stop in {timeout:.0f} s; killed")
        _kill(child.process, signal.SIGKILL)

    async def _stop(self, graceful: bool) -> None:
        self.stopping = True
        notify.send("STOPPING=1")
        everyone = list(self.children.values()) + self.draining
        if graceful:
            for child in everyone:  # the draining too: their retirement becomes a stop
                if not child.exited.is_set():
                    self._stop_child(child)
        else:
            self._signal_all(signal.SIGQUIT)
        with trio.move_on_after(STOP_TIMEOUT if graceful else 2.0):
            for child in everyone:
                await child.exited.wait()
        for child in everyone:
            if not child.exited.is_set():
                _kill(child.process, signal.SIGKILL)
        for child in everyone:
            await child.process.wait()

    def _signal_all(self, signum: int) -> None:
        for child in list(self.children.values()) + self.draining:
            _kill(child.process, signum)


def _child_environment() -> dict[str, str]:
    """The children's environment: the parent's, with korepyd's OpenSSL
    configuration unless the user chose one."""
    return {"OPENSSL_CONF": OPENSSL_CNF, **os.environ}


def _kill(process: trio.Process, signum: int) -> None:
    try:
        process.send_signal(signum)
    except ProcessLookupError:
        pass


def _describe_exit(status: int) -> str:
    if status < 0:
        return f"was killed by {signal.Signals(-status).name}"
    return f"exited with status {status}"


def _bind_key(bind) -> tuple:
    return ("unix", bind.path) if isinstance(bind, model.UnixBind) else ("tcp", bind.host, bind.port)


def _still_bound(listener: Listener, config: model.Config) -> bool:
    return any(_bind_key(b) == _bind_key(listener.bind) and s.name == listener.server and s.tls == listener.tls
               for s in config.servers for b in s.binds)


def _only_new_binds(config: model.Config, existing: list[Listener]) -> model.Config:
    from dataclasses import replace

    have = {(lst.server, lst.tls, _bind_key(lst.bind)) for lst in existing}
    servers = tuple(replace(s, binds=tuple(b for b in s.binds if (s.name, s.tls, _bind_key(b)) not in have))
                    for s in config.servers)
    return replace(config, servers=servers)
