"""Several ``hitl-bridge serve`` workers as real processes, the fakes around them, and a round-robin proxy.

:class:`Cluster` starts the fake Botpress (:mod:`tests.e2e.botpress_server`) and N workers, each on its own port
(so a test decides which worker gets what), all on one database; :class:`RoundRobinProxy` is the load balancer, in
the test's own event loop; :class:`Runtime` is what the Botpress runtime does: operations with its headers, to the
proxy or to one worker. A worker can be killed (``kill -9``) and started again on the same port.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import signal
import sys
import uuid
from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from aiohttp import web

from tests import pg
from tests.contracts.botpress import TEST_TOKEN
from tests.factories import WEBHOOK_ID, action_body, message_created_body, runtime_headers
from tests.live import free_port

from .conftest import HOST, Process, child_env, hitl_bridge_script, wait_ready


@asynccontextmanager
async def fresh_database_url() -> AsyncIterator[str]:
    """A new, empty database for one test (:func:`tests.pg.fresh_database`), as the URL a worker is given."""
    async with pg.fresh_database() as url:
        yield url.get_secret_value()


# --- processes ------------------------------------------------------------------------------------------------


@dataclass
class Worker:
    """One ``hitl-bridge serve`` process on its own port; :meth:`kill` and :meth:`start` may be repeated."""

    number: int
    port: int
    argv: list[str]
    env: dict[str, str]
    log_dir: Path
    process: Process | None = None
    starts: int = 0

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def start(self) -> None:
        """Start the process (once the previous one, if any, is gone)."""
        self.starts += 1
        log_path = self.log_dir / f"worker{self.number}-{self.starts}.log"
        self.process = Process(f"worker {self.number}", self.argv, log_path, self.env)

    def wait_ready(self) -> None:
        assert self.process is not None
        wait_ready(self.process, f"{self.url}/health")

    def kill(self) -> None:
        """``kill -9``: no cleanup at all."""
        assert self.process is not None
        self.process.popen.send_signal(signal.SIGKILL)
        self.process.popen.wait(10)
        self.process.stop()

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop()

    def logs(self) -> str:
        return "\n".join(f"--- {p.name}\n{p.read_text(errors='replace')[-4000:]}" for p in self.log_dir.glob("*.log"))


@dataclass
class Cluster:
    """The fake Botpress, the workers and (for tests that want it) the round-robin proxy in front of them."""

    botpress_url: str
    workers: list[Worker]
    processes: list[Process] = field(default_factory=list)

    def start_all(self) -> None:
        for worker in self.workers:
            worker.start()
        for worker in self.workers:
            worker.wait_ready()

    def restart(self, worker: Worker) -> None:
        worker.start()
        worker.wait_ready()

    def stop(self) -> None:
        for worker in self.workers:
            worker.stop()
        for process in self.processes:
            process.stop()

    def logs(self) -> str:
        return "\n".join(worker.logs() for worker in self.workers[:1]) + "\n".join(
            worker.logs() for worker in self.workers[1:]
        )


def start_botpress(tmp_path: Path, delay_ms: float = 0.0, *, checked: bool = True) -> tuple[str, Process]:
    """The fake Botpress server; its URL and process (the caller stops it). ``checked=False``: benchmarks only."""
    port = free_port()
    argv = [sys.executable, "-m", "tests.e2e.botpress_server", "--port", str(port), "--delay-ms", str(delay_ms)]
    argv += [] if checked else ["--unchecked"]
    process = Process("fake Botpress", argv, tmp_path / "botpress.log", child_env())
    url = f"http://{HOST}:{port}"
    wait_ready(process, f"{url}/_test/violations")
    return url, process


def worker_env(botpress_url: str, adapter: str, database_url: str | None, **extra: str) -> dict[str, str]:
    """A worker serving "real" Botpress (the fake) with a token, on loopback without a secret path."""
    env = {
        "BP_TOKEN": TEST_TOKEN,
        "BP_API_URL": f"{botpress_url}",
        "HITL_BRIDGE_INSECURE": "true",
        "HITL_BRIDGE_ADAPTER": adapter,
        "HITL_BRIDGE_CONSOLE": "true" if adapter == "inbox" else "false",
        "HITL_BRIDGE_ALLOW_VENDOR_BASE_URLS": "true",  # the fake Zendesk is on loopback
        "HITL_BRIDGE_RETRY_MAX_WAIT_SECONDS": "0.5",
        "HITL_BRIDGE_LOG_LEVEL": "INFO",
        **extra,
    }
    if database_url is not None:
        env["HITL_BRIDGE_DATABASE_URL"] = database_url
    return child_env(**env)


def make_workers(count: int, tmp_path: Path, env: dict[str, str], *, shared_data_dir: bool) -> list[Worker]:
    """``count`` workers, each on its own port; each its own data folder unless ``shared_data_dir``."""
    workers = []
    for number in range(1, count + 1):
        data_dir = tmp_path / ("bridge-data" if shared_data_dir else f"bridge-data-{number}")
        port = free_port()
        argv = [str(hitl_bridge_script()), "serve", "--host", HOST, "--port", str(port), "--data-dir", str(data_dir)]
        log_dir = tmp_path / f"worker{number}"
        log_dir.mkdir(exist_ok=True)
        workers.append(Worker(number, port, argv, env, log_dir))
    return workers


@contextmanager
def cluster(
    tmp_path: Path,
    *,
    count: int,
    adapter: str,
    database_url: str | None,
    delay_ms: float = 0.0,
    settings: Mapping[str, str] | None = None,
    **extra: str,
) -> Iterator[Cluster]:
    """The fake Botpress and ``count`` started workers; everything stopped at the end, whatever happens.

    ``settings`` and ``extra`` are more environment variables of the workers."""
    botpress_url, botpress = start_botpress(tmp_path, delay_ms)
    env = worker_env(botpress_url, adapter, database_url, **{**(settings or {}), **extra})
    workers = make_workers(count, tmp_path, env, shared_data_dir=database_url is None)
    running = Cluster(botpress_url, workers, [botpress])
    try:
        running.start_all()
        yield running
    finally:
        running.stop()


# --- the load balancer ----------------------------------------------------------------------------------------


class RoundRobinProxy:
    """A small HTTP load balancer: each request to the next worker, as nginx's default ``proxy_next_upstream``
    does: a worker that refuses the connection is skipped (the request never reached it); any other failure
    is a 502 (it may have acted)."""

    def __init__(self, backends: list[str]) -> None:
        self.backends = backends
        self._turn = itertools.count()
        self._http: httpx.AsyncClient | None = None
        self._runner: web.AppRunner | None = None
        self.url = ""

    async def start(self) -> None:
        self._http = httpx.AsyncClient(timeout=60.0, trust_env=False)
        app = web.Application(client_max_size=32 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._forward)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        port = free_port()
        await web.TCPSite(self._runner, HOST, port).start()
        self.url = f"http://{HOST}:{port}"

    async def aclose(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
        if self._http is not None:
            await self._http.aclose()

    async def _forward(self, request: web.Request) -> web.Response:
        assert self._http is not None
        body = await request.read()
        headers = {k: v for k, v in request.headers.items() if k.lower() not in ("host", "content-length")}
        for _ in range(len(self.backends)):
            backend = self.backends[next(self._turn) % len(self.backends)]
            try:
                answer = await self._http.request(
                    request.method, backend + request.path_qs, headers=headers, content=body
                )
            except httpx.ConnectError:
                continue
            except httpx.HTTPError:
                return web.Response(status=502, text="bad gateway")
            kept = {k: v for k, v in answer.headers.items() if k.lower() == "content-type"}
            return web.Response(status=answer.status_code, body=answer.content, headers=kept)
        return web.Response(status=502, text="no worker answered")


@asynccontextmanager
async def round_robin(workers: list[Worker]) -> AsyncIterator[RoundRobinProxy]:
    """A started :class:`RoundRobinProxy` in front of ``workers``."""
    proxy = RoundRobinProxy([worker.url for worker in workers])
    await proxy.start()
    try:
        yield proxy
    finally:
        await proxy.aclose()


# --- the runtime ----------------------------------------------------------------------------------------------


class Runtime:
    """What the Botpress runtime does with an integration: operations, with one installation's headers."""

    def __init__(self, http: httpx.AsyncClient, botpress_url: str, configuration: dict[str, Any]) -> None:
        self.http, self.botpress_url, self.configuration = http, botpress_url, configuration
        self.webhook_url = f"{botpress_url}/webhook/{WEBHOOK_ID}"

    def headers(self, operation: str) -> dict[str, str]:
        return runtime_headers(operation, self.configuration)

    async def call(self, url: str, operation: str, body: str) -> httpx.Response:
        """One operation to ``url`` (a worker or the proxy)."""
        return await self.http.post(f"{url}/", content=body, headers=self.headers(operation))

    async def relay_to(self, url: str) -> None:
        """Make the fake Botpress relay helpdesk webhooks to ``url`` with this installation's headers."""
        headers = self.headers("webhook_received")
        answer = await self.http.post(f"{self.botpress_url}/_test/integration", json={"url": url, "headers": headers})
        answer.raise_for_status()

    async def register(self, url: str) -> None:
        answer = await self.call(url, "register", json.dumps({"webhookUrl": self.webhook_url}))
        assert answer.status_code == 200, answer.text

    async def action(self, url: str, name: str, action_input: dict[str, Any]) -> httpx.Response:
        return await self.call(url, "action_triggered", action_body(name, action_input))

    async def create_user(self, url: str, name: str, email: str) -> str:
        answer = await self.action(url, "createUser", {"name": name, "email": email})
        assert answer.status_code == 200, answer.text
        user_id: str = answer.json()["output"]["userId"]
        return user_id

    async def seed_and_message(self, url: str, body: str) -> httpx.Response:
        """``message_created`` as the runtime sends it: the message is stored in Botpress first."""
        await self.seed(body)
        return await self.call(url, "message_created", body)

    async def seed(self, body: str) -> None:
        answer = await self.http.post(f"{self.botpress_url}/_test/seed_message", content=body)
        answer.raise_for_status()

    async def state(self) -> dict[str, Any]:
        answer = await self.http.get(f"{self.botpress_url}/_test/state")
        answer.raise_for_status()
        result: dict[str, Any] = answer.json()
        return result

    async def violations(self) -> list[str]:
        answer = await self.http.get(f"{self.botpress_url}/_test/violations")
        found: list[str] = answer.json()["violations"]
        return found


def hitl_text_body(
    bp_conversation_id: str, external_session_id: str, bp_user_id: str, bp_message_id: str, text: str
) -> str:
    """A ``message_created`` of the hitl channel: a text the end user wrote, relayed by the plugin to the helpdesk."""
    return message_created_body(
        bp_conversation_id=bp_conversation_id,
        external_session_id=external_session_id,
        bp_message_id=bp_message_id,
        message_type="text",
        payload={"text": text, "userId": bp_user_id},
    )


def new_bp_message_id() -> str:
    """A Botpress message id nobody used."""
    return f"msg_01JE2E{uuid.uuid4().hex[:22].upper()}"


def new_token(prefix: str) -> str:
    """A unique marker to count by: a message carrying it must arrive exactly once."""
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


async def gather_statuses(*answers: Any) -> list[int]:
    """The statuses of concurrent requests (an exception counts as no answer: 0)."""
    results = await asyncio.gather(*answers, return_exceptions=True)
    return [r.status_code if isinstance(r, httpx.Response) else 0 for r in results]
