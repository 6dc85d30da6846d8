"""Fleet's platform: settings, AWS clients, ports and adapters, provisioning, the local
runtime and the `fleet` command line."""
