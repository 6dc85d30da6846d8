"""In-memory fakes of the ports in `fleet.ports`, behaving as their boto3 adapters do.

One module per adapter module (`fleet.adapters.tables` ~ `fleet.fakes.tables`, and so
on). The unit tests and the benchmarks share them; nothing in production imports them.
"""
