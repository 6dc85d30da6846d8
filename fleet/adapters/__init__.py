"""boto3 adapters of the ports in `fleet.ports`; they raise Fleet's exceptions."""
