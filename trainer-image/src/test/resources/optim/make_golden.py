"""Golden values for the optimizer tests, produced by the reference implementations.

Run with Debian's python3-torch 1.13 (/usr/bin/python3 make_golden.py); writes golden.json next to this file.
AdamW is torch.optim.AdamW; LARS is MoCo v3's LARS class (the one MAE's util/lars.py copies), inlined below.
"""
import json
import os

import torch


class LARS(torch.optim.Optimizer):
    """MoCo v3 / MAE util/lars.py, verbatim logic."""

    def __init__(self, params, lr=0, weight_decay=0, momentum=0.9, trust_coefficient=0.001):
        defaults = dict(lr=lr, weight_decay=weight_decay, momentum=momentum, trust_coefficient=trust_coefficient)
        super().__init__(params, defaults)

    @torch.no_grad()
    def step(self):
        for g in self.param_groups:
            for p in g['params']:
                dp = p.grad
                if dp is None:
                    continue
                if p.ndim > 1:  # if not normalization gamma/beta or bias
                    dp = dp.add(p, alpha=g['weight_decay'])
                    param_norm = torch.norm(p)
                    update_norm = torch.norm(dp)
                    one = torch.ones_like(param_norm)
                    q = torch.where(param_norm > 0.,
                                    torch.where(update_norm > 0,
                                                (g['trust_coefficient'] * param_norm / update_norm), one),
                                    one)
                    dp = dp.mul(q)
                param_state = self.state[p]
                if 'mu' not in param_state:
                    param_state['mu'] = torch.zeros_like(p)
                mu = param_state['mu']
                mu.mul_(g['momentum']).add_(dp)
                p.add_(mu, alpha=-g['lr'])


INIT = {
    "w": [[0.5, -1.0, 2.0], [0.25, 1.5, -0.75]],
    "b": [0.1, -0.2, 0.3],
    "z": [[0.0, 0.0], [0.0, 0.0]],
}
GRADS = [  # one gradient per parameter per step
    {"w": [[0.1, -0.2, 0.3], [0.4, -0.5, 0.6]], "b": [1.0, -1.0, 0.5], "z": [[0.3, -0.1], [0.2, 0.4]]},
    {"w": [[-0.3, 0.1, 0.2], [0.05, 0.5, -0.6]], "b": [-0.5, 0.25, 0.0], "z": [[-0.2, 0.1], [0.0, 0.3]]},
    {"w": [[0.2, 0.2, -0.1], [-0.4, 0.3, 0.1]], "b": [0.3, 0.3, -0.3], "z": [[0.1, 0.1], [-0.1, 0.2]]},
]
LRS = [0.1, 0.05, 0.08]  # the scheduled lr at each step; groups multiply it by their lr_scale


def run(make_optimizer, names, groups):
    params = {n: torch.tensor(INIT[n], dtype=torch.float32, requires_grad=True) for n in names}
    param_groups = [dict(params=[params[n] for n in g["names"]], weight_decay=g["weight_decay"],
                         lr_scale=g["lr_scale"]) for g in groups]
    opt = make_optimizer(param_groups)
    history = []
    for step, lr in enumerate(LRS):
        for group in opt.param_groups:
            group["lr"] = lr * group["lr_scale"]
        for n in names:
            params[n].grad = torch.tensor(GRADS[step][n], dtype=torch.float32)
        opt.step()
        history.append({n: params[n].detach().tolist() for n in names})
    state = {}
    for n in names:
        for k, v in opt.state[params[n]].items():
            if torch.is_tensor(v) and v.dim() > 0:
                state[k + "." + n] = v.tolist()
    return {"params_after_step": history, "state": state}


adamw_groups = [dict(names=["w"], weight_decay=0.05, lr_scale=1.0),
                dict(names=["b"], weight_decay=0.0, lr_scale=0.5)]
lars_groups = [dict(names=["w", "b", "z"], weight_decay=0.1, lr_scale=1.0)]
golden = {
    "init": INIT, "grads": GRADS, "lrs": LRS, "torch": torch.__version__,
    "adamw_pretrain": dict(groups=adamw_groups, betas=[0.9, 0.95], eps=1e-8, **run(
        lambda g: torch.optim.AdamW(g, lr=0.0, betas=(0.9, 0.95), eps=1e-8), ["w", "b"], adamw_groups)),
    "adamw_finetune": dict(groups=adamw_groups, betas=[0.9, 0.999], eps=1e-8, **run(
        lambda g: torch.optim.AdamW(g, lr=0.0), ["w", "b"], adamw_groups)),
    "lars": dict(groups=lars_groups, **run(lambda g: LARS(g, lr=0.0), ["w", "b", "z"], lars_groups)),
}
with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "golden.json"), "w") as f:
    json.dump(golden, f)
    f.write("\n")
