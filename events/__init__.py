"""Fleet's contract: messages, their schemas, the topology and sample trigger payloads.

Nothing here imports boto3 or any other Fleet package.
"""
