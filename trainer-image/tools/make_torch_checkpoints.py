#!/usr/bin/env python3
"""Checkpoints written by torch.save for the trainer's PyTorch-file reader (io.milan.trainer.checkpoint.torchfile).

Run once with PyTorch 2.7.1 (the benchmark venv has it):
    /var/cache/milan/bench-venv/bin/python trainer-image/tools/make_torch_checkpoints.py \
        trainer-image/src/test/resources/checkpoint/torch
writes, each in the zip format (PyTorch >= 1.6) and in the legacy one (_use_new_zipfile_serialization=False):
  mae-tiny[-legacy].pth   the MAE/MILAN layout of checkpoint-399.pth: {'model': state_dict, 'optimizer': AdamW
                          state_dict, 'epoch', 'scaler', 'args': argparse.Namespace}; the state dict is the tiny
                          MILAN pretraining checkpoint of ../finetune/classifier.safetensors (fp32) plus an fp16
                          and a bf16 tensor and two views that share blocks.0.attn.qkv.weight's storage
                          (a transpose, and a strided slice with an offset);
  dtypes[-legacy].pth     a plain state_dict (OrderedDict) of every dtype the reader knows, 0-d and empty
                          tensors, a permuted view and two fp16 tensors sharing one storage;
  expected.safetensors    the same tensors made contiguous, in their own dtypes, as "mae/<key>" and
                          "dtypes/<key>": the Java test compares the reader's bytes with these bit for bit.

    make_torch_checkpoints.py --micro FILE
writes FILE, an MAE-layout checkpoint of a vit_micro encoder (6 blocks of 128, 4x4 patches, 16 px: about 5 MB,
not committed) to show `milan-trainer finetune --model vit_micro --input_size 16 --patch_size 4 --finetune FILE`.

    make_torch_checkpoints.py --count-vit-large
prints the size, opcodes and memo entries of the data.pkl of a checkpoint with the keys of MAE's ViT-L/16
checkpoint-399.pth (24 + 8 blocks, AdamW state for every parameter) and one-element tensors: the pickle does not
depend on tensor sizes. Measured for io.milan.trainer.checkpoint.torchfile.PickleLimits.
"""
import argparse
import collections
import io
import pickletools
import sys
import zipfile
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

HERE = Path(__file__).resolve().parent
CLASSIFIER = HERE.parent / 'src/test/resources/finetune/classifier.safetensors'
GEN = torch.Generator().manual_seed(20261206)


def randn(*shape):
    return torch.randn(*shape, generator=GEN)


def reference_args(model):
    """What main_pretrain.py's argparse gives (a subset): saved as checkpoint['args']."""
    return argparse.Namespace(batch_size=64, epochs=400, accum_iter=1, model=model, input_size=224,
                              mask_ratio=0.75, norm_pix_loss=False, weight_decay=0.05, lr=None, blr=1.5e-4,
                              min_lr=0.0, warmup_epochs=40, data_path='/datasets/imagenet', output_dir='./output',
                              device='cuda', seed=0, resume='', start_epoch=0, num_workers=10, pin_mem=True,
                              world_size=8, local_rank=-1, dist_on_itp=False, dist_url='env://', distributed=True,
                              use_clip=True, change_decoder=True, attn_mask=True)


def adamw_state(model, n_state):
    """torch.optim.AdamW(...).state_dict() after one step, the state kept for the first n_state parameters."""
    params = [torch.nn.Parameter(v.clone()) for v in model.values() if v.dtype == torch.float32]
    opt = torch.optim.AdamW([{'params': params[:n_state], 'weight_decay': 0.05},
                             {'params': params[n_state:], 'weight_decay': 0.0}], lr=1.5e-4, betas=(0.9, 0.95))
    for p in params[:n_state]:
        p.grad = torch.ones_like(p)
    opt.step()
    return opt.state_dict()


def mae_checkpoint(model, epoch, n_state):
    return {
        'model': model,
        'optimizer': adamw_state(model, n_state),
        'epoch': epoch,
        'scaler': {'scale': 65536.0, 'growth_factor': 2.0, 'backoff_factor': 0.5, 'growth_interval': 2000,
                   '_growth_tracker': 7},
        'args': reference_args('mae_vit_base_patch16'),
    }


