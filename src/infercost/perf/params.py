"""Parameter counts derived from a :class:`~infercost.catalog.schema.ModelArch`.

Counts follow the module shapes of the ``transformers`` implementations: q/k/v/o projections
(or MLA's low-rank projections, with DeepSeek sparse attention's indexer), gated-DeltaNet and
Mamba2 mixers, a gated (gate, up, down) or plain (up, down) FFN, RMSNorm weights, embeddings
and the LM head. Multi-token-prediction layers are counted apart (``ParamCounts.mtp``): they
are not used for ordinary decoding, and DeepSeek-V3's published 671 B excludes them.
"""

from __future__ import annotations

from dataclasses import dataclass

from infercost.catalog.schema import ModelArch


def attention_params_per_layer(m: ModelArch) -> int:
    """Weights of one attention block (projections, biases, MLA norms), in parameters."""
    h = m.hidden_size
    if m.attention_kind == "mla":
        qk_head = m.qk_nope_head_dim + m.qk_rope_head_dim
        if m.q_lora_rank:
            q = h * m.q_lora_rank + m.q_lora_rank + m.q_lora_rank * m.num_heads * qk_head
        else:
            q = h * m.num_heads * qk_head
        kv_a = h * (m.kv_lora_rank + m.qk_rope_head_dim) + m.kv_lora_rank
        kv_b = m.kv_lora_rank * m.num_heads * (m.qk_nope_head_dim + m.v_head_dim)
        o = m.num_heads * m.v_head_dim * h
        return q + kv_a + kv_b + o
    q_width = m.num_heads * m.head_dim
    kv_width = m.num_kv_heads * m.head_dim
    gate = q_width if m.attn_output_gate else 0  # q_proj also emits the output gate
    weights = h * (q_width + gate) + 2 * h * kv_width + q_width * h
    bias = (q_width + 2 * kv_width) if m.attention_bias else 0
    if m.attention_bias and m.model_type == "gpt_oss":
        bias += h  # gpt-oss o_proj also carries a bias
    if m.qk_norm == "per_head":
        bias += 2 * m.head_dim  # q_norm and k_norm over head_dim (Qwen3)
    elif m.qk_norm == "per_layer":
        bias += q_width + kv_width  # norms over the whole q and k projections (MiniMax-M2)
    if m.model_type == "gpt_oss":
        bias += m.num_heads  # attention sinks: one learned logit per head
    return weights + bias


def attention_out_params_per_layer(m: ModelArch) -> int:
    """The output projection (``o_proj``) of one attention block, with its bias (gpt-oss): a
    part some checkpoints quantize while keeping the input projections 16-bit."""
    width = m.num_heads * (m.v_head_dim if m.attention_kind == "mla" else m.head_dim)
    bias = m.hidden_size if m.attention_bias and m.model_type == "gpt_oss" else 0
    return width * m.hidden_size + bias


def indexer_params_per_layer(m: ModelArch) -> int:
    """DeepSeek sparse attention's lightning indexer, per layer: ``wq_b`` (q_lora_rank ->
    heads x head_dim), ``wk`` (hidden -> head_dim), its LayerNorm (weight + bias) and
    ``weights_proj`` (hidden -> heads) (DeepSeek-V3.2-Exp ``inference/model.py``, Indexer)."""
    if not m.uses_dsa:
        return 0
    q_in = m.q_lora_rank or m.hidden_size
    return (
        q_in * m.index_n_heads * m.index_head_dim
        + m.hidden_size * m.index_head_dim
        + 2 * m.index_head_dim
        + m.hidden_size * m.index_n_heads
    )


def linear_attention_params_per_layer(m: ModelArch) -> int:
    """One gated-DeltaNet layer (transformers ``Qwen3NextGatedDeltaNet``): input projections
    to q, k (key_dim each), v and the output gate z (value_dim each) and to the per-head beta
    and alpha; a depthwise causal conv over q, k, v (kernel taps, no bias); per-head A_log and
    dt_bias; a gated RMSNorm over the value head dim; the output projection."""
    if not m.num_linear_layers:
        return 0
    key_dim = m.linear_num_key_heads * m.linear_key_head_dim
    value_dim = m.linear_num_value_heads * m.linear_value_head_dim
    h = m.hidden_size
    in_proj = h * (2 * key_dim + 2 * value_dim) + h * 2 * m.linear_num_value_heads
    conv = (2 * key_dim + value_dim) * m.linear_conv_kernel
    return in_proj + conv + 2 * m.linear_num_value_heads + m.linear_value_head_dim + value_dim * h


def mamba_params_per_layer(m: ModelArch) -> int:
    """One Mamba2 mixer (transformers ``NemotronHMamba2Mixer``): ``in_proj`` to z and x
    (intermediate each), B and C (groups x state each) and dt (heads); a depthwise conv1d with
    bias over x, B, C; per-head dt_bias, A_log and D; a gated RMSNorm over the intermediate
    width; ``out_proj``. Intermediate = heads x head_dim."""
    if not m.num_mamba_layers:
        return 0
    inner = m.mamba_num_heads * m.mamba_head_dim
    bc = 2 * m.mamba_n_groups * m.mamba_state_size
    h = m.hidden_size
    in_proj = h * (2 * inner + bc + m.mamba_num_heads)
    conv = (inner + bc) * (m.mamba_conv_kernel + 1)  # weights + bias
    return in_proj + conv + 3 * m.mamba_num_heads + inner + inner * h


