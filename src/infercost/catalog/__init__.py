"""The catalog: facts with provenance, and name resolution.

``get_accelerator("H100")``, ``get_model("llama-3.1-70b")`` and ``get_quant_format("awq")``
resolve the spellings people use to catalog entries, or raise
:class:`~infercost.errors.UnknownNameError` with the closest candidates.
"""

from __future__ import annotations

import functools
import re

from infercost.catalog.loader import (
    load_accelerators,
    load_engines,
    load_model_aliases,
    load_model_config_file,
    load_models,
    load_quant_formats,
)
from infercost.catalog.names import closest, dtype_hint, family_key, normalize
from infercost.catalog.schema import Accelerator, EngineProfile, ModelArch, QuantFormat
from infercost.errors import InputError, UnknownNameError

__all__ = [
    "Accelerator",
    "EngineProfile",
    "ModelArch",
    "QuantFormat",
    "get_accelerator",
    "get_engine",
    "get_model",
    "get_quant_format",
    "gpu_variant_note",
    "load_accelerators",
    "load_engines",
    "load_model_config_file",
    "load_models",
    "load_quant_formats",
]


@functools.cache
def _accelerator_index() -> dict[str, Accelerator]:
    index: dict[str, Accelerator] = {}
    for acc in load_accelerators():
        for spelling in (acc.id, acc.name, *acc.aliases):
            index[normalize(spelling)] = acc
    return index


def get_accelerator(name: str) -> Accelerator:
    """The accelerator a spelling names (``H100``, ``h100-sxm``, ``H100-SXM-80GB``).

    Raises:
        UnknownNameError: no entry matches; carries the closest ids.
    """
    key = normalize(name)
    index = _accelerator_index()
    if key in index:
        return index[key]
    stripped = key.removeprefix("nvidia-").removeprefix("amd-")
    if stripped in index:
        return index[stripped]
    by_parts = _accelerator_by_parts(key, index)
    if by_parts is not None:
        return by_parts
    counted = _GPU_COUNT.match(name.strip())
    if counted is not None:
        count = counted.group("n1") or counted.group("n2")
        gpu = (counted.group("g1") or counted.group("g2") or "").strip()
        try:
            one = get_accelerator(gpu)
        except UnknownNameError:
            one = None
        if one is not None:
            raise InputError(
                f"GPU {name!r} names {count} GPUs; give the GPU alone ({one.id}) and the "
                f"count as the number of GPUs (--num-gpus {count}, with --tp/--pp/--dp for "
                "the layout)"
            )
    ids = [a.id for a in load_accelerators()]
    raise UnknownNameError("GPU", name, closest(name, ids))


#: "8xH100", "8 x H100", "H100x8", "h100:8", "H100 * 8": a count written into the GPU name.
_GPU_COUNT = re.compile(
    r"^(?:(?P<n1>\d{1,4})\s*[x×*]\s*(?P<g1>[a-z].*)|(?P<g2>.*[a-z0-9])\s*(?:[x×*]|:)\s*(?P<n2>\d{1,4}))$",
    re.IGNORECASE,
)


#: Spelling tokens that name a vendor, a product line or a packaging, not the GPU family.
_VENDOR_TOKENS = {"nvidia", "amd", "intel", "google", "aws", "instinct", "tesla", "geforce"}
_FORM_TOKENS = {
    "sxm": "sxm", "sxm4": "sxm", "sxm5": "sxm", "sxm6": "sxm", "hgx": "sxm", "dgx": "sxm",
    "pcie": "pcie", "pci": "pcie", "nvl": "nvl", "nvl72": "", "nvl36": "", "nvl4": "",
    "oam": "", "superchip": "", "hbm3": "", "hbm3e": "", "gpu": "", "tensor": "", "core": "",
    "server": "", "edition": "",
}  # fmt: skip
_MEMORY_TOKEN = re.compile(r"^(\d+)(gb|g|gib)?$")
#: Largest bare number read as a memory size in GB (no accelerator in the catalog has more).
_MAX_BARE_MEMORY_GB = 1024


