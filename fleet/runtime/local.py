"""`fleet up`: the embedded AWS (moto's server), the API and a poller for every trigger."""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from events.topology import TOPOLOGY, PipeTrigger, SqsTrigger, StreamTrigger, Topology
from fleet.runtime.queues import QueuePoller
from fleet.runtime.stats import SnapshotWriter, read_snapshot, runtime_stats
from fleet.runtime.streams import StreamPoller
from fleet.status import queue_status

log = logging.getLogger("fleet.runtime")


class EmbeddedAws:
    """moto's server in this process, on loopback (DynamoDB's requests forwarded to `dynamodb_url` when given)."""

    def __init__(self, host: str = "127.0.0.1", port: int = 4566, dynamodb_url: str | None = None) -> None:
        self.host = host
        self.port = port
        #: The moto that serves DynamoDB and its streams (`fleet.runtime.moto_split`), or None: this one.
        self.dynamodb_url = dynamodb_url
        self._server: Any = None

    @property
    def endpoint_url(self) -> str:
        """The URL that boto3 clients point at."""
        return f"http://{self.host}:{self.port}"

    def start(self) -> None:
        """Start serving; return once the port answers."""
        from fleet.runtime import (
            dynamodb_expressions,
            dynamodb_json,
            dynamodb_queries,
            dynamodb_transactions,
            moto_dispatch,
            moto_iam,
            ses_feedback,
            sns_delivery,
            sqs_depth,
        )
        from fleet.runtime.moto_server import MotoServer

        sqs_depth.install()  # a call costs the messages it touches, not the queue's depth
        sns_delivery.install()  # each SNS subscription delivered on its own, as on AWS
        dynamodb_transactions.install()  # a transaction costs its items, not its tables
        dynamodb_expressions.install()  # an update expression parsed once, a condition lexed once, not per call
        dynamodb_queries.install()  # a Query reads its partition, or the items unsorted, not the table sorted
        dynamodb_json.install()  # an item call read and written as JSON, not through a model of every shape
        ses_feedback.install()  # a configuration set's events published, and the mailbox simulator, as SES does
        moto_iam.install()  # under IAM enforcement (moto_iam.enforce), AWS's refusals and error codes; inert until then
        moto_dispatch.install()  # a request routed at its own cost, not at the cost of moto's package
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        wrap = None
        if self.dynamodb_url:
            from fleet.runtime.moto_split import ForwardDynamoDb

            url = self.dynamodb_url
            wrap = lambda app: ForwardDynamoDb(app, url)  # noqa: E731
        self._server = MotoServer(self.host, self.port, wrap)  # connections kept open, as AWS's endpoints keep them
        self._server.start()

    def stop(self) -> None:
        """Stop serving; everything it held is gone."""
        if self._server is not None:
            self._server.stop()
            self._server = None


class ApiServer:
    """The Flask API on a threaded Werkzeug server, bounded as `ingest_api.server` says."""

    def __init__(self, host: str = "127.0.0.1", port: int = 8080, app: Any = None) -> None:
        from ingest_api.server import make_api_server
        from lambda_platform import settings

        if app is None:
            from ingest_api.services import prepare

            app = local_app()
            prepare(app)
        self._server = make_api_server(host, port, app, timeout=settings.current().request_timeout)
        self.port = self._server.server_port
        self.url = f"http://{host}:{self.port}"
        serve_local_issuer(app, self.url)
        self._thread = threading.Thread(target=self._server.serve_forever, name="api", daemon=True)

    def start(self) -> None:
        """Serve in a background thread."""
        self._thread.start()

    def stop(self) -> None:
        """Stop serving and wait for the thread."""
        self._server.shutdown()
        self._thread.join(timeout=5)


def local_app() -> Any:
    """The API as the local runtime serves it: its ports carry the live view's monitor."""
    from fleet.monitor import LocalMonitor
    from ingest_api import create_app
    from lambda_platform.composition import Ports

    return create_app({"SERVICES": Ports(monitor=LocalMonitor())})


