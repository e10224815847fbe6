"""infercost.api."""
