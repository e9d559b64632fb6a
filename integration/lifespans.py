"""Adapter lifespans: every adapter an installation may choose gets its backend, each started once per process.

The default adapter and the ones with web parts start with the server (their pages need them at once); any other
adapter starts on the first request that names it (``"adapter": "slack"`` on a server whose default is zendesk).
Every started lifespan is entered into one :class:`~contextlib.AsyncExitStack`, which app shutdown closes: in the
reverse order of their starts, after any start still under way has finished.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from contextlib import AsyncExitStack

from external_adapters import AdapterEnvironment
from external_adapters.registry import get_adapter_class

log = logging.getLogger(__name__)


class LifespansClosedError(RuntimeError):
    """An adapter was asked for after shutdown began: its lifespan would never be exited."""


class AdapterLifespans:
    """The process's adapter backends: what each adapter's ``lifespan`` yielded, by adapter name."""

    def __init__(self, stack: AsyncExitStack, env_for: Callable[[str], AdapterEnvironment]) -> None:
        self.backends: dict[str, object | None] = {}
        """Started adapters' backends: the very dict the web parts and the sandbox read (``ADAPTER_BACKENDS``)."""
        self._stack = stack
        self._env_for = env_for
        self._starting: dict[str, asyncio.Task[object | None]] = {}
        self._closed = False

    async def backend(self, adapter_name: str) -> object | None:
        """The adapter's backend, its lifespan started now if it has not been.

        Concurrent first requests share one start (one task per name). The start runs in a task of its own and
        the callers wait on it shielded: a request cancelled meanwhile (its client went away) leaves the start
        to finish and be registered for shutdown, never half-entered. A start that fails is tried again by the
        next request.

        Raises:
            LifespansClosedError: shutdown has begun.
        """
        if adapter_name in self.backends:
            return self.backends[adapter_name]
        task = self._starting.get(adapter_name)
        if task is None:
            if self._closed:
                raise LifespansClosedError(f"adapter {adapter_name} is not started: the server is shutting down")
            task = asyncio.create_task(self._enter(adapter_name), name=f"lifespan:{adapter_name}")
            self._starting[adapter_name] = task
        return await asyncio.shield(task)

    async def _enter(self, adapter_name: str) -> object | None:
        try:
            env = self._env_for(adapter_name)
            backend = await self._stack.enter_async_context(get_adapter_class(adapter_name).lifespan(env))
            self.backends[adapter_name] = backend
            log.info("adapter %s started", adapter_name)
            return backend
        finally:
            self._starting.pop(adapter_name, None)

    async def close(self) -> None:
        """Refuse new starts and wait for those under way, so that the stack's exit covers every lifespan."""
        self._closed = True
        pending = list(self._starting.values())
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)
