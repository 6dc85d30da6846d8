"""The suite's npm packages are not ours to collect: npm@6 carries gyp's own *_test.py files."""

from __future__ import annotations

collect_ignore = ["node_modules"]
