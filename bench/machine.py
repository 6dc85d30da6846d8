"""What every benchmark prints about the machine, and a free loopback port."""

from __future__ import annotations

import os
import platform
import socket


def cpu_model() -> str:
    """The CPU model from /proc/cpuinfo, or the platform's guess."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def describe_machine() -> str:
    """One line: CPUs, model, Python."""
    return f"machine: {os.cpu_count()} CPUs, {cpu_model()}, Python {platform.python_version()}"


def free_port() -> int:
    """A TCP port that nothing listens on now, on loopback."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
