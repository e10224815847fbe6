"""infercost.catalog."""
