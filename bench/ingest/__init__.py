"""The ingestion benchmark: `make bench-ingest`."""