def serve_local_issuer(app: Any, url: str) -> None:
    """On the local stage the API at `url` is its own development issuer of users' tokens."""
    from lambda_platform import access, settings

    # Its URL is known only once the port is.
    if settings.current().local and not settings.current().cognito_issuer:
        app.config.setdefault("LOCAL_ISSUER", access.local_issuer(url))
        access.signing_key(settings.current().state_dir)


class LocalRuntime:
    """Pollers for every trigger in the topology, started and stopped together."""

    def __init__(self, topology: Topology = TOPOLOGY, pollers_per_queue: int = 2, run_dir: str | None = None) -> None:
        from lambda_platform import settings

        self.topology = topology
        self.stop_event = threading.Event()
        #: Every trigger's counts, for the live view; written into `run_dir` (default: the
        #: settings', which `fleet up` sets) once a second, where the API reads them.
        self.stats = runtime_stats(self.stop_event)
        self.run_dir = settings.current().run_dir if run_dir is None else run_dir
        self._snapshots: SnapshotWriter | None = None
        self.pollers: list[QueuePoller] = []
        for function in topology.functions:
            for trigger in function.triggers:
                if isinstance(trigger, (SqsTrigger, PipeTrigger)):
                    count = trigger.maximum_concurrency if isinstance(trigger, SqsTrigger) else pollers_per_queue
                    self.pollers.extend(QueuePoller(function, trigger, self.stop_event, n) for n in range(1, count + 1))
        #: One poller per stream trigger: it steps through every shard of the table's stream.
        self.stream_pollers: list[StreamPoller] = [
            StreamPoller(function, trigger, self.stop_event)
            for function in topology.functions
            for trigger in function.triggers
            if isinstance(trigger, StreamTrigger)
        ]

    def start(self) -> None:
        """Start every poller (and the stats' snapshots, with a run directory)."""
        if self.run_dir:
            earlier = read_snapshot(self.run_dir)
            if earlier:  # a reloaded workers process: the chart goes on from the last one's counts
                self.stats.restore(earlier)
            self._snapshots = SnapshotWriter(self.stats, self.run_dir)
            self._snapshots.start()
        for poller in [*self.pollers, *self.stream_pollers]:
            poller.start()

    def stop(self) -> None:
        """Ask every poller to stop and wait for it to finish its batch."""
        self.stop_event.set()
        for poller in [*self.pollers, *self.stream_pollers]:
            poller.join(timeout=30)
        self.save_stats()

    def save_stats(self) -> None:
        """Write the stats' last snapshot and stop writing (once the pollers have finished their batches)."""
        if self._snapshots is not None:
            self._snapshots.stop()

    def busy(self) -> bool:
        """True while any poller is handling a batch."""
        return any(p.stats.busy for p in self.pollers) or any(p.stats.busy for p in self.stream_pollers)

    def drain(self, timeout: float = 60.0, settle: float = 0.3) -> bool:
        """Wait until every queue is empty, every shard caught up and every poller idle.

        A shard counts as caught up only after a poll begun once the queues were seen
        idle found nothing: a worker writes to a table before it deletes its message.
        Returns False on timeout.
        """
        deadline = time.monotonic() + timeout
        quiet_since: float | None = None
        consumed = {t.queue for f in self.topology.functions for t in f.triggers if isinstance(t, (SqsTrigger, PipeTrigger))}
        while time.monotonic() < deadline:
            # Only queues that a trigger consumes: an on-failure queue is a parking lot.
            idle = not self.busy() and all(q.idle for q in queue_status(self.topology) if q.name in consumed)
            if idle and any(p.stats.caught_up_at is None for p in self.stream_pollers):
                idle = False  # a shard had records (or a failed batch) on its last round
            if idle:
                quiet_since = quiet_since or time.monotonic()
                if time.monotonic() - quiet_since >= settle and all(p.caught_up_since(quiet_since) for p in self.stream_pollers):
                    return True
            else:
                quiet_since = None
            time.sleep(0.1)
        return False
