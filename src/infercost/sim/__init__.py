"""infercost.sim."""
