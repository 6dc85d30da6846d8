"""A campaign's rules: discount codes, the draw, duplicate receipts and the export.

Plain functions over the platform's ports (`lambda_platform.ports`), knowing nothing of
boto3 or Lambda: the workers, the API and the `fleet` command call them alike.
"""
