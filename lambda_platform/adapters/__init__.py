"""boto3 adapters of the ports in `lambda_platform.ports`; they raise Fleet's exceptions."""
