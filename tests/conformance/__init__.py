"""The local edge measured by an outside suite: the HTTP working group's caching tests (`make conformance-edge`)."""
