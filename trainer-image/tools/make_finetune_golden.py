#!/usr/bin/python3
"""Golden values for the fine-tuning tests (RandAugmentGoldenTest, PosEmbedInterpolationTest,
ClassificationLossTest, MixupTest, TopKTest).

Uses the reference's own libraries: timm 0.3.2's auto_augment.py, mixup.py and loss/cross_entropy.py (loaded
from an unpacked wheel: the package itself no longer imports under torch 1.13), Debian's python3-pil 9.4 for
the pixel operations, and python3-torch 1.13 for F.interpolate / log_softmax / topk.

    pip download timm==0.3.2 --no-deps -d /tmp/timm032 && (cd /tmp/timm032 && unzip -o -q timm-0.3.2-*.whl)
    /usr/bin/python3 trainer-image/tools/make_finetune_golden.py /tmp/timm032 \
        trainer-image/src/test/resources/finetune
"""
import base64
import importlib.util
import json
import random
import sys
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))
import make_model_golden as mg  # noqa: E402  (the model tests' independent PyTorch formulas and weights)

torch.set_default_dtype(torch.float32)  # mg switches to float64; timm's code here must run as in training


def load_module(path, name):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def pattern(width, height, low=0, span=256):
    """The data tests' formula image (TestImages.pattern), optionally squeezed into [low, low + span)."""
    a = np.zeros((height, width, 3), dtype=np.uint8)
    for y in range(height):
        for x in range(width):
            for c in range(3):
                v = (x * 31 + y * 17 + c * 101 + (x * y) % 13 + (x ^ y) * 7) % 256
                a[y, x, c] = low + v % span
    return Image.fromarray(a, "RGB")


def b64(img):
    return base64.b64encode(np.asarray(img, dtype=np.uint8).tobytes()).decode("ascii")


def fixed_random(value):
    """random.random() returning `value`: 0.0 keeps a signed argument, 1.0 negates it (_randomly_negate)."""
    return lambda: value


def randaugment(aa):
    # What timm's transforms_imagenet_train passes for the recipe (224 px, ImageNet mean, bicubic).
    hparams = dict(translate_const=int(224 * 0.45),
                   img_mean=tuple([min(255, round(255 * x)) for x in (0.485, 0.456, 0.406)]),
                   interpolation=Image.BICUBIC)
    names = list(dict.fromkeys(aa._RAND_INCREASING_TRANSFORMS + aa._RAND_TRANSFORMS))
    arguments = []
    for name in names:
        level_fn = aa.LEVEL_TO_ARG[name]
        for level in (0.0, 2.5, 3.7, 9.0, 9.6, 10.0):
            for negate in (False, True):
                saved = random.random
                random.random = fixed_random(1.0 if negate else 0.0)
                try:
                    arg = None if level_fn is None else level_fn(level, hparams)[0]
                finally:
                    random.random = saved
                arguments.append(dict(op=name, level=level, negate=negate, argument=arg))

    images = dict(pattern=pattern(19, 13), low_contrast=pattern(19, 13, low=60, span=97))
    pixels = []
    for image_name, img in images.items():
        for name in names:
            for level in (9.0, 2.5, 10.0):
                for negate in (False, True):
                    op = aa.AugmentOp(name, prob=1.0, magnitude=level, hparams=hparams)
                    saved = random.random
                    random.random = fixed_random(1.0 if negate else 0.0)
                    try:
                        out = op(img)
                    finally:
                        random.random = saved
                    pixels.append(dict(image=image_name, op=name, level=level, negate=negate, pixels=b64(out)))
    big = pattern(40, 32)
    for name in ("Rotate", "ShearX", "ShearY", "TranslateXRel", "TranslateYRel"):
        for level in (9.0, 5.3):
            for negate in (False, True):
                op = aa.AugmentOp(name, prob=1.0, magnitude=level, hparams=hparams)
                saved = random.random
                random.random = fixed_random(1.0 if negate else 0.0)
                try:
                    out = op(big)
                finally:
                    random.random = saved
                pixels.append(dict(image="big", op=name, level=level, negate=negate, pixels=b64(out)))
    return dict(fill=list(hparams["img_mean"]), translate_const=hparams["translate_const"],
                increasing=aa._RAND_INCREASING_TRANSFORMS, standard=aa._RAND_TRANSFORMS,
                images={k: dict(width=v.size[0], height=v.size[1], pixels=b64(v)) for k, v in images.items()}
                | dict(big=dict(width=40, height=32, pixels=b64(big))),
                arguments=arguments, pixels=pixels)


