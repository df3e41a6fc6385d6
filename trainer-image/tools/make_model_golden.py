#!/usr/bin/python3
"""Golden values for the trainer's model tests (io.milan.trainer.model.GoldenTest).

Implements the formulas of /work/shared/research/milan-reference.md with plain PyTorch ops (our own code,
not the reference repository's) for tiny configurations, and writes safetensors fixtures holding random
weights under the reference / Hugging Face names, the inputs, and the expected outputs. Expected values are
computed in float64 from the float32-rounded weights and inputs, so the Java side (float32) should match
them to rounding error.

Run with Debian's python3-torch (1.13) and numpy:
    /usr/bin/python3 trainer-image/tools/make_model_golden.py trainer-image/src/test/resources/model
"""
import json
import struct
import sys
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

torch.set_default_dtype(torch.float64)
GEN = torch.Generator().manual_seed(20240601)

# Tiny shapes; every width differs so a transposed weight cannot go unnoticed.
N = 2
IMG, PATCH = 16, 4
GRID = IMG // PATCH
L = GRID * GRID
MASK_RATIO = 0.75
KEEP = int(L * (1 - MASK_RATIO))
ENC = dict(dim=16, depth=2, heads=2, mlp=64)
DEC = dict(dim=12, depth=2, heads=3, mlp=48, out=8)
CLIP = dict(width=24, layers=2, heads=3, mlp=96, proj=8)
TIMM_EPS, CLIP_EPS = 1e-6, 1e-5


# ---------------------------------------------------------------- weights


def rounded(t):
    """float32-representable float64 values: the Java model stores float32."""
    return t.float().double()


def randn(*shape, std=1.0):
    return rounded(torch.randn(*shape, generator=GEN) * std)


def sincos_2d(dim, grid, cls_row):
    """Column half first: [sin(c w), cos(c w), sin(r w), cos(r w)], w_i = 1/10000^(i/(dim/4))."""
    q = dim // 4
    omega = 1.0 / 10000.0 ** (np.arange(q, dtype=np.float64) / q)
    r, c = np.divmod(np.arange(grid * grid), grid)
    cw, rw = np.outer(c, omega), np.outer(r, omega)
    table = np.concatenate([np.sin(cw), np.cos(cw), np.sin(rw), np.cos(rw)], axis=1)
    if cls_row:
        table = np.concatenate([np.zeros((1, dim)), table], axis=0)
    return rounded(torch.from_numpy(table)).unsqueeze(0)


def linear_w(w, name, n_in, n_out, bias=True):
    w[name + ".weight"] = randn(n_out, n_in, std=n_in ** -0.5)
    if bias:
        w[name + ".bias"] = randn(n_out, std=0.1)


def norm_w(w, name, dim):
    w[name + ".weight"] = rounded(1 + 0.2 * torch.randn(dim, generator=GEN))
    w[name + ".bias"] = randn(dim, std=0.1)


def timm_block_w(w, prefix, dim, mlp, prompting=False):
    norm_w(w, prefix + ".norm1", dim)
    if prompting:
        linear_w(w, prefix + ".attn.q", dim, dim)
        linear_w(w, prefix + ".attn.kv", dim, 2 * dim)
    else:
        linear_w(w, prefix + ".attn.qkv", dim, 3 * dim)
    linear_w(w, prefix + ".attn.proj", dim, dim)
    norm_w(w, prefix + ".norm2", dim)
    linear_w(w, prefix + ".mlp.fc1", dim, mlp)
    linear_w(w, prefix + ".mlp.fc2", mlp, dim)


