"""The AWS requests benchmark: `make bench-requests`."""