def interpolate_pos_embed(pos_embed_checkpoint, new_size, num_extra_tokens=1):
    """MAE's util/pos_embed.interpolate_pos_embed, on a checkpoint table [1, extra + g*g, D]."""
    embedding_size = pos_embed_checkpoint.shape[-1]
    orig_size = int((pos_embed_checkpoint.shape[-2] - num_extra_tokens) ** 0.5)
    extra_tokens = pos_embed_checkpoint[:, :num_extra_tokens]
    pos_tokens = pos_embed_checkpoint[:, num_extra_tokens:]
    pos_tokens = pos_tokens.reshape(-1, orig_size, orig_size, embedding_size).permute(0, 3, 1, 2)
    pos_tokens = F.interpolate(pos_tokens, size=(new_size, new_size), mode='bicubic', align_corners=False)
    pos_tokens = pos_tokens.permute(0, 2, 3, 1).flatten(1, 2)
    return torch.cat((extra_tokens, pos_tokens), dim=1)


def pos_embed():
    gen = torch.Generator().manual_seed(7)
    cases = []
    for (grid, dim, new) in ((7, 12, 10), (7, 12, 4), (14, 8, 16), (5, 4, 5 * 3)):
        table = torch.randn(1, 1 + grid * grid, dim, generator=gen, dtype=torch.float32)
        out = interpolate_pos_embed(table, new)
        exact = interpolate_pos_embed(table.double(), new)  # float64: the exact bicubic value
        cases.append(dict(grid=grid, dim=dim, new_grid=new, table=table.reshape(-1).tolist(),
                          expected=out.reshape(-1).tolist(), expected_float64=exact.reshape(-1).tolist()))
    return cases


def losses(ce, mixup):
    gen = torch.Generator().manual_seed(11)
    logits = (torch.randn(6, 7, generator=gen) * 3).float()
    labels = torch.tensor([0, 6, 3, 3, 1, 5])
    soft = mixup.mixup_target(labels, 7, lam=0.3, smoothing=0.1, device='cpu')
    return dict(logits=logits.reshape(-1).tolist(), labels=labels.tolist(), classes=7,
                soft_targets=soft.reshape(-1).tolist(),
                soft_target_ce=float(ce.SoftTargetCrossEntropy()(logits, soft)),
                label_smoothing_ce=float(ce.LabelSmoothingCrossEntropy(0.1)(logits, labels)),
                label_smoothing_ce_0_3=float(ce.LabelSmoothingCrossEntropy(0.3)(logits, labels)),
                cross_entropy=float(torch.nn.CrossEntropyLoss()(logits, labels)))


def mixup_targets(mixup):
    cases = []
    for (labels, classes, lam, smoothing) in (([0, 6, 3, 3, 1, 5], 7, 0.3, 0.1), ([2, 0, 1, 2], 3, 1.0, 0.1),
                                              ([9, 4], 10, 0.71875, 0.0), ([1, 0, 4, 4, 2, 3, 0, 1], 5, 0.5, 0.25)):
        t = mixup.mixup_target(torch.tensor(labels), classes, lam=lam, smoothing=smoothing, device='cpu')
        cases.append(dict(labels=labels, classes=classes, lam=lam, smoothing=smoothing,
                          targets=t.reshape(-1).tolist()))
    return cases


def topk():
    logits = torch.tensor([[0.1, 2.0, -1.0, 3.5, 0.7, 2.0, 1.1],
                           [5.0, 5.0, 5.0, 1.0, 5.0, 0.0, 5.0],
                           [-3.0, -2.0, -1.0, -4.0, -5.0, -6.0, -0.5]], dtype=torch.float32)
    values, indices = logits.topk(5, 1, True, True)
    return dict(logits=logits.reshape(-1).tolist(), classes=7, values=values.reshape(-1).tolist(),
                indices=indices.reshape(-1).tolist())


