"""Writes a trained shapes model as a GGUF pair the way llama.cpp's converters write LLaVA-1.5:
`shapes-llm.gguf` (architecture llama, SPM vocabulary with byte fallback, no chat template, so the
app prompts it with vicuna_v1 byte for byte) and `shapes-mmproj.gguf` (architecture clip, MLP
projector, `block_count` = the stored blocks and `feature_layer` = [block_count], as
convert_image_encoder_to_gguf.py writes a tower whose features are hidden_states[-2]).

Uses gguf-py from the llama.cpp source that scripts/build-native.mjs checks out.
Usage: python3 scripts/shapes-model/export.py --checkpoint DIR/shapes-model.pt --out DIR
"""
from __future__ import annotations

import argparse
import os
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "..", "native", "build", "llama.cpp", "gguf-py"))

import gguf  # noqa: E402

from views import CLIP_MEAN, CLIP_STD  # noqa: E402
from vocab import BOS, EOS, UNK, build_vocab  # noqa: E402


def f32(t: torch.Tensor) -> np.ndarray:
    return t.detach().float().numpy().astype(np.float32)


def weight(t: torch.Tensor, dtype: str) -> np.ndarray:
    """Matrices in F16 or F32 as asked; norms, biases and embeddings of the tower stay F32."""
    a = f32(t)
    return a.astype(np.float16) if dtype == "f16" and a.ndim >= 2 else a


def write_llm(path: str, sd: dict, cfg: dict, dtype: str) -> None:
    tokens, scores, types = build_vocab()
    w = gguf.GGUFWriter(path, "llama")
    w.add_name("llava-desk shapes model LLM")
    w.add_description("A small LLaVA-1.5-architecture LLM trained on synthetic shapes; see tests/fixtures/shapes-model/manifest.json")
    w.add_context_length(cfg["context"])
    w.add_embedding_length(cfg["width"])
    w.add_block_count(cfg["layers"])
    w.add_feed_forward_length(cfg["ffn"])
    w.add_rope_dimension_count(cfg["width"] // cfg["heads"])
    w.add_head_count(cfg["heads"])
    w.add_head_count_kv(cfg["heads"])
    w.add_layer_norm_rms_eps(cfg["eps"])
    w.add_rope_freq_base(cfg["rope_base"])
    w.add_file_type(1 if dtype == "f16" else 0)
    w.add_tokenizer_model("llama")
    w.add_tokenizer_pre("default")
    w.add_token_list(tokens)
    w.add_token_scores(scores)
    w.add_token_types(types)
    w.add_bos_token_id(BOS)
    w.add_eos_token_id(EOS)
    w.add_unk_token_id(UNK)
    w.add_pad_token_id(UNK)
    w.add_add_bos_token(True)
    w.add_add_eos_token(False)
    w.add_add_space_prefix(False)
    w.add_tensor("token_embd.weight", weight(sd["embed.weight"], dtype))
    for i in range(cfg["layers"]):
        p, q = f"blk.{i}", f"blocks.{i}"
        w.add_tensor(f"{p}.attn_norm.weight", f32(sd[f"{q}.attn_norm.weight"]))
        for a, b in (("attn_q", "q"), ("attn_k", "k"), ("attn_v", "v"), ("attn_output", "o")):
            w.add_tensor(f"{p}.{a}.weight", weight(sd[f"{q}.{b}.weight"], dtype))
        w.add_tensor(f"{p}.ffn_norm.weight", f32(sd[f"{q}.ffn_norm.weight"]))
        for a, b in (("ffn_gate", "gate"), ("ffn_up", "up"), ("ffn_down", "down")):
            w.add_tensor(f"{p}.{a}.weight", weight(sd[f"{q}.{b}.weight"], dtype))
    w.add_tensor("output_norm.weight", f32(sd["norm.weight"]))
    w.add_tensor("output.weight", weight(sd["output.weight"], dtype))
    _finish(w)


def write_mmproj(path: str, vsd: dict, psd: dict, cfg: dict, llm_width: int, dtype: str) -> None:
    w = gguf.GGUFWriter(path, "clip")
    w.add_name("llava-desk shapes model mmproj")
    w.add_description("image encoder for LLaVA")
    w.add_file_type(1 if dtype == "f16" else 0)
    w.add_bool("clip.has_text_encoder", False)
    w.add_bool("clip.has_vision_encoder", True)
    w.add_bool("clip.has_llava_projector", True)
    w.add_string("clip.projector_type", "mlp")
    w.add_bool("clip.use_gelu", True)
    w.add_uint32("clip.vision.image_size", cfg["image_size"])
    w.add_uint32("clip.vision.patch_size", cfg["patch_size"])
    w.add_uint32("clip.vision.embedding_length", cfg["width"])
    w.add_uint32("clip.vision.feed_forward_length", cfg["ffn"])
    w.add_uint32("clip.vision.projection_dim", llm_width)
    w.add_uint32("clip.vision.attention.head_count", cfg["heads"])
    w.add_float32("clip.vision.attention.layer_norm_epsilon", cfg["eps"])
    w.add_uint32("clip.vision.block_count", cfg["blocks"])
    w.add_array("clip.vision.feature_layer", [cfg["blocks"]])
    w.add_array("clip.vision.image_mean", list(CLIP_MEAN))
    w.add_array("clip.vision.image_std", list(CLIP_STD))
    w.add_tensor("mm.0.weight", weight(psd["mm0.weight"], dtype))
    w.add_tensor("mm.0.bias", f32(psd["mm0.bias"]))
    w.add_tensor("mm.2.weight", weight(psd["mm2.weight"], dtype))
    w.add_tensor("mm.2.bias", f32(psd["mm2.bias"]))
    # weight() keeps 1-D tensors (class token, norms, biases) in F32.
    for name, key in tower_tensor_names(cfg["blocks"]).items():
        w.add_tensor(name, weight(vsd[key], dtype))
    _finish(w)


def tower_tensor_names(blocks: int) -> dict[str, str]:
    """The vision tower's GGUF tensor names -> the PyTorch state-dict keys, in the order the
    mmproj stores them (also how lab.py reads a tower back)."""
    names = {"v.class_embd": "cls", "v.patch_embd.weight": "patch.weight", "v.position_embd.weight": "pos",
             "v.pre_ln.weight": "pre_ln.weight", "v.pre_ln.bias": "pre_ln.bias"}
    for i in range(blocks):
        p, q = f"v.blk.{i}", f"blocks.{i}"
        for a, b in (("attn_q", "q"), ("attn_k", "k"), ("attn_v", "v"), ("attn_out", "out"), ("ffn_up", "up"),
                     ("ffn_down", "down"), ("ln1", "ln1"), ("ln2", "ln2")):
            names[f"{p}.{a}.weight"] = f"{q}.{b}.weight"
            names[f"{p}.{a}.bias"] = f"{q}.{b}.bias"
    return names


def _finish(w: "gguf.GGUFWriter") -> None:
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--checkpoint", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--type", choices=["f16", "f32"], default="f16")
    args = ap.parse_args()
    ck = torch.load(args.checkpoint)
    os.makedirs(args.out, exist_ok=True)
    write_llm(os.path.join(args.out, "shapes-llm.gguf"), ck["llm"], ck["llm_config"], args.type)
    write_mmproj(os.path.join(args.out, "shapes-mmproj.gguf"), ck["vision"], ck["projector"], ck["vision_config"],
                 ck["llm_config"]["width"], args.type)
    print(f"export: wrote {args.out}/shapes-llm.gguf and shapes-mmproj.gguf")


if __name__ == "__main__":
    main()
