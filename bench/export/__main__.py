"""`make bench-export`: `fleet campaigns export` at 10,000 and 100,000 entries against moto.

A benchmark, not a test: it prints figures and asserts nothing. moto's server runs in this
process on a free port; the entries are written straight into the submissions table (as
workers.submissions stores them, one in two with a photo whose upload record is ready),
then each export runs as the operator runs it, `fleet campaigns export ID -o FILE`, in
a process of its own, whose peak resident memory (VmHWM, read as it exits: ru_maxrss
would count the memory of the process it was forked from) is printed with its rows/s and
its CPU time beside moto's. The floor is the same command on a campaign with no entries:
the interpreter, boto3 and click. Constant memory means the peak stays at the floor's,
whatever the count. CSV at every size; JSON lines at the smaller only, since moto
serialises a Query's items at a few ms each and the larger run is long already.
`--quick`: 1,000 and 10,000.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

from bench.machine import describe_machine, free_port
from bench.processes import ROOT, bench_env, cpu_seconds

#: Runs `fleet` and, as it exits, writes its peak resident memory (VmHWM) to argv[1].
PEAK_WRAPPER = (
    "import atexit, sys\n"
    "out = sys.argv.pop(1)\n"
    "def peak():\n"
    "    with open('/proc/self/status') as s, open(out, 'w') as o:\n"
    "        o.write(next(l.split()[1] for l in s if l.startswith('VmHWM')))\n"
    "atexit.register(peak)\n"
    "from fleet.cli import main\n"
    "main(sys.argv[1:], prog_name='fleet')\n"
)

WRITERS = 4


def entry(campaign_id: str, n: int) -> tuple[dict, dict | None]:
    """A stored entry of `campaign_id`, and its upload record for one in two."""
    submission_id = f"{campaign_id}-{n:07d}"
    item = {
        "submission_id": submission_id,
        "campaign_id": campaign_id,
        "first_name": "Ada",
        "last_name": f"Lovelace {n}",
        "email": f"ada.{n}@example.com",
        "email_lower": f"ada.{n}@example.com",
        "phone": "+44 20 7946 0958",
        "postal_code": "SW1A 1AA",
        "consent": True,
        "answers": {"store": "Main street", "size": "M"},
        "received_at": (datetime(2030, 1, 1, tzinfo=UTC) + timedelta(milliseconds=n)).isoformat(),
        "stored_at": (datetime(2030, 1, 1, 0, 5, tzinfo=UTC) + timedelta(milliseconds=n)).isoformat(),
        "status": "accepted",
    }
    if n % 2:
        return item, None
    upload_id = f"{n:032x}"
    item["upload_key"] = f"uploads/campaigns/{campaign_id}/{upload_id[:2]}/{upload_id}.jpg"
    return item, {"upload_id": upload_id, "key": item["upload_key"], "status": "ready", "campaign_id": campaign_id}


def store(campaign_id: str, count: int) -> float:
    """Write a campaign and its entries (and their uploads) in batches; return the seconds taken."""
    from events.models import Campaign
    from lambda_platform.adapters.dynamo import batch_put
    from lambda_platform.adapters.tables import DynamoCampaigns

    now = datetime.now(UTC)
    DynamoCampaigns().put(Campaign(campaign_id, campaign_id, now - timedelta(days=1), now + timedelta(days=7)))
    started = time.monotonic()

    def write(start: int) -> None:
        made = [entry(campaign_id, n) for n in range(start, min(start + 1000, count))]
        assert not batch_put("submissions", [e for e, _ in made], key="submission_id")
        assert not batch_put("uploads", [u for _, u in made if u], key="upload_id")

    with ThreadPoolExecutor(WRITERS) as pool:
        list(pool.map(write, range(0, count, 1000)))
    return time.monotonic() - started


def export(env: dict[str, str], campaign_id: str, fmt: str, target: str) -> tuple[float, int, float, float]:
    """Run the export as its own process; return its seconds, peak resident KiB, its CPU seconds and moto's."""
    peak_file = target + ".peak"
    argv = [sys.executable, "-c", PEAK_WRAPPER, peak_file, "campaigns", "export", campaign_id, "--format", fmt, "-o", target]
    moto_before = cpu_seconds(os.getpid())
    started = time.monotonic()
    process = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.monotonic() - started
    moto_cpu = cpu_seconds(os.getpid()) - moto_before
    if os.waitstatus_to_exitcode(status):
        # stderr is the pipe asked for above; Popen types it as optional.
        raise SystemExit(f"export of {campaign_id} failed: {process.stderr.read().decode()}")  # type: ignore[union-attr]
    with open(peak_file, encoding="ascii") as peak:
        peak_kib = int(peak.read())
    return elapsed, peak_kib, usage.ru_utime + usage.ru_stime, moto_cpu


def main() -> None:
    """Run the benchmark and print its table."""
    parser = argparse.ArgumentParser(prog="python -m bench.export", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1,000 and 10,000 entries instead of 10,000 and 100,000.")
    args = parser.parse_args()
    sizes = (1_000, 10_000) if args.quick else (10_000, 100_000)

    from fleet.provision import provision
    from fleet.runtime.local import EmbeddedAws
    from lambda_platform import aws, settings

    print(describe_machine())
    state = tempfile.mkdtemp(prefix="bench-export-")
    port = free_port()
    env = bench_env(port, state)
    os.environ.update({k: env[k] for k in ("FLEET_STAGE", "AWS_ENDPOINT_URL", "FLEET_STATE_DIR")})
    for name in ("AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        os.environ.pop(name, None)
    settings.reset()
    aws.reset()
    server = EmbeddedAws(port=port)
    server.start()
    try:
        provision()
        campaigns = {"bench-empty": 0, **{f"bench-{n}": n for n in sizes}}
        for campaign_id, count in campaigns.items():
            seconds = store(campaign_id, count)
            if count:
                print(f"stored {count:,} entries ({count // 2:,} with a photo) in {seconds:.1f} s")
        print(
            f"{'format':6} {'entries':>8} {'seconds':>8} {'rows/s':>7} {'peak RSS':>10} {'file':>9} {'CPU s':>6} {'moto CPU s':>10}"
        )
        runs = [("csv", c) for c in campaigns] + [("jsonl", c) for c in ("bench-empty", f"bench-{sizes[0]}")]
        for fmt, campaign_id in runs:
            count = campaigns[campaign_id]
            target = os.path.join(state, f"{campaign_id}.{fmt}")
            seconds, peak_kib, cpu, moto_cpu = export(env, campaign_id, fmt, target)
            rate = f"{count / seconds:7,.0f}" if count else f"{'-':>7}"
            label = f"{count:8,}" if count else f"{'floor':>8}"
            size = os.path.getsize(target) / 2**20
            print(f"{fmt:6} {label} {seconds:8.1f} {rate} {peak_kib / 1024:6.1f} MiB {size:5.1f} MiB {cpu:6.1f} {moto_cpu:10.1f}")
    finally:
        server.stop()


if __name__ == "__main__":
    main()
