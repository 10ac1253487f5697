"""The shapes model in PyTorch: a CLIP-style vision tower, LLaVA-1.5's MLP projector and a small
llama LLM, computing what the engine computes from the GGUF pair export.py writes.

Vision tower as Hugging Face's CLIPVisionModel does it, which is also what the patched libmtmd
graph runs: patch embedding (no bias), class token FIRST, position embeddings for 0..n, pre-layer
norm, pre-norm blocks, and the features of `hidden_states[-2]`, i.e. the output of the last block
that the GGUF stores (the LLaVA-1.5 converter stores num_hidden_layers - 1 blocks), class token
dropped. ggml's GELU is the tanh approximation, so every GELU here is too.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn


HEAD_WIDTH = 32  # the tower's attention head width (128 wide: 4 heads)


@dataclass
class VisionConfig:
    image_size: int = 112
    patch_size: int = 14
    width: int = 128
    blocks: int = 4  # stored blocks; the notional CLIP has blocks + 1 layers
    heads: int = 4
    ffn: int = 512
    eps: float = 1e-5

    @property
    def grid(self) -> int:
        return self.image_size // self.patch_size

    @property
    def patches(self) -> int:
        return self.grid**2


@dataclass
class LlmConfig:
    vocab: int
    width: int = 128
    layers: int = 3
    heads: int = 4
    ffn: int = 384
    eps: float = 1e-5
    rope_base: float = 10000.0
    context: int = 2048


def attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, causal: bool = False) -> torch.Tensor:
    """Softmax attention with 1/sqrt(head_dim) scaling; (B, H, N, D) tensors (PyTorch 1.13 has no
    scaled_dot_product_attention)."""
    w = (q @ k.transpose(-2, -1)) * (q.shape[-1] ** -0.5)
    if causal:
        n = q.shape[-2]
        w = w.masked_fill(torch.ones(n, n, dtype=torch.bool).triu(1), float("-inf"))
    return w.softmax(-1) @ v


def gelu(x: torch.Tensor) -> torch.Tensor:
    """ggml's GELU, the tanh approximation. In float32 even under bfloat16 autocast (train.py
    --bf16): PyTorch's bfloat16 GELU on CPU is both slower and coarser."""
    with torch.autocast("cpu", enabled=False):
        return F.gelu(x.float(), approximate="tanh")


def gelu_exact(x: torch.Tensor) -> torch.Tensor:
    """The erf GELU, within 5e-4 of ggml's tanh approximation everywhere and about 3 x faster in
    PyTorch on CPU (its tanh is not vectorised): train.py pretrains the tower with it (stage 1,
    most of the training time) and uses `gelu` from then on, so the exported pair computes what
    ggml computes."""
    with torch.autocast("cpu", enabled=False):
        return F.gelu(x.float())


