"""infercost.perf."""
