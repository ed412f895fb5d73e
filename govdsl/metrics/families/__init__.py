"""Metric declarations, one module per family; each module has a list `DECLARATIONS`."""
