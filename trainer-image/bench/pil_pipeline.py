#!/usr/bin/env python3
"""Helpers of data_pipeline.sh, run in the bench venv.

  make-jpegs DIR N      N photo-like ~500x375 JPEGs (quality 90) in DIR/<class>/ (ImageFolder layout): a
                        Fashion-MNIST image upscaled and tinted over a smooth random colour field, plus noise
  time DIR [passes]     images/s (and per CPU-second) on ONE thread of the reference's pretraining transform in
                        Pillow + torchvision:
                        Image.open().convert('RGB') -> RandomResizedCrop(224, scale=(0.2, 1), bicubic)
                        -> RandomHorizontalFlip -> ToTensor -> Normalize(ImageNet), stacked into batches of 32
"""
import glob
import json
import os
import random
import sys
import time

import numpy as np
from PIL import Image


def make_jpegs(out, n, source="/var/cache/milan/datasets/fashion-mnist-16-10pct/train"):
    files = sorted(glob.glob(os.path.join(source, "*", "*.png")))
    rng = np.random.default_rng(1)
    w, h = 500, 375
    for i in range(n):
        field = Image.fromarray(rng.integers(0, 256, (4, 5, 3), dtype=np.uint8)).resize((w, h), Image.BICUBIC)
        img = np.asarray(field, dtype=np.float32)
        if files:
            fm = Image.open(files[rng.integers(len(files))]).convert("L").resize((h, h), Image.BICUBIC)
            obj = np.asarray(fm, dtype=np.float32)[..., None] / 255.0 * rng.uniform(0.3, 1.0, 3)
            x0 = (w - h) // 2
            img[:, x0:x0 + h] = img[:, x0:x0 + h] * (1 - obj) + 255 * obj
        img += rng.normal(0, 6, img.shape)
        d = os.path.join(out, f"class{i % 4}")
        os.makedirs(d, exist_ok=True)
        Image.fromarray(np.clip(img, 0, 255).astype(np.uint8)).save(os.path.join(d, f"img{i:05d}.jpg"), quality=90)


def time_pipeline(root, passes=2):
    import torch
    from torchvision import transforms
    torch.set_num_threads(1)
    t = transforms.Compose([
        transforms.RandomResizedCrop(224, scale=(0.2, 1.0), interpolation=transforms.InterpolationMode.BICUBIC),
        transforms.RandomHorizontalFlip(),
        transforms.ToTensor(),
        transforms.Normalize(mean=[0.485, 0.456, 0.406], std=[0.229, 0.224, 0.225])])
    files = sorted(glob.glob(os.path.join(root, "*", "*.jpg")))
    random.seed(0)
    torch.manual_seed(0)
    rate = 0.0
    for p in range(passes):  # the first pass warms the page cache; the last one is reported
        start = time.perf_counter()
        cpu_start = time.process_time()
        batch = []
        for f in files:
            with open(f, "rb") as fh:
                batch.append(t(Image.open(fh).convert("RGB")))
            if len(batch) == 32:
                torch.stack(batch)
                batch = []
        rate = len(files) / (time.perf_counter() - start)
        cpu_rate = len(files) / (time.process_time() - cpu_start)
    import PIL
    import torchvision
    print(f"pillow+torchvision: {rate:.1f} images/s on 1 thread ({len(files)} images, Pillow {PIL.__version__},"
          f" torchvision {torchvision.__version__}); {cpu_rate:.1f} images per CPU-second")
    print("PIL_JSON " + json.dumps({"images_per_s": rate, "images_per_cpu_s": cpu_rate, "images": len(files)}))


if __name__ == "__main__":
    if sys.argv[1] == "make-jpegs":
        make_jpegs(sys.argv[2], int(sys.argv[3]))
    elif sys.argv[1] == "time":
        time_pipeline(sys.argv[2], int(sys.argv[3]) if len(sys.argv) > 3 else 2)
    else:
        sys.exit(__doc__)
