#!/usr/bin/env python3
"""PyTorch-eager counterpart of `milan-trainer bench` (same shapes, same thread count, same FLOP count).

  encoder : timm's VisionTransformer.forward_features on all tokens, loss = mean, backward, AdamW step
  pretrain: a MILAN step written like the reference (models_milan / engine_pretrain): CLIP-ViT-B/16-shaped
            teacher forward (timm, QuickGELU, random weights) returning tokens + last-block cls attention,
            semantic-aware (Gumbel top-k) or random masking, encoder on cls + visible tokens (timm blocks),
            MILAN's prompting decoder (only mask tokens are queries; keys/values = cls + visible + normed mask
            tokens), 2 - 2cos loss on all tokens, backward, AdamW (betas 0.9/0.95) step, zero_grad.
Prints a table and a BENCH_JSON line that compare.sh reads. Attention uses timm's default (fused
scaled_dot_product_attention), as the DJL model does through libmilantorch, unless --no-fused_attn (explicit
softmax(q k^T) v, what the DJL model ran before issue 20). On both sides the teacher's last block stays explicit,
since its cls-attention row drives semantic-aware masking.
--device cuda runs everything on the current CUDA device (bench/gpu-check.sh: beside `milan-trainer bench` on the
same GPU); each phase then ends with torch.cuda.synchronize(), as the trainer's bench ends each phase by reading
one element of its result, and the GEMM peak is measured there too.
"""
import argparse
import contextlib
import json
import math
import time
from functools import partial

import torch
import torch.nn as nn
import torch.nn.functional as F

SIZES = {"vit_tiny": (192, 12, 3), "vit_small": (384, 12, 6), "vit_base": (768, 12, 12),
         "vit_large": (1024, 24, 16), "vit_huge": (1280, 32, 16)}
CLIP = dict(width=768, layers=12, heads=12, mlp=3072, proj=512)
DEC = dict(dim=512, depth=8, heads=16, mlp=2048)


# --- FLOPs: the same formulas as io.milan.trainer.bench.FlopCount -------------------------------------------
def vit_block(t, d, h):
    return 2.0 * t * d * 3 * d + 2 * (2.0 * t * t * d) + 2.0 * t * d * d + 2 * (2.0 * t * d * h)


def encoder_fwd(d, depth, patches, visible, patch, chans=3):
    return 2.0 * patches * d * chans * patch * patch + depth * vit_block(1 + visible, d, 4 * d)


def decoder_fwd(enc_dim, patches, visible, out_dim):
    dd, hd = DEC["dim"], DEC["mlp"]
    m, s = patches - visible, 1 + patches
    block = 2.0 * m * dd * dd + 2.0 * s * dd * 2 * dd + 2 * (2.0 * m * s * dd) + 2.0 * m * dd * dd \
        + 2 * (2.0 * m * dd * hd)
    return 2.0 * (1 + visible) * enc_dim * dd + DEC["depth"] * block + 2.0 * (1 + patches) * dd * out_dim


def clip_fwd(patches, patch):
    w = CLIP["width"]
    return 2.0 * patches * w * 3 * patch * patch + CLIP["layers"] * vit_block(1 + patches, w, CLIP["mlp"]) \
        + 2.0 * (1 + patches) * w * CLIP["proj"]


# --- models -----------------------------------------------------------------------------------------------
def vit(args, dim, depth, heads):
    from timm.models.vision_transformer import VisionTransformer
    return VisionTransformer(img_size=args.input_size, patch_size=args.patch_size, embed_dim=dim, depth=depth,
                             num_heads=heads, mlp_ratio=4, qkv_bias=True, num_classes=0,
                             norm_layer=partial(nn.LayerNorm, eps=1e-6))


def clip_tower(args):
    import timm
    from timm.layers import QuickGELU
    from timm.models.vision_transformer import VisionTransformer
    return VisionTransformer(img_size=args.input_size, patch_size=args.patch_size, embed_dim=CLIP["width"],
                             depth=CLIP["layers"], num_heads=CLIP["heads"], mlp_ratio=4, qkv_bias=True,
                             pre_norm=True, num_classes=0, act_layer=QuickGELU,
                             norm_layer=partial(nn.LayerNorm, eps=1e-5))


