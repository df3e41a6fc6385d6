#!/usr/bin/env python3
"""Writes the TorchScript AdamW step the trainer runs (io.milan.trainer.optim.FusedAdamWStep).

Why: DJL 0.36's Java API has no lerp_/addcmul_/addcdiv_ nor the fused AdamW kernel, so AdamW written with its
NDArray ops makes ~33 passes over memory per parameter where torch.optim.AdamW's single-tensor path makes ~21
and its fused kernel (torch.optim.AdamW(fused=True), torch._fused_adamw_) makes one: it reads param, grad and
both moments once and writes param and moments once. Scripting that one call lets libtorch run it through DJL,
with the state still in the trainer's own tensors. The file holds only this code (no weights): a few KB.

Run with torch 2.7.1, the libtorch DJL loads (the bench venv has it: trainer-image/bench/venv.sh):
    /var/cache/milan/bench-venv/bin/python trainer-image/tools/make_adamw_step.py \
        trainer-image/src/main/resources/io/milan/trainer/optim/adamw_step.pt
"""
import sys
from typing import List

import torch
from torch import Tensor

assert torch.__version__.startswith("2.7.1"), f"use torch 2.7.1 (DJL's libtorch), not {torch.__version__}"


class AdamWStep(torch.nn.Module):
    """One torch.optim.AdamW(fused=True) step of a parameter group, in place.

    step: the step count after this step, as a float32 0-dim tensor (PyTorch's state_steps hold the same).
    Returns nothing useful (TorchScript methods must return a value).
    """

    def forward(self, params: List[Tensor], grads: List[Tensor], exp_avgs: List[Tensor],
                exp_avg_sqs: List[Tensor], step: Tensor, lr: float, weight_decay: float,
                beta1: float, beta2: float, eps: float) -> Tensor:
        steps = [step for _ in params]
        torch._fused_adamw_(params, grads, exp_avgs, exp_avg_sqs, [], steps, lr=lr, beta1=beta1, beta2=beta2,
                            weight_decay=weight_decay, eps=eps, amsgrad=False, maximize=False)
        return step


if __name__ == "__main__":
    torch.jit.script(AdamWStep()).save(sys.argv[1])
