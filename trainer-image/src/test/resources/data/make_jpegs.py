"""Small JPEGs encoded by Pillow and Pillow's own decode of them (Image.open(f).convert('RGB')) as lossless PNGs,
for TurboJpegTest: our decoder must give exactly the reference loader's pixels.

Run with the bench venv's Pillow (/var/cache/milan/bench-venv/bin/python make_jpegs.py); writes
pillow-*.jpg and pillow-*.jpg.png next to this file. Odd sizes: partial MCUs at the right and bottom edges.
"""
import os

import numpy as np
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))


def photo_like(width, height, seed):
    """Smooth colour gradients, noise and a sharp edge: every DCT frequency gets some energy."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width]
    a = np.stack([(x * (c + 1) + y * (3 - c)) % 256 for c in range(3)], axis=-1)
    a = a + rng.integers(-20, 21, a.shape) + np.where(x > width // 2, 60, 0)[..., None]
    return Image.fromarray(np.clip(a, 0, 255).astype(np.uint8), 'RGB')


# name: (width, height, Pillow save options); subsampling 2 = 4:2:0, 1 = 4:2:2
CASES = {
    'pillow-420.jpg': (75, 53, dict(quality=90, subsampling=2)),
    'pillow-422-progressive.jpg': (61, 47, dict(quality=85, subsampling=1, progressive=True)),
}

for name, (w, h, options) in CASES.items():
    path = os.path.join(HERE, name)
    photo_like(w, h, len(name)).save(path, 'JPEG', **options)
    Image.open(path).convert('RGB').save(path + '.png')

# A CMYK JPEG (ImageNet's train set has some): Pillow writes Adobe-inverted CMYK and converts it back with its
# own cmyk2rgb, which OpenCV's fallback missed by a level on most pixels (issue 23).
path = os.path.join(HERE, 'pillow-cmyk.jpg')
photo_like(53, 37, 7).convert('CMYK').save(path, 'JPEG', quality=90)
Image.open(path).convert('RGB').save(path + '.png')
