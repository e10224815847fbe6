"""infercost.report."""
