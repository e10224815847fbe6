"""infercost.calibrate."""
