"""Compiled bytecode in the Lambda zip, added by Zappa's `zip` callback.

Zappa leaves every `__pycache__` out of the zip, and Lambda's `/var/task` is read-only, so
without this every cold start compiles every module it imports and throws the result
away: importing boto3, Flask and marshmallow from the unzipped package took about 800 ms
from source and 250 ms from bytecode on the machine the README's figures come from.

Each `.py` in the zip gets its `__pycache__/NAME.cpython-3XY.pyc`, hash-based and
unchecked (`py_compile.PycInvalidationMode.UNCHECKED_HASH`): a zip does not keep the
timestamps a timestamp-based `.pyc` is checked against, and nothing edits the sources in
`/var/task`. The sources stay, so tracebacks still show their lines.
"""

from __future__ import annotations

import os
import py_compile
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Any


def runtime_tag() -> str:
    """The Lambda runtime name of this interpreter, e.g. `python3.11`."""
    return f"python{sys.version_info.major}.{sys.version_info.minor}"


def compile_zip(zip_path: str | Path) -> tuple[int, list[str]]:
    """Add the bytecode of every `.py` in `zip_path` to it: (files added, sources that did not compile).

    A source that does not compile (a template, another Python's syntax) is left as it
    is: it is compiled when imported, as it was without this.
    """
    zip_path = Path(zip_path)
    with tempfile.TemporaryDirectory(prefix="fleet-bytecode-") as tmp:
        root = Path(tmp)
        with zipfile.ZipFile(zip_path) as archive:
            present = set(archive.namelist())
            sources = [n for n in present if n.endswith(".py")]
            for name in sources:
                archive.extract(name, root)
        failed: list[str] = []
        for name in sources:
            source = root / name
            # Named here rather than by importlib.util.cache_from_source, which would follow a
            # PYTHONPYCACHEPREFIX of the machine that packages.
            cached = source.parent / "__pycache__" / f"{source.stem}.{sys.implementation.cache_tag}.pyc"
            try:
                py_compile.compile(
                    str(source),
                    cfile=str(cached),
                    dfile=name,
                    optimize=0,  # Lambda runs python without -O
                    doraise=True,
                    invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH,
                )
            except py_compile.PyCompileError:
                failed.append(name)
        added = 0
        with zipfile.ZipFile(zip_path, "a", zipfile.ZIP_DEFLATED) as archive:
            for pyc in sorted(root.rglob("__pycache__/*.pyc")):
                name = pyc.relative_to(root).as_posix()
                if name in present:
                    continue
                info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
                info.create_system = 3  # Unix, so that the mode below is read (as Zappa writes its files)
                info.external_attr = 0o644 << 16
                info.compress_type = zipfile.ZIP_DEFLATED
                archive.writestr(info, pyc.read_bytes())
                added += 1
    return added, sorted(failed)


def zappa_zip_callback(zappa_cli: Any) -> None:
    """Zappa's `callbacks.zip`: compile the zip `zappa package`, `deploy` or `update` just made."""
    import click

    runtime = (getattr(zappa_cli, "stage_config", None) or {}).get("runtime") or runtime_tag()
    if runtime != runtime_tag():
        # Bytecode of another Python would never be read by the runtime's: leave it out.
        click.echo(f"fleet bytecode: not compiled, Zappa runs on {runtime_tag()} and the function on {runtime}")
        return
    added, failed = compile_zip(zappa_cli.zip_path)
    click.echo(f"fleet bytecode: {added} modules compiled into {os.path.basename(zappa_cli.zip_path)}")
    for name in failed:
        click.echo(f"fleet bytecode: {name} does not compile, left as source")
