"""Name normalisation and did-you-mean suggestions for catalog lookups (pure)."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable

_SEPARATORS = re.compile(r"[\s_./]+")
# Suffixes that name a variant of the same architecture (chat/instruct tuning, dated releases,
# the "-hf" conversion marker). Stripped repeatedly from the end.
_VARIANT_SUFFIX = re.compile(
    r"-(instruct|chat|it|hf|base|original|thinking|\d{4}|v\d+(-\d+)?|fp8|bf16|awq|gptq|int4|fp16"
    r"|nvfp4|mxfp4|fp4|w4a16|w8a8|int8|kv|dynamic)$"
)


def normalize(name: str) -> str:
    """Lower-case, unify separators to '-', drop an organisation prefix ("org/")."""
    text = name.strip().lower()
    if "/" in text:
        text = text.split("/", 1)[1]
    text = _SEPARATORS.sub("-", text)
    return re.sub(r"-+", "-", text).strip("-")


def family_key(name: str) -> str:
    """Key shared by variants of one architecture: 'meta-llama/Llama-3.1-70B-Instruct' and
    'llama-3.1-70b' both give 'llama-3-1-70b'. Drops a 'meta-' prefix and variant suffixes."""
    text = normalize(name)
    text = re.sub(r"^meta-(?=llama)", "", text)
    previous = None
    while previous != text:
        previous = text
        text = _VARIANT_SUFFIX.sub("", text)
    return text


def _numbered_words(text: str) -> set[str]:
    """The words of ``text`` that carry a digit (model numbers: ``h200``, ``4090``, ``70b``)."""
    return {w for w in re.split(r"[-_\s/.]+", normalize(text)) if any(c.isdigit() for c in w)}


def closest(name: str, candidates: Iterable[str], n: int = 5) -> list[str]:
    """Up to ``n`` candidates closest to ``name`` (difflib ratio on normalised forms), those
    sharing a model number with ``name`` first ("H200 NVL" suggests h200-sxm before
    h100-nvl, which differs by one character but is another GPU)."""
    pool = {normalize(c): c for c in candidates}
    hits = difflib.get_close_matches(normalize(name), list(pool), n=n, cutoff=0.45)
    if not hits:
        key = family_key(name)
        hits = [k for k in pool if key and (key in k or k in key)][:n]
    numbers = _numbered_words(name)
    same = [k for k in pool if numbers & _numbered_words(k)]
    ranked = [k for k in same if k in hits] + [k for k in same if k not in hits]
    ranked += [k for k in hits if k not in ranked]
    return [pool[h] for h in ranked[:n]]


_DTYPE_TOKENS = (
    ("mxfp4", "mxfp4"),
    ("nvfp4", "nvfp4"),
    # NVIDIA's ModelOpt FP4 checkpoints are named -FP4 (nvidia/DeepSeek-R1-0528-FP4,
    # nvidia/Llama-3.3-70B-Instruct-FP4; their hf_quant_config.json: quant_algo NVFP4)
    ("fp4", "nvfp4"),
    ("awq", "int4"),
    ("gptq", "int4"),
    ("w4a16", "int4"),
    ("int4", "int4"),
    ("w8a8", "int8"),
    ("int8", "int8"),
    ("fp8", "fp8"),
)


def dtype_hint(name: str) -> str | None:
    """The weight format a repository name announces (``...-AWQ``, ``-FP8``, ``-INT4``,
    ``-w8a8``), or None. Quantized repos keep the base model's config.json shapes, so the name
    is what says how the weights are stored."""
    tokens = set(normalize(name).split("-"))
    for token, fmt in _DTYPE_TOKENS:
        if token in tokens:
            return fmt
    return None