def attention(q, k, v, fused):
    if fused:
        return F.scaled_dot_product_attention(q, k, v)
    return ((q * q.shape[-1] ** -0.5) @ k.transpose(-2, -1)).softmax(-1) @ v


class Teacher(nn.Module):
    """Tokens of every position through the final norm (+ projection) and the last block's cls attention."""

    def __init__(self, tower, proj_dim):
        super().__init__()
        self.tower = tower
        self.proj = nn.Linear(tower.embed_dim, proj_dim, bias=False) if proj_dim else None

    @torch.no_grad()
    def forward(self, images):
        t = self.tower
        x = t.norm_pre(t._pos_embed(t.patch_embed(images)))
        for blk in t.blocks[:-1]:
            x = blk(x)
        blk = t.blocks[-1]
        a = blk.attn
        b, n, c = x.shape
        qkv = a.qkv(blk.norm1(x)).reshape(b, n, 3, a.num_heads, c // a.num_heads).permute(2, 0, 3, 1, 4)
        q, k, v = qkv.unbind(0)
        weights = ((q * a.scale) @ k.transpose(-2, -1)).softmax(-1)
        x = x + a.proj((weights @ v).transpose(1, 2).reshape(b, n, c))
        x = x + blk.mlp(blk.norm2(x))
        x = t.norm(x)
        if self.proj is not None:
            x = self.proj(x)
        return x, weights[:, :, 0, :].mean(1)


class PromptingBlock(nn.Module):
    def __init__(self, dim, heads, fused):
        super().__init__()
        from timm.layers import Mlp
        self.heads, self.fused = heads, fused
        self.norm1, self.norm2 = nn.LayerNorm(dim, eps=1e-6), nn.LayerNorm(dim, eps=1e-6)
        self.q, self.kv, self.proj = nn.Linear(dim, dim), nn.Linear(dim, 2 * dim), nn.Linear(dim, dim)
        self.mlp = Mlp(dim, 4 * dim)

    def forward(self, x, cls, visible, ids_restore):
        h = self.norm1(x)
        full = torch.cat([cls, unshuffle(torch.cat([visible, h], 1), ids_restore)], 1)
        b, m, c = h.shape
        q = self.q(h).reshape(b, m, self.heads, c // self.heads).transpose(1, 2)
        kv = self.kv(full).reshape(b, full.shape[1], 2, self.heads, c // self.heads).permute(2, 0, 3, 1, 4)
        out = attention(q, kv[0], kv[1], self.fused).transpose(1, 2).reshape(b, m, c)
        x = x + self.proj(out)
        return x + self.mlp(self.norm2(x))


def gather(x, ids):
    return torch.gather(x, 1, ids.unsqueeze(-1).expand(-1, -1, x.shape[-1]))


def unshuffle(x, ids_restore):
    return gather(x, ids_restore)


class Milan(nn.Module):
    def __init__(self, args, dim, depth, heads, out_dim):
        super().__init__()
        self.encoder = vit(args, dim, depth, heads)
        self.encoder.pos_embed.requires_grad_(False)  # fixed sin-cos in MAE/MILAN
        dd = DEC["dim"]
        self.decoder_embed = nn.Linear(dim, dd)
        self.mask_token = nn.Parameter(torch.randn(1, 1, dd) * 0.02)
        self.decoder_pos_embed = nn.Parameter(torch.zeros(1, 1 + self.encoder.patch_embed.num_patches, dd),
                                              requires_grad=False)
        self.decoder_blocks = nn.ModuleList(PromptingBlock(dd, DEC["heads"], args.fused_attn)
                                            for _ in range(DEC["depth"]))
        self.decoder_norm = nn.LayerNorm(dd, eps=1e-6)
        self.decoder_pred = nn.Linear(dd, out_dim)

    def forward_encoder(self, images, ids_keep):
        e = self.encoder
        x = e.patch_embed(images) + e.pos_embed[:, 1:]
        x = gather(x, ids_keep)
        cls = (e.cls_token + e.pos_embed[:, :1]).expand(x.shape[0], -1, -1)
        x = torch.cat([cls, x], 1)
        for blk in e.blocks:
            x = blk(x)
        return e.norm(x)

    def forward_decoder(self, latent, ids_keep, ids_dump, ids_restore):
        e = self.decoder_embed(latent)
        b = e.shape[0]
        masks = self.mask_token.expand(b, ids_dump.shape[1], -1)
        full = torch.cat([e[:, :1], unshuffle(torch.cat([e[:, 1:], masks], 1), ids_restore)], 1)
        full = full + self.decoder_pos_embed
        cls, patches = full[:, :1], full[:, 1:]
        visible, x = gather(patches, ids_keep), gather(patches, ids_dump)
        for blk in self.decoder_blocks:
            x = blk(x, cls, visible, ids_restore)
        out = torch.cat([cls, unshuffle(torch.cat([visible, x], 1), ids_restore)], 1)
        return self.decoder_pred(self.decoder_norm(out))


def feature_loss(pred, target):
    return (2 - 2 * (F.normalize(pred, dim=-1, eps=1e-12) * F.normalize(target, dim=-1, eps=1e-12)).sum(-1)).mean()


def masking(importance, batch, patches, ratio, semantic):
    keep = int(patches * (1 - ratio))
    device = importance.device
    if semantic:  # Plackett-Luce order by Gumbel top-k, as Masking.semantic
        u = torch.rand(batch, patches, device=device).clamp_min(1e-12)
        keys = importance.clamp_min(torch.finfo(torch.float32).tiny).log() - torch.log(-torch.log(u))
        ids_shuffle = torch.argsort(keys, 1, descending=True)
    else:
        ids_shuffle = torch.argsort(torch.rand(batch, patches, device=device), 1)
    ids_restore = torch.argsort(ids_shuffle, 1)
    return ids_shuffle[:, :keep], ids_shuffle[:, keep:], ids_restore


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def gemm_peak(n, reps, device):
    if n == 0:
        return None
    a, b = torch.rand(n, n, device=device) * 2 - 1, torch.rand(n, n, device=device) * 2 - 1
    a @ b
    sync(device)
    best = math.inf
    for _ in range(reps):
        t = time.perf_counter()
        a @ b
        sync(device)
        best = min(best, time.perf_counter() - t)
    return 2.0 * n ** 3 / best / 1e9


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--mode", choices=["encoder", "pretrain"], default="pretrain")
    p.add_argument("--model", default="vit_base", choices=sorted(SIZES))
    p.add_argument("--batch_size", type=int, default=8)
    p.add_argument("--input_size", type=int, default=224)
    p.add_argument("--patch_size", type=int, default=16)
    p.add_argument("--steps", type=int, default=5)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--teacher", choices=["clip", "encoder"], default="clip")
    p.add_argument("--mask_ratio", type=float, default=0.75)
    p.add_argument("--attn_mask", action=argparse.BooleanOptionalAction, default=True)
    p.add_argument("--fused_attn", action=argparse.BooleanOptionalAction, default=True)
    # The trainer's AdamW is libtorch's fused kernel (optim/FusedAdamWStep); --no-fused_adamw measures PyTorch's
    # CPU default, the single-tensor loop.
    p.add_argument("--fused_adamw", action=argparse.BooleanOptionalAction, default=True)
    p.add_argument("--device", choices=["cpu", "cuda"], default="cpu",
                   help="cuda: the current CUDA device (CUDA_VISIBLE_DEVICES picks it)")
    p.add_argument("--tf32", action="store_true",
                   help="on CUDA, torch.backends.cuda.matmul.allow_tf32 = True (as milan-trainer bench --tf32)")
    p.add_argument("--amp", choices=["off", "fp16", "bf16"], default="off",
                   help="torch.autocast around the forwards and the loss (as milan-trainer bench --amp)")
    p.add_argument("--peak_size", type=int, default=2048)
    p.add_argument("--peak_reps", type=int, default=5)
    p.add_argument("--profile", metavar="DIR", help="torch.profiler trace of the last step, one Chrome trace per"
                   " phase (DIR/<phase>.json, as milan-trainer bench --profile); inflates that step's timings")
    args = p.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
        torch.set_num_interop_threads(1)
    import timm.layers
    timm.layers.set_fused_attn(args.fused_attn)
    torch.manual_seed(0)
    if args.device == "cuda" and not torch.cuda.is_available():
        raise SystemExit(f"torch_bench.py: --device cuda, but torch {torch.__version__} sees no CUDA device")
    device = torch.device(args.device, torch.cuda.current_device()) if args.device == "cuda" \
        else torch.device("cpu")
    if device.type == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = args.tf32  # cudnn.allow_tf32 stays at its default, True
    dim, depth, heads = SIZES[args.model]
    n = args.batch_size

    def autocast():
        if args.amp == "off":
            return contextlib.nullcontext()
        return torch.autocast(device.type, dtype=torch.float16 if args.amp == "fp16" else torch.bfloat16)

    step_peak = [None]

    def memory_start():  # the last step's peak allocation above its start, on CUDA (as milan-trainer bench)
        if device.type == "cuda" and step == args.warmup + args.steps - 1:
            torch.cuda.synchronize(device)
            torch.cuda.reset_peak_memory_stats(device)
            return torch.cuda.memory_allocated(device)
        return None

    def memory_end(start):
        if start is not None:
            torch.cuda.synchronize(device)
            step_peak[0] = torch.cuda.max_memory_allocated(device) - start
    patches = (args.input_size // args.patch_size) ** 2
    images = torch.randn(n, 3, args.input_size, args.input_size).to(device)
    times = {}
    profiler = [None]
    last_phase = "optimizer step"

    def profile_next():
        if args.profile and step == args.warmup + args.steps - 1:
            import os
            os.makedirs(args.profile, exist_ok=True)
            activities = [torch.profiler.ProfilerActivity.CPU]
            if device.type == "cuda":
                activities.append(torch.profiler.ProfilerActivity.CUDA)
            profiler[0] = torch.profiler.profile(activities=activities, record_shapes=True)
            profiler[0].__enter__()

    def tick(name, start):
        sync(device)
        now = time.perf_counter()
        if record:
            times.setdefault(name, []).append((now - start) * 1000)
        if profiler[0] is not None:
            import re
            profiler[0].__exit__(None, None, None)
            profiler[0].export_chrome_trace(f"{args.profile}/{re.sub('[^A-Za-z0-9]+', '_', name).lower()}.json")
            profiler[0] = None
            if name != last_phase:
                profile_next()
            now = time.perf_counter()
        return now

    flops = {}
    if args.mode == "encoder":
        model = vit(args, dim, depth, heads).to(device)
        params = [q for q in model.parameters() if q.requires_grad]
        opt = torch.optim.AdamW(params, lr=1e-4, betas=(0.9, 0.95), weight_decay=0.05, fused=args.fused_adamw)
        for step in range(args.warmup + args.steps):
            record = step >= args.warmup
            mem = memory_start()
            profile_next()
            t = time.perf_counter()
            with autocast():
                loss = model.forward_features(images).float().mean()
            loss.item()
            t = tick("encoder forward + loss", t)
            loss.backward()
            t = tick("backward", t)
            opt.step()
            opt.zero_grad(set_to_none=False)
            tick("optimizer step", t)
            memory_end(mem)
        fwd = encoder_fwd(dim, depth, patches, patches, args.patch_size) * n
        flops = {"encoder forward + loss": fwd, "backward": 2 * fwd}
    else:
        if args.teacher == "clip":
            teacher = Teacher(clip_tower(args), CLIP["proj"])
            teacher_flops = clip_fwd(patches, args.patch_size)
        else:
            teacher = Teacher(vit(args, dim, depth, heads), 0)
            teacher_flops = encoder_fwd(dim, depth, patches, patches, args.patch_size)
        out_dim = CLIP["proj"] if args.teacher == "clip" else dim
        teacher.eval().to(device)
        model = Milan(args, dim, depth, heads, out_dim).to(device)
        params = [q for q in model.parameters() if q.requires_grad]
        opt = torch.optim.AdamW(params, lr=1e-4, betas=(0.9, 0.95), weight_decay=0.05, fused=args.fused_adamw)
        visible = int(patches * (1 - args.mask_ratio))
        for step in range(args.warmup + args.steps):
            record = step >= args.warmup
            mem = memory_start()
            profile_next()
            t = time.perf_counter()
            with autocast():
                target, cls_attn = teacher(images)
            target, cls_attn = target.float(), cls_attn.float()
            t = tick("teacher forward", t)
            ids_keep, ids_dump, ids_restore = masking(cls_attn[:, 1:], n, patches, args.mask_ratio, args.attn_mask)
            t = tick("masking", t)
            with autocast():
                latent = model.forward_encoder(images, ids_keep)
                t = tick("encoder forward", t)
                loss = feature_loss(model.forward_decoder(latent, ids_keep, ids_dump, ids_restore).float(), target)
            loss.item()
            t = tick("decoder forward + loss", t)
            loss.backward()
            t = tick("backward", t)
            opt.step()
            opt.zero_grad(set_to_none=False)
            tick("optimizer step", t)
            memory_end(mem)
        enc = encoder_fwd(dim, depth, patches, visible, args.patch_size) * n
        dec = decoder_fwd(dim, patches, visible, out_dim) * n
        flops = {"teacher forward": teacher_flops * n, "encoder forward": enc, "decoder forward + loss": dec,
                 "backward": 2 * (enc + dec)}

    peak = gemm_peak(args.peak_size, args.peak_reps, device)
    ms = {k: sum(v) / len(v) for k, v in times.items()}
    total = sum(ms.values())
    total_flops = sum(flops.values())
    achieved = total_flops / (total / 1000) / 1e9
    print(f"torch_bench: {args.mode} step, {args.model} patch {args.patch_size}, {args.input_size} px, batch {n},"
          f" {torch.get_num_threads()} threads, {args.steps} steps after {args.warmup} warm-up, torch"
          f" {torch.__version__}, fused attention {args.fused_attn}, device {device}"
          + (f" ({torch.cuda.get_device_name(device)})" if device.type == "cuda" else ""))
    print(f"{'phase':<24} {'ms/step':>10} {'share':>7} {'GFLOP/step':>12} {'GFLOP/s':>10}")
    for k, v in ms.items():
        f = flops.get(k)
        print(f"{k:<24} {v:>10.1f} {100 * v / total:>6.1f}% {f / 1e9 if f else '-':>12.2f}"
              f" {f / 1e9 / (v / 1000) if f else '-':>10.1f}" if f else
              f"{k:<24} {v:>10.1f} {100 * v / total:>6.1f}% {'-':>12} {'-':>10}")
    print(f"{'total':<24} {total:>10.1f} {100.0:>6.1f}% {total_flops / 1e9:>12.2f} {achieved:>10.1f}")
    print(f"img/s: {n / (total / 1000):.2f}   achieved: {achieved:.1f} GFLOP/s   GEMM peak: "
          + (f"{peak:.1f} GFLOP/s ({args.peak_size}^3 fp32 matmul, best of {args.peak_reps})   MFU: "
             f"{100 * achieved / peak:.1f}%" if peak else "not measured"))
    print("BENCH_JSON " + json.dumps({
        "impl": "torch", "mode": args.mode, "model": args.model, "batch": n, "input_size": args.input_size,
        "threads": torch.get_num_threads(), "teacher": args.teacher, "device": str(device),
        "tf32": args.tf32 and device.type == "cuda", "amp": args.amp, "step_peak_bytes": step_peak[0],
        "img_per_s": n / (total / 1000),
        "step_ms": total, "phase_ms": ms, "gflop_per_step": total_flops / 1e9, "achieved_gflops": achieved,
        "peak_gflops": peak, "mfu": achieved / peak if peak else None}))


if __name__ == "__main__":
    main()
