"""Lambda workers: one module per function, a thin `handler(event, context)` each."""
