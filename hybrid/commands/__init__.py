"""The `hybrid` command groups, one module each."""
