#!/usr/bin/python3
"""Writes torch_optim.json: parameter trajectories of torch.optim for a few
steps with fixed gradients. Run from this directory with /usr/bin/python3
(torch 1.13 CPU).

Each case gives the initial params, the gradient of every step and the
params after every step. Conventions: SGD with a constant learning rate
(where Keras' velocity form equals PyTorch's), Keras' decay through a
LambdaLR stepped every iteration (momentum 0, where the two forms agree),
RMSprop with alpha = rho and eps outside the square root (as Keras 3), Adam
whose eps differs from Keras' "epsilon hat" by sqrt(1 - beta2^t), which is
far below the test tolerance here.
"""
import json

import torch

torch.manual_seed(3)
STEPS = 6
SHAPES = [(3, 4), (5,)]


def flat(t):
    return [round(float(v), 8) for v in t.detach().reshape(-1).tolist()]


init = [torch.randn(*s) for s in SHAPES]
grads = [[torch.randn(*s) for s in SHAPES] for _ in range(STEPS)]
grads[2][1][0] = 1e-3  # a small gradient, where eps placement could matter


def run(make, decay=0.0):
    ps = [p.clone().requires_grad_(True) for p in init]
    opt = make(ps)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda it: 1 / (1 + decay * it)) if decay else None
    traj = []
    for g in grads:
        for p, gi in zip(ps, g):
            p.grad = gi.clone()
        opt.step()
        if sched:
            sched.step()
        traj.append([flat(p) for p in ps])
    return traj


cases = {
    "sgd": dict(lr=0.1, momentum=0.0, nesterov=False,
                traj=run(lambda ps: torch.optim.SGD(ps, lr=0.1))),
    "sgd_momentum": dict(lr=0.05, momentum=0.9, nesterov=False,
                         traj=run(lambda ps: torch.optim.SGD(ps, lr=0.05, momentum=0.9))),
    "sgd_nesterov": dict(lr=0.05, momentum=0.8, nesterov=True,
                         traj=run(lambda ps: torch.optim.SGD(ps, lr=0.05, momentum=0.8, nesterov=True))),
    "sgd_decay": dict(lr=0.1, momentum=0.0, nesterov=False, decay=0.5,
                      traj=run(lambda ps: torch.optim.SGD(ps, lr=0.1), decay=0.5)),
    "adam": dict(lr=0.01, beta1=0.9, beta2=0.999, eps=1e-7,
                 traj=run(lambda ps: torch.optim.Adam(ps, lr=0.01, betas=(0.9, 0.999), eps=1e-7))),
    "adam_b": dict(lr=0.1, beta1=0.5, beta2=0.9, eps=1e-7,
                   traj=run(lambda ps: torch.optim.Adam(ps, lr=0.1, betas=(0.5, 0.9), eps=1e-7))),
    "rmsprop": dict(lr=0.01, rho=0.9, eps=1e-7,
                    traj=run(lambda ps: torch.optim.RMSprop(ps, lr=0.01, alpha=0.9, eps=1e-7))),
}
out = {"torch": torch.__version__, "shapes": SHAPES, "init": [flat(p) for p in init],
       "grads": [[flat(g) for g in step] for step in grads], "cases": cases}
with open("torch_optim.json", "w") as f:
    json.dump(out, f, separators=(",", ":"))