def pretrain_weights(prompting):
    w = {}
    d, dd = ENC["dim"], DEC["dim"]
    w["cls_token"] = randn(1, 1, d, std=0.5)
    w["pos_embed"] = sincos_2d(d, GRID, True)
    w["mask_token"] = randn(1, 1, dd, std=0.5)
    w["decoder_pos_embed"] = sincos_2d(dd, GRID, True)
    w["patch_embed.proj.weight"] = randn(d, 3, PATCH, PATCH, std=(3 * PATCH * PATCH) ** -0.5)
    w["patch_embed.proj.bias"] = randn(d, std=0.1)
    for i in range(ENC["depth"]):
        timm_block_w(w, f"blocks.{i}", d, ENC["mlp"])
    norm_w(w, "norm", d)
    linear_w(w, "decoder_embed", d, dd)
    for i in range(DEC["depth"]):
        timm_block_w(w, f"decoder_blocks.{i}", dd, DEC["mlp"], prompting)
    norm_w(w, "decoder_norm", dd)
    linear_w(w, "decoder_pred", dd, DEC["out"])
    return w


# ---------------------------------------------------------------- model math


def ln(x, w, name, eps):
    return F.layer_norm(x, (x.shape[-1],), w[name + ".weight"], w[name + ".bias"], eps)


def lin(x, w, name):
    return F.linear(x, w[name + ".weight"], w.get(name + ".bias"))


