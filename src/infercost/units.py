"""The only unit-conversion constants in infercost.

Everything inside perf/sim/cost/plan is computed in base SI units (bytes, seconds, FLOP,
bytes/s, FLOP/s, US dollars); scaled units appear only in catalog files and on display.
SI prefixes are decimal (1 GB = 1e9 bytes) unless a name says GiB.
"""

from __future__ import annotations

KILO = 1e3
MEGA = 1e6
GIGA = 1e9
TERA = 1e12
PETA = 1e15

GB = GIGA  #: bytes in one (decimal) gigabyte
GIB = 2.0**30  #: bytes in one gibibyte
MIB = 2.0**20  #: bytes in one mebibyte
TB = TERA  #: bytes in one terabyte

S_PER_MS = 1e-3
S_PER_HOUR = 3600.0
HOURS_PER_DAY = 24.0
DAYS_PER_MONTH = 30.0  #: a billing month as the worked examples use it
HOURS_PER_MONTH = 730.0  #: 8760 h / 12, the cloud-billing month
HOURS_PER_YEAR = 8760.0

TOKENS_PER_M = 1e6  #: tokens in "one million tokens" ($/M)
BITS_PER_BYTE = 8.0
