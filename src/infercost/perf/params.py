"""Parameter counts derived from a :class:`~infercost.catalog.schema.ModelArch`.

Counts follow the module shapes of the ``transformers`` implementations: q/k/v/o projections
(or MLA's low-rank projections), a gated (gate, up, down) or plain (up, down) FFN, RMSNorm
weights, embeddings and the LM head. DeepSeek's multi-token-prediction module is not counted
(it is not used for ordinary decoding; DeepSeek-V3's 671 B excludes it).
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
    weights = h * q_width + 2 * h * kv_width + q_width * h
    bias = (q_width + 2 * kv_width) if m.attention_bias else 0
    if m.attention_bias and m.model_type == "gpt_oss":
        bias += h  # gpt-oss o_proj also carries a bias
    return weights + bias


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
    """Parameter counts of a model, in parameters.

    Attributes:
        total: every weight held in memory.
        active: weights used per token (attention, dense FFNs, shared experts, k routed
            experts, router, norms, embedding row + LM head).
        embedding: input embedding + LM head.
        attention: all attention blocks.
        dense_ffn: all dense FFNs (dense models, or the dense layers of an MoE).
        experts: all routed experts of all MoE layers.
        shared_experts: all shared experts.
        router: all routers.
        norms: all normalisation weights.
        input_embedding: the input embedding table alone (a token reads one row of it).
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

    @property
    def active_excl_input_embedding(self) -> int:
        """Active weights without the input embedding table: the weights one token multiplies
        by (the LM head included). OpenAI's gpt-oss model card counts "active" this way."""
        return self.active - self.input_embedding


def param_counts(m: ModelArch) -> ParamCounts:
    """Total and active parameters of ``m``.

    Active counts the LM head and the embedding matrix in full (as Mistral's Mixtral and
    Qwen's published "active" figures do), the k routed experts each token uses, and everything
    dense.
    """
    attention = attention_params_per_layer(m) * m.num_layers
    norms = 2 * m.hidden_size * m.num_layers + m.hidden_size
    if m.model_type in {"qwen3", "qwen3_moe"}:
        norms += 2 * m.head_dim * m.num_layers  # q_norm and k_norm per layer
    if m.model_type in {"gemma2", "gemma3_text"}:
        norms += 2 * m.hidden_size * m.num_layers  # pre- and post-FFN norms
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
    else:
        dense_ffn = ffn_params(m, m.intermediate_size) * m.num_layers
        experts = shared = router = active_experts = 0
    total = embedding + attention + dense_ffn + experts + shared + router + norms
    active = embedding + attention + dense_ffn + active_experts + shared + router + norms
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
    )
