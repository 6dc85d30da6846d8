"""Messages that cross a queue, each declared once (`base`), one module per family, and
their JSON envelope (`envelope`)."""