def tiny_mae_state_dict():
    weights = load_file(str(CLASSIFIER))
    model = collections.OrderedDict(
        (k, v) for k, v in weights.items() if not k.split('.')[0] in ('finetune', 'probe', 'input', 'expected'))
    model['extra.half'] = torch.tensor([[1.0, -2.0, 1.0 / 3.0, 2.0 ** -24, 65504.0],
                                        [float('inf'), -0.0, 0.1, -7.5, 1e-3]], dtype=torch.float16)
    model['extra.bf16'] = (randn(4, 2) * 3).to(torch.bfloat16)
    qkv = model['blocks.0.attn.qkv.weight']
    model['extra.qkv_t'] = qkv.t()                 # non-contiguous, same storage
    model['extra.qkv_rows'] = qkv[16:32:2, 1:]     # storage offset, row stride 32, same storage
    # what module.state_dict() attaches (pickled as the OrderedDict's state, BUILD)
    model._metadata = collections.OrderedDict([('', {'version': 1}), ('blocks.0', {'version': 1})])
    return model


def dtypes_state_dict():
    d = collections.OrderedDict()
    d['f32_scalar'] = torch.tensor(4.25)
    d['f64'] = torch.tensor([0.1, -1e300, 2.5, float('nan')], dtype=torch.float64)
    half = torch.tensor([1.0, -2.0, 65504.0, 2.0 ** -24, float('-inf'), 0.5], dtype=torch.float16)
    d['f16'] = half
    d['f16_tail'] = half[2:]                       # shares f16's storage at offset 2
    d['bf16'] = torch.tensor([1.0, 3.140625, -0.5, 2.0 ** -126], dtype=torch.bfloat16)
    d['i64'] = torch.tensor([0, -1, 2 ** 40, -(2 ** 62)], dtype=torch.int64)
    d['i32'] = torch.tensor([[7], [-8]], dtype=torch.int32)
    d['i16'] = torch.tensor([300, -300], dtype=torch.int16)
    d['i8'] = torch.tensor([-128, 127], dtype=torch.int8)
    d['u8'] = torch.tensor([0, 1, 254, 255], dtype=torch.uint8)
    d['bool'] = torch.tensor([True, False, True])
    d['empty'] = torch.zeros(0, 3)
    d['permuted'] = randn(2, 3, 4).permute(2, 0, 1)  # strides (1, 12, 4)
    return d


def raw(t):
    return t.contiguous().reshape(-1).view(torch.uint8)


def save_both(obj, out, name):
    torch.save(obj, out / f'{name}.pth')
    torch.save(obj, out / f'{name}-legacy.pth', _use_new_zipfile_serialization=False)


def micro(file):
    dim, depth, hidden, patch, tokens, dec = 128, 6, 512, 4, 17, 64
    m = collections.OrderedDict()
    m['cls_token'] = randn(1, 1, dim) * 0.02
    m['pos_embed'] = randn(1, tokens, dim) * 0.02
    m['mask_token'] = randn(1, 1, dec) * 0.02
    m['decoder_pos_embed'] = randn(1, tokens, dec) * 0.02
    m['patch_embed.proj.weight'] = randn(dim, 3, patch, patch) * 0.02
    m['patch_embed.proj.bias'] = torch.zeros(dim)
    for i in range(depth):
        b = f'blocks.{i}.'
        m[b + 'norm1.weight'], m[b + 'norm1.bias'] = torch.ones(dim), torch.zeros(dim)
        m[b + 'attn.qkv.weight'], m[b + 'attn.qkv.bias'] = randn(3 * dim, dim) * 0.02, torch.zeros(3 * dim)
        m[b + 'attn.proj.weight'], m[b + 'attn.proj.bias'] = randn(dim, dim) * 0.02, torch.zeros(dim)
        m[b + 'norm2.weight'], m[b + 'norm2.bias'] = torch.ones(dim), torch.zeros(dim)
        m[b + 'mlp.fc1.weight'], m[b + 'mlp.fc1.bias'] = randn(hidden, dim) * 0.02, torch.zeros(hidden)
        m[b + 'mlp.fc2.weight'], m[b + 'mlp.fc2.bias'] = randn(dim, hidden) * 0.02, torch.zeros(dim)
    m['norm.weight'], m['norm.bias'] = torch.ones(dim), torch.zeros(dim)
    m['decoder_embed.weight'], m['decoder_embed.bias'] = randn(dec, dim) * 0.02, torch.zeros(dec)
    m['decoder_norm.weight'], m['decoder_norm.bias'] = torch.ones(dec), torch.zeros(dec)
    m['decoder_pred.weight'], m['decoder_pred.bias'] = randn(patch * patch * 3, dec) * 0.02, torch.zeros(48)
    torch.save(mae_checkpoint(m, 399, len(m)), file)


