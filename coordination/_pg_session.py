"""Things tied to a PostgreSQL session: the shared LISTEN connection, and leadership by advisory lock."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

import asyncpg

from ._local import FanOut
from ._postgres import PostgresDatabase, advisory_key

if TYPE_CHECKING:
    from asyncpg.connection import Connection

log = logging.getLogger(__name__)
CONNECTION_ERRORS = (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError)
"""What a lost or refused connection raises."""
STEP_BACK_POLLS = 10
"""How many polls a leader that lost its connection waits before seeking leadership again."""
MAX_PAYLOAD_BYTES = 7000
"""What the port promises a message may hold (PostgreSQL refuses NOTIFY payloads from 8,000 bytes)."""


def channel_name(name: str) -> str:
    """The PostgreSQL channel for a port channel: readable, and distinct for distinct names.

    Channels are identifiers, cut at 63 bytes by the server; a readable ASCII prefix plus a hash of the whole name
    stays under that, so two long names never meet on one channel.
    """
    readable = re.sub(r"[^A-Za-z0-9_.:-]", "_", name)[:32]
    return f"hb.{readable}.{hashlib.blake2b(name.encode(), digest_size=8).hexdigest()}"


class Listener:
    """One dedicated connection that LISTENs for every subscriber of this process, fanned out in memory.

    Reconnected when it drops; what was published while it was down is lost for these subscribers (NOTIFY is not
    durable: what must not be lost goes in a table, and a subscriber resynchronises from it).
    """

    def __init__(self, database: PostgresDatabase, retry_seconds: float = 1.0) -> None:
        self._database = database
        self._retry_seconds = retry_seconds
        self._connection: Connection[asyncpg.Record] | None = None
        self._channels: dict[str, int] = {}
        self._guard = asyncio.Lock()
        self._fan_out = FanOut()
        self._reconnecting: asyncio.Task[None] | None = None

    @asynccontextmanager
    async def subscribe(self, channel: str) -> AsyncIterator[AsyncIterator[str]]:
        """The messages of ``channel`` from the moment its LISTEN is in place until the block ends."""
        pg_channel = channel_name(channel)
        # Into the fan-out first: a notification that arrives as soon as LISTEN returns has somewhere to go.
        async with self._fan_out.subscribe(pg_channel) as messages:
            await self._listen(pg_channel)
            try:
                yield messages
            finally:
                await self._unlisten(pg_channel)

    async def _listen(self, pg_channel: str) -> None:
        async with self._guard:
            connection = await self._connected()
            if self._channels.get(pg_channel, 0) == 0:
                await connection.add_listener(pg_channel, self._deliver)
            self._channels[pg_channel] = self._channels.get(pg_channel, 0) + 1

    async def _unlisten(self, pg_channel: str) -> None:
        async with self._guard:
            self._channels[pg_channel] -= 1
            if self._channels[pg_channel] > 0:
                return
            del self._channels[pg_channel]
            if self._connection is not None and not self._connection.is_closed():
                with contextlib.suppress(*CONNECTION_ERRORS):
                    await self._connection.remove_listener(pg_channel, self._deliver)

    async def _connected(self) -> Connection[asyncpg.Record]:
        if self._connection is None or self._connection.is_closed():
            self._connection = await self._database.connect()
            self._connection.add_termination_listener(self._lost)
        return self._connection

    def _deliver(self, connection: object, pid: int, pg_channel: str, payload: object) -> None:
        self._fan_out.publish(pg_channel, str(payload))

    def _lost(self, connection: object) -> None:
        if self._channels and self._reconnecting is None:
            log.warning("the LISTEN connection dropped: reconnecting (notifications meanwhile are lost)")
            self._reconnecting = asyncio.get_running_loop().create_task(self._reconnect())

    async def _reconnect(self) -> None:
        try:
            while self._channels:
                try:
                    async with self._guard:
                        self._connection = None
                        connection = await self._connected()
                        for pg_channel in self._channels:
                            await connection.add_listener(pg_channel, self._deliver)
                    return
                except CONNECTION_ERRORS as exc:
                    log.warning("LISTEN connection not back yet (%s); retrying", type(exc).__name__)
                    await asyncio.sleep(self._retry_seconds)
        finally:
            self._reconnecting = None

    async def aclose(self) -> None:
        """Stop listening and close the connection."""
        if self._reconnecting is not None:
            self._reconnecting.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reconnecting
        self._channels.clear()
        if self._connection is not None:
            await self._connection.close()
            self._connection = None


class Leadership:
    """``lead``: a session-level advisory lock on a dedicated connection, polled with ``pg_try_advisory_lock``.

    The server frees the lock when the connection ends (the process died, the network dropped), and the connection is
    checked every poll, so the other workers take over within about one poll of a leader's loss (the lost leader
    steps back for :data:`STEP_BACK_POLLS` polls first), and the lost leader's work is cancelled within about one
    poll too. Two leaders can overlap by up to a poll, while a lost leader's work is being cancelled: work that
    must never run twice at once takes a :meth:`lock` or a claim for each item as well.
    """

    def __init__(self, database: PostgresDatabase, poll_seconds: float = 1.0) -> None:
        self._database = database
        self.poll_seconds = poll_seconds

    async def lead(self, name: str, work: Callable[[], Awaitable[None]]) -> None:
        """Run ``work`` while leader of ``name``; seek leadership again whenever it is lost."""
        key = advisory_key(f"lead:{name}")
        while True:
            connection = await self._connect(name)
            try:
                if not await self._wait_for_lock(connection, key):
                    log.warning("lost the connection seeking the leadership of %s; reconnecting", name)
                    await asyncio.sleep(self.poll_seconds)
                    continue
                log.info("leading %s", name)
                if await self._run_while_connected(connection, work):
                    return
            finally:
                await _close_quietly(connection)
            log.warning(
                "lost the leadership of %s (its connection dropped); stepping back, then seeking it again", name
            )
            # A worker whose connection just dropped is the likeliest to lose it again: let a healthy one take over.
            await asyncio.sleep(self.poll_seconds * STEP_BACK_POLLS)

    async def _connect(self, name: str) -> Connection[asyncpg.Record]:
        while True:
            try:
                return await self._database.connect()
            except CONNECTION_ERRORS as exc:
                log.warning("cannot connect to seek the leadership of %s (%s); retrying", name, type(exc).__name__)
                await asyncio.sleep(self.poll_seconds)

    async def _wait_for_lock(self, connection: Connection[asyncpg.Record], key: int) -> bool:
        """``True`` once the lock is ours, ``False`` if the connection was lost while waiting."""
        # Polled rather than pg_advisory_lock: a blocked query would not notice its own connection dying.
        while True:
            try:
                if await connection.fetchval("SELECT pg_try_advisory_lock($1)", key):
                    return True
            except CONNECTION_ERRORS:
                return False
            await asyncio.sleep(self.poll_seconds)

    async def _run_while_connected(
        self, connection: Connection[asyncpg.Record], work: Callable[[], Awaitable[None]]
    ) -> bool:
        """``True`` if ``work`` ended by itself (its exception, if any, raised), ``False`` if leadership was lost."""
        working = asyncio.ensure_future(work())
        watching = asyncio.ensure_future(self._watch(connection))
        try:
            await asyncio.wait({working, watching}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (working, watching):
                task.cancel()
            await asyncio.gather(working, watching, return_exceptions=True)
        if working.done() and not working.cancelled():
            working.result()
            return True
        return False

    async def _watch(self, connection: Connection[asyncpg.Record]) -> None:
        """Return once the connection (and so the lock) is gone."""
        lost = asyncio.Event()
        connection.add_termination_listener(lambda _: lost.set())
        while not lost.is_set() and not connection.is_closed():
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.poll_seconds):
                    await lost.wait()
            try:
                async with asyncio.timeout(self.poll_seconds * 5):
                    await connection.fetchval("SELECT 1")
            except CONNECTION_ERRORS:
                return


async def _close_quietly(connection: Connection[asyncpg.Record]) -> None:
    # A dead connection may fail to close politely; terminate() frees it locally whatever the server's state.
    try:
        async with asyncio.timeout(5):
            await connection.close()
    except CONNECTION_ERRORS:
        connection.terminate()
