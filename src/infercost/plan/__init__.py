"""infercost.plan."""