def _spelling_words(spelling: str) -> set[str]:
    """The words of a catalog spelling that name the GPU (vendor and packaging words
    dropped), for matching a spelling whose words come in another order."""
    words = re.split(r"[-\s]+", normalize(spelling))
    return {w for w in words if w and w not in _VENDOR_TOKENS and w not in _FORM_TOKENS}


def _family(spelling: str) -> str:
    """A GPU spelling without its memory size and form factor (``a100-80gb-sxm`` -> ``a100``,
    ``rtx-pro-6000-bse`` -> ``rtx-pro-6000``)."""
    words = re.split(r"[-\s]+", normalize(spelling))
    kept = [
        w
        for w in words
        if w
        and w not in _VENDOR_TOKENS
        and w not in _FORM_TOKENS
        and w != "bse"
        and not re.fullmatch(r"\d+(gb|g|gib)", w)
    ]
    return "-".join(kept)


def gpu_variant_note(spelling: str, acc: Accelerator) -> str | None:
    """A note when ``spelling`` names a GPU family (no memory size, no form factor) that the
    catalog holds in several variants, saying which one it was read as and naming the others;
    None when the spelling singles the part out."""
    if _family(spelling) != normalize(spelling).removeprefix("nvidia-").removeprefix("amd-"):
        return None  # the spelling carries a memory size or form factor: it chose
    fam = _family(acc.id)
    others = [a.id for a in load_accelerators() if a.id != acc.id and _family(a.id) == fam]
    if not others:
        return None
    return (
        f"--gpu {spelling} read as {acc.id} ({acc.name}); the catalog also holds "
        f"{', '.join(others)}: name one to pick it"
    )


def _accelerator_by_parts(key: str, index: dict[str, Accelerator]) -> Accelerator | None:
    """Resolve spellings of vendor tables and datasheets by their parts, in any order and
    case: vendor (dropped), family (``gb200``, ``h100``, ``mi300x``), form factor (SXM, PCIe,
    NVL) and memory size (``192GB``: within 8 % of the catalog's GiB or GB figure, since
    vendors print either). None when the parts do not single out one entry."""
    tokens = [t for t in re.split(r"[-\s]+", key) if t and t not in _VENDOR_TOKENS]
    family: list[str] = []
    form = ""
    memory: float | None = None
    for t in tokens:
        if t in _FORM_TOKENS:
            form = _FORM_TOKENS[t] or form
            continue
        m = _MEMORY_TOKEN.match(t)
        # a bare number is a memory size unless it is itself a spelling ("4090") or too large
        # for one (the "6000" of "RTX 6000 Pro")
        bare_memory = m is not None and 16 <= int(m.group(1)) <= _MAX_BARE_MEMORY_GB
        if m and (m.group(2) or bare_memory) and t not in index:
            memory = float(m.group(1))
            continue
        m2 = re.match(r"^(.*?)(\d+)gb$", t)  # "h100-80gb" glued
        if m2 and m2.group(1):
            family.append(m2.group(1))
            memory = float(m2.group(2))
            continue
        family.append(t)
    if not family:
        return None
    fam = "-".join(family)
    candidates = [
        a
        for a in load_accelerators()
        if a.id == fam
        or a.id.startswith(fam + "-")
        or any(normalize(x) == fam or normalize(x).startswith(fam + "-") for x in a.aliases)
    ]
    if not candidates:  # the same words in another order ("RTX 6000 Pro Blackwell")
        words = set(family)
        candidates = [
            a
            for a in load_accelerators()
            if any(words <= _spelling_words(x) for x in (a.id, a.name, *a.aliases))
        ]
    if memory is not None:
        candidates = [
            a
            for a in candidates
            if any(
                abs(memory - size) <= 0.08 * size
                for size in (a.memory_bytes / 2**30, a.memory_bytes / 1e9)
            )
        ]
    if form:

        def names(a: Accelerator) -> list[str]:
            return [a.id, *(x.lower() for x in a.aliases)]

        formed = [a for a in candidates if any(form in n for n in names(a))]
        stated = any(f in n for a in candidates for n in names(a) for f in ("sxm", "pcie", "nvl"))
        if stated and not formed:  # "H200 NVL" is not the H200 SXM the catalog has
            return None
        candidates = formed or candidates
    unique = {a.id: a for a in candidates}
    if len(unique) == 1:
        return next(iter(unique.values()))
    if fam in index and index[fam].id in unique:  # "H100" alone names the SXM part
        return index[fam]
    return None


