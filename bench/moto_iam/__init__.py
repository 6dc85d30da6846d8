"""The cost of IAM enforcement in moto's process: `python -m bench.moto_iam`."""
