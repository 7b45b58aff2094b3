"""A decoder-only transformer for token sequences: chorales, melodies, drum patterns.

nanoGPT's shape, with three changes that matter for music:

- **Rotary position embeddings** (RoPE, Su et al. 2021) instead of a learned absolute table.
  What a chorale model needs is *relative* position: "the same voice one step back" is 4 tokens
  back, "one bar back" is 64 tokens back, wherever in the piece we are. RoPE makes attention
  scores depend only on the offset between query and key (like the Music Transformer's relative
  attention), costs nothing in parameters, needs no O(T²) relative-logit tensor, and leaves
  `scaled_dot_product_attention` (and its fused kernels) usable, which the Music Transformer's
  skewed relative attention would not.
- **Token types**: an optional second embedding added to the token embedding, e.g. the voice
  (soprano, alto, tenor, bass) a chorale token belongs to. The model could infer it from
  positions, but telling it saves capacity and training time. `n_token_types = 0` turns it off.
- **A key/value cache** for sampling one token at a time, so generating T tokens costs O(T²)
  attention work instead of O(T³).

Pre-norm blocks (LayerNorm before attention and MLP) train stably without warm-up tricks; the
output projection is the token embedding transposed (weight tying), which halves the parameters of
a small-vocabulary model and regularises it. Everything runs on the CPU by default.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import nn


@dataclass
class TransformerConfig:
    """Everything needed to rebuild a `DecoderTransformer`; saved inside every checkpoint."""

    vocab_size: int
    d_model: int = 192
    n_layers: int = 4
    n_heads: int = 4
    d_ff: int = 768
    dropout: float = 0.1
    max_len: int = 2562  # longest JSB chorale: 640 steps x 4 tokens + <bos> + <eos>
    n_token_types: int = 0  # 0 = no token-type embedding
    rope_base: float = 10000.0

    def __post_init__(self):
        if self.d_model % self.n_heads or (self.d_model // self.n_heads) % 2:
            raise ValueError("d_model / n_heads must be an even integer (rotary embeddings)")

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> TransformerConfig:
        return cls(**data)


# a key/value cache: per layer, (keys, values), each (B, H, T_past, D_head)
KVCache = list[tuple[torch.Tensor, torch.Tensor]]


def _rotary_tables(max_len: int, d_head: int, base: float) -> tuple[torch.Tensor, torch.Tensor]:
    """cos and sin tables, each (max_len, d_head / 2): angle = position x base^(-2i / d_head)."""
    inv_freq = base ** (-torch.arange(0, d_head, 2, dtype=torch.float64) / d_head)
    angles = torch.arange(max_len, dtype=torch.float64)[:, None] * inv_freq[None, :]
    return angles.cos().float(), angles.sin().float()


def _rotate(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    """Rotate pairs (x[2i], x[2i+1]) of x (B, H, T, D) by the angles of cos/sin (T, D/2)."""
    x1, x2 = x[..., 0::2], x[..., 1::2]  # (B, H, T, D/2) each
    out = torch.stack((x1 * cos - x2 * sin, x1 * sin + x2 * cos), dim=-1)  # (B, H, T, D/2, 2)
    return out.flatten(-2)  # (B, H, T, D)


class CausalSelfAttention(nn.Module):
    def __init__(self, config: TransformerConfig):
        super().__init__()
        self.n_heads = config.n_heads
        self.qkv = nn.Linear(config.d_model, 3 * config.d_model)
        self.proj = nn.Linear(config.d_model, config.d_model)
        self.resid_dropout = nn.Dropout(config.dropout)

    def forward(self, x, cos, sin, past=None):
        # x: (B, T, C); cos, sin: (T, D/2) for the positions of x; past: (keys, values) or None
        B, T, C = x.shape
        q, k, v = self.qkv(x).split(C, dim=2)  # (B, T, C) each
        # (B, T, C) -> (B, H, T, D) with D = C / H
        q, k, v = (t.view(B, T, self.n_heads, C // self.n_heads).transpose(1, 2) for t in (q, k, v))
        q, k = _rotate(q, cos, sin), _rotate(k, cos, sin)
        if past is not None:
            k = torch.cat((past[0], k), dim=2)  # (B, H, T_past + T, D)
            v = torch.cat((past[1], v), dim=2)
        # is_causal masks the upper-left triangle, which is right only when queries and keys start
        # together; a single new query after a cache may see every key, so it needs no mask
        causal = past is None or T > 1
        if past is not None and T > 1 and past[0].shape[2] > 0:
            raise ValueError("after a cache, feed one token at a time")
        # no dropout on the attention weights: on the CPU it forces the unfused kernel, which
        # materialises (B, H, T, T) probabilities and a Bernoulli mask and trains ~5x slower;
        # dropout on the residual branches regularises enough
        y = F.scaled_dot_product_attention(q, k, v, is_causal=causal)  # (B, H, T, D)
        y = y.transpose(1, 2).contiguous().view(B, T, C)  # (B, T, C)
        return self.resid_dropout(self.proj(y)), (k, v)


class Block(nn.Module):
    """Pre-norm transformer block: x + attention(norm(x)), then x + mlp(norm(x))."""

    def __init__(self, config: TransformerConfig):
        super().__init__()
        self.norm1 = nn.LayerNorm(config.d_model)
        self.attn = CausalSelfAttention(config)
        self.norm2 = nn.LayerNorm(config.d_model)
        self.mlp = nn.Sequential(
            nn.Linear(config.d_model, config.d_ff),
            nn.GELU(),
            nn.Linear(config.d_ff, config.d_model),
            nn.Dropout(config.dropout),
        )

    def forward(self, x, cos, sin, past=None):
        a, kv = self.attn(self.norm1(x), cos, sin, past)
        x = x + a
        return x + self.mlp(self.norm2(x)), kv


class DecoderTransformer(nn.Module):
    """Next-token logits for token sequences; `forward(tokens, token_types) -> (B, T, vocab)`."""

    def __init__(self, config: TransformerConfig):
        super().__init__()
        self.config = config
        self.token_embedding = nn.Embedding(config.vocab_size, config.d_model)
        self.type_embedding = (
            nn.Embedding(config.n_token_types, config.d_model) if config.n_token_types else None
        )
        self.dropout = nn.Dropout(config.dropout)
        self.blocks = nn.ModuleList(Block(config) for _ in range(config.n_layers))
        self.norm = nn.LayerNorm(config.d_model)
        cos, sin = _rotary_tables(
            config.max_len, config.d_model // config.n_heads, config.rope_base
        )
        # derived from the config, so not saved with the weights
        self.register_buffer("rope_cos", cos, persistent=False)
        self.register_buffer("rope_sin", sin, persistent=False)
        self.apply(self._init_weights)
        # GPT-2's scaled init of the projections that write into the residual stream
        for name, p in self.named_parameters():
            if name.endswith(("attn.proj.weight", "mlp.2.weight")):
                nn.init.normal_(p, mean=0.0, std=0.02 / math.sqrt(2 * config.n_layers))

    @staticmethod
    def _init_weights(module):
        if isinstance(module, nn.Linear):
            nn.init.normal_(module.weight, mean=0.0, std=0.02)
            nn.init.zeros_(module.bias)
        elif isinstance(module, nn.Embedding):
            nn.init.normal_(module.weight, mean=0.0, std=0.02)

    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())

    def forward(
        self,
        tokens: torch.Tensor,
        token_types: torch.Tensor | None = None,
        cache: KVCache | None = None,
    ) -> tuple[torch.Tensor, KVCache]:
        """Logits (B, T, vocab_size) for tokens (B, T) (and their types (B, T)), plus the cache.

        Pass `cache=[]` to start one (the prompt may then be any length); afterwards feed one token
        at a time with the returned cache. Positions count from the first token of the cache.
        """
        T = tokens.shape[1]
        start = cache[0][0].shape[2] if cache else 0
        if start + T > self.config.max_len:
            raise ValueError(
                f"sequence of {start + T} tokens exceeds max_len {self.config.max_len}"
            )
        x = self.token_embedding(tokens)  # (B, T, C)
        if self.type_embedding is not None:
            if token_types is None:
                raise ValueError("this model needs token_types")
            x = x + self.type_embedding(token_types)
        x = self.dropout(x)
        cos = self.rope_cos[start : start + T]  # (T, D/2)
        sin = self.rope_sin[start : start + T]
        new_cache: KVCache = []
        for i, block in enumerate(self.blocks):
            x, kv = block(x, cos, sin, cache[i] if cache else None)
            new_cache.append(kv)
        x = self.norm(x)  # (B, T, C)
        logits = F.linear(x, self.token_embedding.weight)  # tied output: (B, T, vocab_size)
        return logits, new_cache