def heads_of(x, heads):  # [N,T,C] -> [N,H,T,C/H]
    n, t, c = x.shape
    return x.reshape(n, t, heads, c // heads).permute(0, 2, 1, 3)


def merge(x):  # [N,H,T,d] -> [N,T,H*d]
    n, h, t, d = x.shape
    return x.permute(0, 2, 1, 3).reshape(n, t, h * d)


def attend(q, k, v):
    weights = torch.softmax(q @ k.transpose(-2, -1) * q.shape[-1] ** -0.5, dim=-1)
    return weights @ v, weights


def take(x, ids):  # x [N,T,C], ids [N,K] -> [N,K,C]
    return torch.gather(x, 1, ids.unsqueeze(-1).expand(-1, -1, x.shape[-1]))


def mlp(x, w, prefix):
    return lin(F.gelu(lin(x, w, prefix + ".fc1")), w, prefix + ".fc2")


def timm_block(x, w, prefix, heads):
    """Pre-norm block; the fused qkv output is read as (3, heads, head_dim) like the reference's reshape."""
    n, t, c = x.shape
    qkv = lin(ln(x, w, prefix + ".norm1", TIMM_EPS), w, prefix + ".attn.qkv")
    q, k, v = qkv.reshape(n, t, 3, heads, c // heads).permute(2, 0, 3, 1, 4)
    out, weights = attend(q, k, v)
    x = x + lin(merge(out), w, prefix + ".attn.proj")
    x = x + mlp(ln(x, w, prefix + ".norm2", TIMM_EPS), w, prefix + ".mlp")
    return x, weights


def patch_tokens(images, w):
    x = F.conv2d(images, w["patch_embed.proj.weight"], w["patch_embed.proj.bias"], stride=PATCH)
    return x.flatten(2).transpose(1, 2) + w["pos_embed"][:, 1:]


def encoder_masked(images, w, ids_keep):
    x = take(patch_tokens(images, w), ids_keep)
    cls = (w["cls_token"] + w["pos_embed"][:, :1]).expand(images.shape[0], -1, -1)
    x = torch.cat([cls, x], dim=1)
    for i in range(ENC["depth"]):
        x, _ = timm_block(x, w, f"blocks.{i}", ENC["heads"])
    return ln(x, w, "norm", TIMM_EPS)


def encoder_all(images, w):
    """All tokens, normed, and the last block's head-averaged cls attention row."""
    x = patch_tokens(images, w)
    cls = (w["cls_token"] + w["pos_embed"][:, :1]).expand(images.shape[0], -1, -1)
    x = torch.cat([cls, x], dim=1)
    for i in range(ENC["depth"]):
        x, weights = timm_block(x, w, f"blocks.{i}", ENC["heads"])
    return ln(x, w, "norm", TIMM_EPS), weights[:, :, 0, :].mean(dim=1)


def decoder_input(latent, w, ids_restore):
    x = lin(latent, w, "decoder_embed")
    n, dd = x.shape[0], x.shape[2]
    masks = w["mask_token"].expand(n, L - KEEP, dd)
    patches = take(torch.cat([x[:, 1:], masks], dim=1), ids_restore)
    return torch.cat([x[:, :1], patches], dim=1) + w["decoder_pos_embed"]


def prompting_decoder(latent, w, ids_keep, ids_dump, ids_restore):
    full = decoder_input(latent, w, ids_restore)
    fix_cls, fix_vis = full[:, :1], take(full[:, 1:], ids_keep)
    x = take(full[:, 1:], ids_dump)
    heads = DEC["heads"]

    def assemble(masked):
        return torch.cat([fix_cls, take(torch.cat([fix_vis, masked], dim=1), ids_restore)], dim=1)

    for i in range(DEC["depth"]):
        p = f"decoder_blocks.{i}"
        h = ln(x, w, p + ".norm1", TIMM_EPS)
        q = heads_of(lin(h, w, p + ".attn.q"), heads)
        n, t, _ = full.shape
        kv = lin(assemble(h), w, p + ".attn.kv").reshape(n, t, 2, heads, DEC["dim"] // heads)
        k, v = kv.permute(2, 0, 3, 1, 4)
        out, _ = attend(q, k, v)
        x = x + lin(merge(out), w, p + ".attn.proj")
        x = x + mlp(ln(x, w, p + ".norm2", TIMM_EPS), w, p + ".mlp")
    return lin(ln(assemble(x), w, "decoder_norm", TIMM_EPS), w, "decoder_pred")


def mae_decoder(latent, w, ids_restore):
    x = decoder_input(latent, w, ids_restore)
    for i in range(DEC["depth"]):
        x, _ = timm_block(x, w, f"decoder_blocks.{i}", DEC["heads"])
    return lin(ln(x, w, "decoder_norm", TIMM_EPS), w, "decoder_pred")


def milan_loss(pred, target):
    p = pred / pred.norm(dim=-1, keepdim=True)
    t = target / target.norm(dim=-1, keepdim=True)
    return (2 - 2 * (p * t).sum(dim=-1)).mean()


# ---------------------------------------------------------------- CLIP tower (HF layout, torch's MHA)


def clip_weights():
    w, c = {}, CLIP
    width, v = c["width"], "vision_model."
    w[v + "embeddings.class_embedding"] = randn(width, std=0.5)
    w[v + "embeddings.patch_embedding.weight"] = randn(width, 3, PATCH, PATCH, std=(3 * PATCH * PATCH) ** -0.5)
    w[v + "embeddings.position_embedding.weight"] = randn(1 + L, width, std=0.3)
    norm_w(w, v + "pre_layrnorm", width)
    for i in range(c["layers"]):
        p = f"{v}encoder.layers.{i}."
        for proj in ("k_proj", "v_proj", "q_proj", "out_proj"):
            linear_w(w, p + "self_attn." + proj, width, width)
        norm_w(w, p + "layer_norm1", width)
        linear_w(w, p + "mlp.fc1", width, c["mlp"])
        linear_w(w, p + "mlp.fc2", c["mlp"], width)
        norm_w(w, p + "layer_norm2", width)
    norm_w(w, v + "post_layernorm", width)
    w["visual_projection.weight"] = randn(c["proj"], width, std=width ** -0.5)
    # Text tower and logit scale: present in the HF checkpoint, must be ignored by the teacher.
    w["text_model.embeddings.token_embedding.weight"] = randn(10, width)
    norm_w(w, "text_model.final_layer_norm", width)
    w["text_projection.weight"] = randn(c["proj"], width)
    w["logit_scale"] = rounded(torch.tensor(2.6592))
    return w


def clip_forward(images, w):
    """CLIP image tower with torch.nn.MultiheadAttention (average_attn_weights) as an independent check."""
    c, v = CLIP, "vision_model."
    width, n = c["width"], images.shape[0]
    x = F.conv2d(images, w[v + "embeddings.patch_embedding.weight"], None, stride=PATCH).flatten(2).transpose(1, 2)
    cls = w[v + "embeddings.class_embedding"].expand(n, 1, width)
    x = torch.cat([cls, x], dim=1) + w[v + "embeddings.position_embedding.weight"]
    x = ln(x, w, v + "pre_layrnorm", CLIP_EPS)
    weights = None
    for i in range(c["layers"]):
        p = f"{v}encoder.layers.{i}."
        mha = torch.nn.MultiheadAttention(width, c["heads"], batch_first=True)
        with torch.no_grad():
            mha.in_proj_weight.copy_(torch.cat([w[p + f"self_attn.{s}_proj.weight"] for s in "qkv"]))
            mha.in_proj_bias.copy_(torch.cat([w[p + f"self_attn.{s}_proj.bias"] for s in "qkv"]))
            mha.out_proj.weight.copy_(w[p + "self_attn.out_proj.weight"])
            mha.out_proj.bias.copy_(w[p + "self_attn.out_proj.bias"])
            h = ln(x, w, p + "layer_norm1", CLIP_EPS)
            out, weights = mha(h, h, h, need_weights=True, average_attn_weights=True)
        x = x + out
        h = lin(ln(x, w, p + "layer_norm2", CLIP_EPS), w, p + "mlp.fc1")
        x = x + lin(h * torch.sigmoid(1.702 * h), w, p + "mlp.fc2")
    tokens = ln(x, w, v + "post_layernorm", CLIP_EPS)
    return F.linear(tokens, w["visual_projection.weight"]), weights[:, 0, :]


# ---------------------------------------------------------------- safetensors


def save(path, tensors):
    header, blobs, offset = {}, [], 0
    for name, t in tensors.items():
        t = t.detach()
        if t.is_floating_point():
            data, dtype = t.float().contiguous().numpy().astype("<f4").tobytes(), "F32"
        else:
            data, dtype = t.long().contiguous().numpy().astype("<i8").tobytes(), "I64"
        header[name] = {"dtype": dtype, "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    raw = json.dumps(header).encode()
    raw += b" " * (-len(raw) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(raw)) + raw + b"".join(blobs))
    print(f"wrote {path} ({8 + len(raw) + offset} bytes, {len(tensors)} tensors)")


def main(out_dir):
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    images = randn(N, 3, IMG, IMG)
    ids_shuffle = torch.argsort(torch.rand(N, L, generator=GEN), dim=1)
    ids_restore = torch.argsort(ids_shuffle, dim=1)
    ids_keep, ids_dump = ids_shuffle[:, :KEEP], ids_shuffle[:, KEEP:]
    mask = (ids_restore >= KEEP).double()
    targets = randn(N, 1 + L, DEC["out"])

    for prompting, name in ((True, "pretrain_prompting"), (False, "pretrain_mae")):
        w = pretrain_weights(prompting)
        latent = encoder_masked(images, w, ids_keep)
        if prompting:
            pred = prompting_decoder(latent, w, ids_keep, ids_dump, ids_restore)
        else:
            pred = mae_decoder(latent, w, ids_restore)
        loss = milan_loss(pred, targets)
        fixture = dict(w)
        fixture.update({
            "input.images": images, "input.ids_shuffle": ids_shuffle, "input.targets": targets,
            "expected.latent": latent, "expected.pred": pred, "expected.mask": mask,
            "expected.loss": loss.reshape(1),
        })
        if prompting:
            tokens, cls_attention = encoder_all(images, w)
            projection = randn(DEC["out"], ENC["dim"], std=ENC["dim"] ** -0.5)
            fixture.update({
                "input.projection": projection,
                "expected.encoder_tokens": tokens,
                "expected.encoder_cls_attention": cls_attention,
                "expected.encoder_targets": F.linear(tokens, projection),
            })
        save(out / f"{name}.safetensors", fixture)
        print(f"  {name}: loss = {loss.item():.8f}")

    w = clip_weights()
    clip_targets, clip_attention = clip_forward(images, w)
    fixture = dict(w)
    fixture["vision_model.embeddings.position_ids"] = torch.arange(1 + L).unsqueeze(0)  # legacy buffer, I64
    fixture.update({"input.images": images, "expected.targets": clip_targets,
                    "expected.cls_attention": clip_attention})
    save(out / "clip_tiny.safetensors", fixture)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "trainer-image/src/test/resources/model")
