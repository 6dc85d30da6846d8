"""The local runtime: plays the part of Lambda, event source mappings and Pipes."""
