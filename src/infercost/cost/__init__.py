"""infercost.cost."""