@functools.cache
def _model_index() -> tuple[dict[str, ModelArch], dict[str, ModelArch], dict[str, str]]:
    exact: dict[str, ModelArch] = {}
    family: dict[str, ModelArch] = {}
    notes: dict[str, str] = {}
    # Base models first so a family key points at the base architecture; a quantized
    # checkpoint (nvidia/DeepSeek-V3.1-NVFP4) keys its family only after the alias rows, so
    # "DeepSeek-V3.1-Base" is read through the deepseek-ai/DeepSeek-V3.1 alias, not as NVFP4.
    quantized: list[ModelArch] = []
    for arch in sorted(load_models(), key=lambda a: (len(a.id), a.id)):
        exact.setdefault(arch.id.lower(), arch)
        exact.setdefault(normalize(arch.id), arch)
        for alias in arch.aliases:
            exact.setdefault(normalize(alias), arch)
        if dtype_hint(arch.id) is None:
            family.setdefault(family_key(arch.id), arch)
        else:
            quantized.append(arch)
    by_id = {a.id: a for a in load_models()}
    for alias, target, note in load_model_aliases():
        if target in by_id:
            exact[alias.lower()] = by_id[target]
            exact[normalize(alias)] = by_id[target]
            family.setdefault(family_key(alias), by_id[target])
            notes[by_id[target].id + "|" + alias.lower()] = note
    for arch in quantized:
        family.setdefault(family_key(arch.id), arch)
    return exact, family, notes


_RELEASE = re.compile(r"(?:^|-)(v0-\d+)(?=-|$)")


def get_model(name: str) -> ModelArch:
    """The model a spelling names: an HF id, a catalog id, or a common spelling
    (``llama-3.1-70b``); instruct/chat/dated variants resolve to the catalogued architecture.

    Raises:
        UnknownNameError: no entry matches; carries the closest ids.
    """
    exact, family, _ = _model_index()
    for key in (name.strip().lower(), normalize(name)):
        if key in exact:
            return exact[key]
    fam = family_key(name)
    ids = [m.id for m in load_models()]
    if fam in family:
        arch = family[fam]
        # Mistral-style release suffixes (v0.1, v0.2, v0.3) name different checkpoints
        # (Mistral-7B v0.1 has a 4,096-token sliding window and a 32,000 vocabulary, v0.3 a
        # 32,768 one): a release the catalog does not hold is unknown, not another release
        wanted, held = _RELEASE.findall(normalize(name)), _RELEASE.findall(normalize(arch.id))
        if not (wanted and held and wanted != held):
            return arch
    raise UnknownNameError("model", name, closest(name, ids))


def model_alias_note(arch: ModelArch, name: str) -> str:
    """The provenance note when ``name`` resolved to ``arch`` through an alias row, else ''."""
    return _model_index()[2].get(arch.id + "|" + name.strip().lower(), "")


def get_quant_format(name: str) -> QuantFormat:
    """The storage format a dtype spelling names (``bf16``, ``fp8``, ``awq``, ``nvfp4``, ``q4_0``).

    Raises:
        UnknownNameError: unknown spelling; carries the closest names.
    """
    key = name.strip().lower()
    for fmt in load_quant_formats():
        if key == fmt.id or key in fmt.aliases:
            return fmt
    names = [f.id for f in load_quant_formats()]
    raise UnknownNameError("dtype", name, closest(name, names))


def get_engine(name: str) -> EngineProfile:
    """The engine profile a spelling names (``vllm``, ``sglang``, ``trtllm``, ``llamacpp``).

    Raises:
        UnknownNameError: unknown engine; carries the closest names.
    """
    key = normalize(name)
    for eng in load_engines():
        if key == eng.id or key in {normalize(a) for a in eng.aliases}:
            return eng
    spellings = {a: e.id for e in load_engines() for a in (e.id, *e.aliases)}
    near = closest(name, list(spellings))
    raise UnknownNameError("engine", name, list(dict.fromkeys(spellings[a] for a in near)))