def vit_tokens(images, w, pos_embed):
    """models_vit forward_features up to the blocks: cat(cls, patches) + pos_embed, all blocks."""
    x = F.conv2d(images, w["patch_embed.proj.weight"], w["patch_embed.proj.bias"], stride=mg.PATCH)
    x = x.flatten(2).transpose(1, 2)
    x = torch.cat([w["cls_token"].expand(images.shape[0], -1, -1), x], dim=1) + pos_embed
    for i in range(mg.ENC["depth"]):
        x, _ = mg.timm_block(x, w, f"blocks.{i}", mg.ENC["heads"])
    return x


def classifier(out):
    """A pretraining checkpoint of the model tests' tiny encoder plus expected classifier / probe outputs."""
    torch.set_default_dtype(torch.float64)
    try:
        ckpt = mg.pretrain_weights(prompting=True)
        extra = {}
        classes, d = 5, mg.ENC["dim"]
        mg.linear_w(extra, "finetune.head", d, classes)
        mg.norm_w(extra, "finetune.fc_norm", d)
        extra["probe.running_mean"] = mg.randn(d, std=0.3)
        extra["probe.running_var"] = mg.rounded(0.5 + torch.rand(d, generator=mg.GEN))
        mg.linear_w(extra, "probe.head", d, classes)
        images = mg.randn(4, 3, mg.IMG, mg.IMG)
        images24 = mg.randn(2, 3, 24, 24)
        w = dict(ckpt)
        w.update({k[len("finetune."):]: v for k, v in extra.items() if k.startswith("finetune.")})
        tokens = vit_tokens(images, w, w["pos_embed"])
        logits_global = mg.lin(mg.ln(tokens[:, 1:].mean(dim=1), w, "fc_norm", mg.TIMM_EPS), w, "head")
        cls = mg.ln(tokens, w, "norm", mg.TIMM_EPS)[:, 0]
        logits_cls = mg.lin(cls, w, "head")
        # 24 px: the 4x4 table resized to 6x6 as MAE does, on the float32 checkpoint tensor
        pos24 = interpolate_pos_embed(ckpt["pos_embed"].float(), 24 // mg.PATCH).double()
        tokens24 = vit_tokens(images24, w, pos24)
        logits_global_24 = mg.lin(mg.ln(tokens24[:, 1:].mean(dim=1), w, "fc_norm", mg.TIMM_EPS), w, "head")
        # probe: BatchNorm1d(affine=False, eps=1e-6) in eval mode, and in train mode with its stats update
        probe = {"weight": extra["probe.head.weight"], "bias": extra["probe.head.bias"]}
        rm, rv = extra["probe.running_mean"], extra["probe.running_var"]
        eval_logits = F.linear((cls - rm) / torch.sqrt(rv + 1e-6), probe["weight"], probe["bias"])
        mean, var = cls.mean(dim=0), cls.var(dim=0, unbiased=False)
        train_logits = F.linear((cls - mean) / torch.sqrt(var + 1e-6), probe["weight"], probe["bias"])
        n = cls.shape[0]
        fixture = dict(ckpt)
        fixture.update(extra)
        fixture.update({"input.images": images, "input.images24": images24,
                        "expected.logits_global": logits_global, "expected.logits_cls": logits_cls,
                        "expected.logits_global_24": logits_global_24, "expected.pos_embed_24": pos24,
                        "expected.probe_eval": eval_logits, "expected.probe_train": train_logits,
                        "expected.probe_running_mean": 0.9 * rm + 0.1 * mean,
                        "expected.probe_running_var": 0.9 * rv + 0.1 * var * n / (n - 1)})
        mg.save(out / "classifier.safetensors", fixture)
    finally:
        torch.set_default_dtype(torch.float32)


def main():
    timm_dir, out = Path(sys.argv[1]), Path(sys.argv[2])
    aa = load_module(timm_dir / "timm/data/auto_augment.py", "timm_auto_augment")
    mixup = load_module(timm_dir / "timm/data/mixup.py", "timm_mixup")
    ce = load_module(timm_dir / "timm/loss/cross_entropy.py", "timm_cross_entropy")
    out.mkdir(parents=True, exist_ok=True)
    golden = dict(randaugment=randaugment(aa), pos_embed=pos_embed(), losses=losses(ce, mixup),
                  mixup_targets=mixup_targets(mixup), topk=topk())
    with open(out / "golden.json", "w") as f:
        json.dump(golden, f)
        f.write("\n")
    classifier(out)


if __name__ == "__main__":
    main()
