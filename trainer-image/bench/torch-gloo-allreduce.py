#!/usr/bin/env python3
"""PyTorch's own torch.distributed Gloo all-reduce on 127.0.0.1, the reference for C10dAllReduceBench.

Same protocol and output as io.milan.trainer.dist.c10d.C10dAllReduceBench: one process per rank, float32 SUM in
place, per size one warm-up then 3-50 timed all-reduces (about 1.5 GiB in all), the slowest rank's mean; busbw =
algbw x 2(n-1)/n. Gloo binds the loopback interface (GLOO_SOCKET_IFNAME=lo), as the Java ranks bind 127.0.0.1.
Needs a Python with torch 2.7.1 (the benchmark venv; not part of CI). Prints figures, asserts nothing.

    python3 trainer-image/bench/torch-gloo-allreduce.py [--ranks 2,4] [--sizes-mib 1,4,16,64,100,400]
"""
import argparse
import os
import socket
import time

MIB = 1 << 20
BYTES_PER_SIZE = 1536 * MIB


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def worker(rank, world, port, sizes, queue):
    import torch
    import torch.distributed as dist

    os.environ["GLOO_SOCKET_IFNAME"] = "lo"
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=world)
    for size_mib in sizes:
        nbytes = size_mib * MIB
        iterations = int(max(3, min(50, BYTES_PER_SIZE // nbytes)))
        data = torch.full((nbytes // 4,), float(rank + 1))
        dist.all_reduce(data)  # warm-up
        dist.barrier()
        start = time.perf_counter()
        for _ in range(iterations):
            dist.all_reduce(data)
        mine = torch.tensor([(time.perf_counter() - start) / iterations], dtype=torch.float64)
        dist.all_reduce(mine, op=dist.ReduceOp.MAX)
        if rank == 0:
            queue.put((nbytes, iterations, mine.item()))
    dist.destroy_process_group()


def main():
    import torch
    import torch.multiprocessing as mp

    parser = argparse.ArgumentParser()
    parser.add_argument("--ranks", default="2,4")
    parser.add_argument("--sizes-mib", default="1,4,16,64,100,400")
    args = parser.parse_args()
    ranks = [int(r) for r in args.ranks.split(",")]
    sizes = [int(s) for s in args.sizes_mib.split(",")]
    print(f"torch {torch.__version__}, torch.distributed Gloo, separate processes on 127.0.0.1; "
          f"load average {open('/proc/loadavg').read().strip()}")
    print("| ranks | size (MiB) | time/op (ms) | algbw (GB/s) | busbw (GB/s) |")
    print("|---:|---:|---:|---:|---:|")
    ctx = mp.get_context("spawn")
    for n in ranks:
        queue = ctx.Queue()
        port = free_port()
        procs = [ctx.Process(target=worker, args=(r, n, port, sizes, queue)) for r in range(n)]
        for p in procs:
            p.start()
        for _ in sizes:
            nbytes, _iterations, seconds = queue.get(timeout=1200)
            algbw = nbytes / seconds / 1e9
            busbw = algbw * 2 * (n - 1) / n
            print(f"| {n} | {nbytes // MIB} | {seconds * 1000:.1f} | {algbw:.3f} | {busbw:.3f} |", flush=True)
        for p in procs:
            p.join(timeout=120)
            if p.exitcode != 0:
                raise SystemExit(f"a rank exited with {p.exitcode}")


if __name__ == "__main__":
    main()