def count_vit_large():
    block = ['norm1.weight', 'norm1.bias', 'attn.qkv.weight', 'attn.qkv.bias', 'attn.proj.weight', 'attn.proj.bias',
             'norm2.weight', 'norm2.bias', 'mlp.fc1.weight', 'mlp.fc1.bias', 'mlp.fc2.weight', 'mlp.fc2.bias']
    keys = ['cls_token', 'pos_embed', 'mask_token', 'decoder_pos_embed', 'patch_embed.proj.weight',
            'patch_embed.proj.bias']
    keys += [f'blocks.{i}.{n}' for i in range(24) for n in block]
    keys += ['norm.weight', 'norm.bias', 'decoder_embed.weight', 'decoder_embed.bias']
    keys += [f'decoder_blocks.{i}.{n}' for i in range(8) for n in block]
    keys += ['decoder_norm.weight', 'decoder_norm.bias', 'decoder_pred.weight', 'decoder_pred.bias']
    model = collections.OrderedDict((k, torch.zeros(1)) for k in keys)
    buf = io.BytesIO()
    torch.save(mae_checkpoint(model, 399, len(model)), buf)
    archive = zipfile.ZipFile(io.BytesIO(buf.getvalue()))
    data = archive.read(next(n for n in archive.namelist() if n.endswith('/data.pkl')))
    ops = [op.name for op, _, _ in pickletools.genops(data)]
    memo = sum(1 for op in ops if op in ('BINPUT', 'LONG_BINPUT', 'PUT', 'MEMOIZE'))
    print(f'{len(model)} model tensors: data.pkl {len(data)} bytes, {len(ops)} opcodes, {memo} memo entries')


def main():
    if len(sys.argv) == 2 and sys.argv[1] == '--count-vit-large':
        count_vit_large()
        return
    if len(sys.argv) == 3 and sys.argv[1] == '--micro':
        micro(sys.argv[2])
        return
    out = Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    mae = tiny_mae_state_dict()
    dtypes = dtypes_state_dict()
    save_both(mae_checkpoint(mae, 399, 3), out, 'mae-tiny')
    save_both(dtypes, out, 'dtypes')
    expected = {f'mae/{k}': v.contiguous().clone() for k, v in mae.items()}
    expected.update({f'dtypes/{k}': v.contiguous().clone() for k, v in dtypes.items()})
    save_file(expected, str(out / 'expected.safetensors'), metadata={'torch': torch.__version__})
    # What torch.load gives back, for the record (and a check that the files load in PyTorch itself).
    for name in ('mae-tiny', 'mae-tiny-legacy', 'dtypes', 'dtypes-legacy'):
        loaded = torch.load(out / f'{name}.pth', weights_only=False)
        sd = loaded['model'] if 'model' in loaded else loaded
        prefix = 'mae/' if 'model' in loaded else 'dtypes/'
        for k, v in sd.items():
            assert torch.equal(raw(v), raw(expected[prefix + k])), (name, k)
        print(name, len(sd), 'tensors', (out / f'{name}.pth').stat().st_size, 'bytes')


if __name__ == '__main__':
    main()
