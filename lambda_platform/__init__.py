"""Fleet's platform: what the API and the workers run on, on Lambda and locally alike.

Settings, AWS clients, resource names, ports and their boto3 adapters, the batch skeleton,
telemetry, retries and idempotency. It imports the contract (`events`) and nothing else of
ours: the campaign rules, the apps and the host build on it.
"""
