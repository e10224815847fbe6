"""Name normalisation and did-you-mean suggestions for catalog lookups (pure)."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable

_SEPARATORS = re.compile(r"[\s_./]+")
# Suffixes that name a variant of the same architecture (chat/instruct tuning, dated releases
# such as -2507 or -0528, the "-hf" conversion marker, quantized-checkpoint markers). Stripped
# repeatedly from the end.
_VARIANT_SUFFIX = re.compile(
    r"-(instruct|chat|it|hf|base|original|thinking|\d{4}|fp8|bf16|awq|gptq|int4|fp16"
    r"|nvfp4|mxfp4|fp4|w4a16|w8a8|int8|kv|dynamic)$"
)
# A "v" release number at the end: Mistral's -v0.1/-v0.3, -v1, -v1.5 ("." already made "-").
_RELEASE_SUFFIX = re.compile(r"-v\d+(-\d+)?$")
# A parameter-count word: 7b, 0-5b (0.5B), 8x7b, a3b, 270m. A "v" number after one, or after a
# variant suffix, is a release of that checkpoint (Mistral-7B-Instruct-v0.3,
# nvidia/DeepSeek-R1-0528-FP4-v2); right after the family's name (DeepSeek-V3.2, DeepSeek-V2.5,
# DeepSeek-Coder-V2) it is part of that name and names another architecture.
_SIZE_WORD = re.compile(r"(?:^|-)(?:\d+x)?a?\d+[bm](?=-|$)")


def normalize(name: str) -> str:
    """Lower-case, unify separators to '-', drop an organisation prefix ("org/")."""
    text = name.strip().lower()
    if "/" in text:
        text = text.split("/", 1)[1]
    text = _SEPARATORS.sub("-", text)
    return re.sub(r"-+", "-", text).strip("-")


def family_key(name: str) -> str:
    """Key shared by variants of one architecture: 'meta-llama/Llama-3.1-70B-Instruct' and
    'llama-3.1-70b' both give 'llama-3-1-70b'. Drops a 'meta-' prefix and variant suffixes.

    Version numbers that are part of a family's name stay: 'DeepSeek-V3.2-FP8' gives
    'deepseek-v3-2' (not DeepSeek-V3's 'deepseek-v3'), 'GLM-5.1-FP8' 'glm-5-1'. A trailing
    'vN' or 'vN.M' is dropped as a release only after a parameter count or another variant
    suffix ('Mistral-7B-Instruct-v0.3' gives 'mistral-7b', 'DeepSeek-R1-0528-FP4-v2'
    'deepseek-r1')."""
    text = normalize(name)
    text = re.sub(r"^meta-(?=llama)", "", text)
    previous = None
    while previous != text:
        previous = text
        text = _VARIANT_SUFFIX.sub("", text)
        release = _RELEASE_SUFFIX.search(text)
        if release:
            before = text[: release.start()]
            if _SIZE_WORD.search(before) or _VARIANT_SUFFIX.search(before):
                text = before
    return text


def _numbered_words(text: str) -> set[str]:
    """The words of ``text`` that carry a digit (model numbers: ``h200``, ``4090``, ``70b``)."""
    return {w for w in re.split(r"[-_\s/.]+", normalize(text)) if any(c.isdigit() for c in w)}


def _common_words(a: str, b: str) -> int:
    """How many leading words two normalised names share ("qwen3-vl-7b", "qwen3-vl-8b": 2)."""
    count = 0
    for x, y in zip(a.split("-"), b.split("-"), strict=False):
        if x != y:
            break
        count += 1
    return count


def closest(name: str, candidates: Iterable[str], n: int = 5) -> list[str]:
    """Up to ``n`` candidates closest to ``name``: those sharing the most leading words with
    it first ("qwen3-vl" suggests the Qwen3-VL checkpoints, "Kimi-K2.7" Kimi-K2.7-Code,
    "DeepSeek-V2.5" the DeepSeek entries before Qwen2.5's), then those sharing the most model
    numbers ("H200 NVL" suggests h200-sxm before h100-nvl, which differs by one character but
    is another GPU), then the difflib ratio on normalised forms."""
    pool = {normalize(c): c for c in candidates}
    query = normalize(name)
    hits = difflib.get_close_matches(query, list(pool), n=n, cutoff=0.45)
    if not hits:
        key = family_key(name)
        hits = [k for k in pool if key and (key in k or k in key)][:n]
    numbers = _numbered_words(name)
    order = {k: i for i, k in enumerate(pool)}
    prefix = {k: _common_words(query, k) if query else 0 for k in pool}
    shared = {k: len(numbers & _numbered_words(k)) for k in pool}
    chosen = set(hits) | {k for k in pool if prefix[k] or shared[k]}

    def rank(k: str) -> tuple[int, int, int, int]:
        hit = hits.index(k) if k in hits else len(hits)
        return (-prefix[k], -shared[k], hit, order[k])

    return [pool[k] for k in sorted(chosen, key=rank)[:n]]


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
