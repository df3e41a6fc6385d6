"""Writes python-written.safetensors with the official safetensors library (pip install safetensors; torch 1.13).

The Java reader test loads it, so the reader is checked against files it did not write itself.
"""
import os

import torch
from safetensors.torch import save_file

tensors = {
    "blocks.0.attn.qkv.weight": torch.tensor([[1.5, -2.25, 0.1], [3.0e-8, -0.0, 65504.0]], dtype=torch.float32),
    "half": torch.tensor([1.0, -2.0, 1.0 / 3.0, 2.0 ** -24, 65504.0, float("inf")], dtype=torch.float16),
    "brain": torch.tensor([1.0, 3.140625, -0.5, 2.0 ** -126], dtype=torch.bfloat16),
    "double": torch.tensor([0.1, -1e300, 2.5], dtype=torch.float64),
    "ids": torch.tensor([0, -1, 2 ** 40, -(2 ** 62)], dtype=torch.int64),
    "small_ids": torch.tensor([[7], [-8]], dtype=torch.int32),
    "scalar": torch.tensor(4.0),
}
save_file(tensors, os.path.join(os.path.dirname(os.path.abspath(__file__)), "python-written.safetensors"),
          metadata={"format": "pt", "note": "written by safetensors.torch.save_file"})