def ffn_params(m: ModelArch, width: int) -> int:
    """Weights of one FFN (or one expert) of inner width ``width``."""
    return (3 if m.gated_mlp else 2) * m.hidden_size * width


def expert_params(m: ModelArch) -> int:
    """Weights of one routed expert (gpt-oss experts also carry biases)."""
    p = ffn_params(m, m.moe_intermediate_size)
    if m.model_type == "gpt_oss":
        p += 2 * m.moe_intermediate_size + m.hidden_size
    return p


def router_params(m: ModelArch) -> int:
    """Weights of the router (gate) of one MoE layer."""
    bias = m.num_experts if m.model_type == "gpt_oss" else 0
    return m.hidden_size * m.num_experts + bias


def embedding_params(m: ModelArch) -> int:
    """Input embedding plus the LM head (once when tied)."""
    return m.vocab_size * m.hidden_size * (1 if m.tie_word_embeddings else 2)


@dataclass(frozen=True, slots=True)
class ParamCounts:
    """Parameter counts of a model's text decoder, in parameters.

    Attributes:
        total: every weight held in memory for ordinary decoding (no MTP layers).
        active: weights used per token (mixers, dense FFNs, shared experts, k routed
            experts, router, norms, embedding row + LM head).
        embedding: input embedding + LM head.
        attention: all softmax-attention blocks (with DSA indexers).
        attention_out: their output projections (``o_proj``), part of ``attention``.
        dense_ffn: all dense FFNs (dense models, or the dense layers of an MoE).
        experts: all routed experts of all MoE layers.
        shared_experts: all shared experts.
        router: all routers.
        norms: all normalisation weights.
        input_embedding: the input embedding table alone (a token reads one row of it).
        linear_attention: all gated-DeltaNet layers.
        mamba: all Mamba2 mixers.
        mtp: multi-token-prediction layers (not in ``total``; a DeepSeek-style MTP layer is a
            decoder layer plus two norms and a 2h -> h projection).
    """

    total: int
    active: int
    embedding: int
    attention: int
    dense_ffn: int
    experts: int
    shared_experts: int
    router: int
    norms: int
    input_embedding: int
    linear_attention: int = 0
    mamba: int = 0
    mtp: int = 0
    attention_out: int = 0

    @property
    def active_excl_input_embedding(self) -> int:
        """Active weights without the input embedding table: the weights one token multiplies
        by (the LM head included). OpenAI's gpt-oss model card counts "active" this way."""
        return self.active - self.input_embedding

    @property
    def mixers(self) -> int:
        """All sequence mixers: attention, linear attention and Mamba2 layers."""
        return self.attention + self.linear_attention + self.mamba


def param_counts(m: ModelArch) -> ParamCounts:
    """Total and active parameters of ``m``'s text decoder.

    Active counts the LM head and the embedding matrix in full (as Mistral's Mixtral and
    Qwen's published "active" figures do), the k routed experts each token uses, and everything
    dense.
    """
    attn_layer = attention_params_per_layer(m) + indexer_params_per_layer(m)
    attention = attn_layer * m.attention_layers
    linear = linear_attention_params_per_layer(m) * m.num_linear_layers
    mamba = mamba_params_per_layer(m) * m.num_mamba_layers
    norms = m.norms_per_layer * m.hidden_size * m.num_layers + m.hidden_size
    embedding = embedding_params(m)
    if m.is_moe:
        dense_ffn = ffn_params(m, m.intermediate_size) * m.num_dense_layers
        experts = expert_params(m) * m.num_experts * m.num_moe_layers
        shared = (
            ffn_params(m, m.shared_expert_intermediate_size)
            * m.num_shared_experts
            * m.num_moe_layers
        )
        router = router_params(m) * m.num_moe_layers
        active_experts = expert_params(m) * m.experts_per_token * m.num_moe_layers
        mtp_ffn = (
            expert_params(m) * m.num_experts
            + ffn_params(m, m.shared_expert_intermediate_size) * m.num_shared_experts
            + router_params(m)
        )
    else:
        dense_ffn = ffn_params(m, m.intermediate_size) * m.ffn_layers
        experts = shared = router = active_experts = 0
        mtp_ffn = ffn_params(m, m.intermediate_size)
    mtp = m.num_mtp_layers * (
        attn_layer + mtp_ffn + 4 * m.hidden_size + 2 * m.hidden_size * m.hidden_size
    )
    mixers = attention + linear + mamba
    total = embedding + mixers + dense_ffn + experts + shared + router + norms
    active = embedding + mixers + dense_ffn + active_experts + shared + router + norms
    return ParamCounts(
        total=total,
        active=active,
        embedding=embedding,
        attention=attention,
        dense_ffn=dense_ffn,
        experts=experts,
        shared_experts=shared,
        router=router,
        norms=norms,
        input_embedding=m.vocab_size * m.hidden_size,
        linear_attention=linear,
        mamba=mamba,
        mtp=mtp,
        attention_out=attention_out_params_per_layer(m) * m.attention_layers,
    )
