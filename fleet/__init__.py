"""The operator's machine: the `fleet` command and everything it runs.

The local runtime and its supervisor, the local edge, provisioning, wiring and publishing
a stage, replay and status. It may import every other package of ours; none imports it,
and the Lambda zips leave it out.
"""
