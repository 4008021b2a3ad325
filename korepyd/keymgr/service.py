"""keymgr's trio loop: answer workers' requests for key material, push
new material to every worker when it changes, and stop when told.

The material of a domain with `acme yes` comes from korepyd.keymgr.acme:
what is stored, or a self-signed placeholder until the CA has issued a
certificate.

Layer: role (keymgr).
"""

from __future__ import annotations

import os
import signal
import socket

import trio

from korepyd import log
from korepyd.config import model
from korepyd.ipc import KEYMGR, PARENT, WORKER_ALL, Message, MsgId
from korepyd.ipc.channel import Channel
from korepyd.ipc.keymaterial import Certificate, Challenge
from korepyd.keymgr.material import MaterialError, load_files, refresh_rand_file, tls_domains

ACK_TIMEOUT = 5.0   # seconds the workers get to install an ACME challenge


class KeyManager:
    def __init__(self, config: model.Config):
        self.config = config
        self.domains = tls_domains(config)
        self.material: dict[str, Certificate] = {}
        self.challenges: dict[tuple[str, str], Challenge] = {}     # (kind, token) -> live challenge
        self.acks: dict[str, set[int]] = {}                         # token -> workers that installed it
        self._acked = trio.Event()
        self.channel: Channel | None = None
        self.acme = None                                            # a keymgr.acme.Acme with acme domains

    @classmethod
    def before_privsep(cls, config: model.Config) -> KeyManager:
        """Read what lives outside keymgr's root (acme_ca_root)."""
        manager = cls(config)
        if any(d.acme for d in manager.domains):
            from korepyd.keymgr.acme import Acme

            manager.acme = Acme.before_privsep(config, manager)
        return manager

    def load(self) -> None:
        """Read every domain's material (after privsep: paths are relative
        to keymgr's root)."""
        if self.config.rand_file:
            refresh_rand_file(self.config.rand_file)
        for domain in self.domains:
            if domain.acme:
                self.material[domain.name] = self.acme.load(domain.name)
            else:
                self.material[domain.name] = load_files(domain)

    @property
    def workers(self) -> int:
        return self.config.workers or os.cpu_count() or 1

    async def run(self, ipc: socket.socket, pending: bytes) -> None:
        self.channel = Channel(ipc, pending)
        async with trio.open_nursery() as nursery:
            nursery.start_soon(self._signals, nursery.cancel_scope)
            await self.channel.send(Message(MsgId.READY, KEYMGR, PARENT, str(os.getpid()).encode()))
            if self.acme is not None:
                nursery.start_soon(self.acme.run)
            await self._messages()
            nursery.cancel_scope.cancel()

    async def _messages(self) -> None:
        while (msg := await self.channel.receive()) is not None:
            if msg.id == MsgId.STOP:
                return
            if msg.id == MsgId.CERTIFICATE_REQ:
                await self._send_all(msg.src)
            elif msg.id == MsgId.ACME_CHALLENGE_SET:
                self.acks.setdefault(msg.payload.decode("ascii", "replace"), set()).add(msg.src)
                self._acked.set()

    async def _signals(self, scope: trio.CancelScope) -> None:
        """SIGUSR1 (passed on by the parent): read the files again; SIGTERM: stop."""
        with trio.open_signal_receiver(signal.SIGUSR1, signal.SIGTERM) as signals:
            async for signum in signals:
                if signum == signal.SIGTERM:
                    scope.cancel()
                    return
                await self.reload()

    async def reload(self) -> None:
        log.info("SIGUSR1: reading the certificates again")
        for domain in self.domains:
            if domain.acme:
                continue
            try:
                fresh = load_files(domain)
            except MaterialError as exc:
                log.error(f"{exc}; the workers keep the certificate they have")
                continue
            if fresh != self.material.get(domain.name):
                await self.install(fresh)

    async def install(self, material: Certificate) -> None:
        """New material for a domain: every worker swaps its context."""
        self.material[material.domain] = material
        await self.channel.send(Message(MsgId.CERTIFICATE, KEYMGR, WORKER_ALL, material.encode()))
        log.info(f"domain {material.domain}: certificate sent to the workers")

    async def _send_all(self, worker: int) -> None:
        for material in self.material.values():
            await self.channel.send(Message(MsgId.CERTIFICATE, KEYMGR, worker, material.encode()))
        for challenge in self.challenges.values():
            await self.channel.send(Message(MsgId.ACME_CHALLENGE, KEYMGR, worker, challenge.encode()))

    # -- ACME challenges, answered by the workers ------------------------------------------

    async def present(self, challenge: Challenge) -> None:
        """Have every worker answer `challenge`; return once they all said
        so (or ACK_TIMEOUT passed: a worker starting meanwhile gets it
        with its material)."""
        self.challenges[(challenge.kind, challenge.token)] = challenge
        self.acks[challenge.token] = set()
        await self.channel.send(Message(MsgId.ACME_CHALLENGE, KEYMGR, WORKER_ALL, challenge.encode()))
        with trio.move_on_after(ACK_TIMEOUT):
            while len(self.acks[challenge.token]) < self.workers:
                self._acked = trio.Event()
                await self._acked.wait()
            return
        log.warning(f"ACME: {len(self.acks[challenge.token])} of {self.workers} workers installed the "
                    f"{challenge.kind} challenge for {challenge.domain} in {ACK_TIMEOUT:.0f} s; going on")

    async def clear(self, challenge: Challenge) -> None:
        self.challenges.pop((challenge.kind, challenge.token), None)
        self.acks.pop(challenge.token, None)
        await self.channel.send(Message(MsgId.ACME_CHALLENGE_CLEAR, KEYMGR, WORKER_ALL, challenge.encode()))
