"""infercost.usage."""