class VisionBlock(nn.Module):
    def __init__(self, c: VisionConfig):
        super().__init__()
        self.heads = c.heads
        self.ln1 = nn.LayerNorm(c.width, eps=c.eps)
        self.q = nn.Linear(c.width, c.width)
        self.k = nn.Linear(c.width, c.width)
        self.v = nn.Linear(c.width, c.width)
        self.out = nn.Linear(c.width, c.width)
        self.ln2 = nn.LayerNorm(c.width, eps=c.eps)
        self.up = nn.Linear(c.width, c.ffn)
        self.down = nn.Linear(c.ffn, c.width)
        self.act = gelu  # gelu_exact while train.py pretrains the tower

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, n, d = x.shape
        h = self.ln1(x)
        # q, k and v in one product (the same arithmetic as three; one larger product is faster)
        qkv = F.linear(h, torch.cat([self.q.weight, self.k.weight, self.v.weight]), torch.cat([self.q.bias, self.k.bias, self.v.bias]))
        q, k, v = qkv.view(b, n, 3, self.heads, d // self.heads).permute(2, 0, 3, 1, 4)
        a = attention(q, k, v)
        x = x + self.out(a.transpose(1, 2).reshape(b, n, d))
        return x + self.down(self.act(self.up(self.ln2(x))))


def vision_config_of(weights: dict) -> VisionConfig:
    """The configuration a tower's state dict was trained with, for tools that load a bare
    `vision.pt`: its input size follows from the length of its position table, its depth from
    its block weights, its width and feed-forward width from their shapes; the head count is not
    in the weights and is taken as train.py sets it (32 wide each)."""
    grid = round((weights["pos"].shape[0] - 1) ** 0.5)
    blocks = 1 + max(int(k.split(".")[1]) for k in weights if k.startswith("blocks."))
    width, ffn = weights["pos"].shape[1], weights["blocks.0.up.weight"].shape[0]
    return tower_config(grid * VisionConfig.patch_size, blocks, width, ffn)


def tower_config(image_size: int, blocks: int, width: int, ffn: int | None = None) -> VisionConfig:
    """A tower `width` wide, shaped as train.py shapes every tower: heads HEAD_WIDTH wide, and a
    feed-forward 4 x as wide unless the weights say otherwise."""
    return VisionConfig(image_size=image_size, blocks=blocks, width=width, heads=width // HEAD_WIDTH,
                        ffn=4 * width if ffn is None else ffn)


def sincos_positions(grid: int, width: int, scale: float = 0.5) -> torch.Tensor:
    """Initial position embeddings: the class token's zero, then a 2-D sine-cosine code of each
    patch's row and column (as MAE initialises its ViT). A learned random start left the tower
    slower to relate neighbouring patches. Trained further like any parameter."""
    d = width // 4
    omega = 1.0 / 10000 ** (torch.arange(d, dtype=torch.float32) / d)
    ys, xs = torch.meshgrid(torch.arange(grid, dtype=torch.float32), torch.arange(grid, dtype=torch.float32), indexing="ij")

    def code(p: torch.Tensor) -> torch.Tensor:
        o = p.reshape(-1, 1) * omega[None]
        return torch.cat([o.sin(), o.cos()], dim=1)

    patches = torch.cat([code(ys), code(xs)], dim=1) * scale
    return torch.cat([torch.zeros(1, width), patches])


class VisionTower(nn.Module):
    def __init__(self, c: VisionConfig):
        super().__init__()
        self.c = c
        self.patch = nn.Conv2d(3, c.width, c.patch_size, stride=c.patch_size, bias=False)
        self.cls = nn.Parameter(torch.randn(c.width) * 0.02)
        self.pos = nn.Parameter(sincos_positions(c.grid, c.width))
        self.pre_ln = nn.LayerNorm(c.width, eps=c.eps)
        self.blocks = nn.ModuleList(VisionBlock(c) for _ in range(c.blocks))

    def forward(self, pixels: torch.Tensor) -> torch.Tensor:
        """(B, 3, S, S) normalised pixels -> (B, patches, width) features, class token dropped."""
        return self.block_outputs(pixels)[-1]

    def block_outputs(self, pixels: torch.Tensor) -> list[torch.Tensor]:
        """Each stored block's output (B, patches, width), class token dropped; the last is forward's
        (the reference's hidden_states[-2]). Unlike hidden_states, no entry for the embeddings."""
        # In float32 even under bfloat16 autocast: the bfloat16 convolution's backward pass is slow
        # on CPU, and the pixels are the one input that bfloat16 would coarsen.
        with torch.autocast("cpu", enabled=False):
            x = self.patch(pixels).flatten(2).transpose(1, 2)
            x = torch.cat([self.cls.expand(x.shape[0], 1, -1), x], dim=1) + self.pos
            x = self.pre_ln(x)
        out = []
        for blk in self.blocks:
            x = blk(x)
            out.append(x[:, 1:])
        return out


class Projector(nn.Module):
    """LLaVA-1.5's mm.0 -> GELU -> mm.2."""

    def __init__(self, vision_width: int, llm_width: int):
        super().__init__()
        self.mm0 = nn.Linear(vision_width, llm_width)
        self.mm2 = nn.Linear(llm_width, llm_width)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.mm2(gelu(self.mm0(x)))


class RmsNorm(nn.Module):
    def __init__(self, d: int, eps: float):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(d))
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


def rope(x: torch.Tensor, base: float) -> torch.Tensor:
    """ggml's LLAMA_ROPE_TYPE_NORM: rotates adjacent pairs (x[2i], x[2i+1]) by pos * base^(-2i/d).
    x: (B, H, N, D)."""
    n, d = x.shape[-2], x.shape[-1]
    inv = base ** (-torch.arange(0, d, 2, dtype=torch.float32) / d)
    ang = torch.arange(n, dtype=torch.float32)[:, None] * inv[None, :]
    cos, sin = ang.cos(), ang.sin()
    x0, x1 = x[..., 0::2], x[..., 1::2]
    return torch.stack([x0 * cos - x1 * sin, x0 * sin + x1 * cos], dim=-1).flatten(-2)


class LlmBlock(nn.Module):
    def __init__(self, c: LlmConfig):
        super().__init__()
        self.c = c
        self.attn_norm = RmsNorm(c.width, c.eps)
        self.q = nn.Linear(c.width, c.width, bias=False)
        self.k = nn.Linear(c.width, c.width, bias=False)
        self.v = nn.Linear(c.width, c.width, bias=False)
        self.o = nn.Linear(c.width, c.width, bias=False)
        self.ffn_norm = RmsNorm(c.width, c.eps)
        self.gate = nn.Linear(c.width, c.ffn, bias=False)
        self.up = nn.Linear(c.width, c.ffn, bias=False)
        self.down = nn.Linear(c.ffn, c.width, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, n, d = x.shape
        hd = d // self.c.heads
        h = self.attn_norm(x)
        q, k, v = (t(h).view(b, n, self.c.heads, hd).transpose(1, 2) for t in (self.q, self.k, self.v))
        q, k = rope(q, self.c.rope_base), rope(k, self.c.rope_base)
        a = attention(q, k, v, causal=True)
        x = x + self.o(a.transpose(1, 2).reshape(b, n, d))
        h = self.ffn_norm(x)
        return x + self.down(F.silu(self.gate(h)) * self.up(h))


class Llm(nn.Module):
    def __init__(self, c: LlmConfig):
        super().__init__()
        self.c = c
        self.embed = nn.Embedding(c.vocab, c.width)
        nn.init.normal_(self.embed.weight, std=0.5)
        self.blocks = nn.ModuleList(LlmBlock(c) for _ in range(c.layers))
        self.norm = RmsNorm(c.width, c.eps)
        self.output = nn.Linear(c.width, c.vocab, bias=False)

    def forward(self, embeddings: torch.Tensor) -> torch.Tensor:
        x = embeddings
        for blk in self.blocks:
            x = blk(x)
        return self.output(self.norm(x))
