"""Data-parallel training with PyTorch's own engine (chapter 9): torch.distributed and
DistributedDataParallel (DDP), launched by torchrun.

    torchrun --standalone --nproc_per_node=2 -m dlbook.distributed --out DIR [options]

runs ``main()`` in each of 2 processes (ranks). Every rank builds the same GPT from the
same seed; a DistributedSampler hands each rank its own share of every batch of windows
of the corpus; DDP all-reduces (averages) the gradients during the backward pass, so
after each step every rank holds the same weights. With one process
(--nproc_per_node=1) the same script is a single-process run on the full batch, the
reference the distributed run must equal.

Rank 0 writes DIR/weights.pt (the final state_dict) and DIR/report.json: the world
size, the backend, samples per second, the mean step time with and without the
gradient all-reduce (DDP's no_sync), and the largest difference between any rank's
weights and rank 0's.

The backend is gloo on CPUs and NCCL on GPUs (one GPU per rank, picked by LOCAL_RANK):
the script is the same on a laptop, in Colab (one GPU: --nproc_per_node=1) and on a
machine with several GPUs (--nproc_per_node = the number of GPUs).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader, DistributedSampler, TensorDataset

from dlbook import checks, data, gpt

__all__ = ["main", "parse_args", "windows", "prepare", "train", "FAIL_RANK_VARIABLE"]

# The tests set this to a rank number to make that rank die after its first step.
FAIL_RANK_VARIABLE = "DLBOOK_DIST_FAIL_RANK"


def parse_args(argv=None) -> argparse.Namespace:
    description = __doc__.split("\n\n")[0]
    parser = argparse.ArgumentParser(
        "python -m dlbook.distributed", description=description
    )
    parser.add_argument(
        "--out", type=Path, required=True, help="folder for the results"
    )
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--batch-size", type=int, default=16, help="global, all ranks")
    parser.add_argument("--block-size", type=int, default=64)
    parser.add_argument("--n-layer", type=int, default=2)
    parser.add_argument("--n-embd", type=int, default=64)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--dtype", choices=["float32", "float64"], default="float64")
    parser.add_argument("--threads", type=int, default=1, help="CPU threads per rank")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    for name in ("steps", "batch_size", "block_size", "n_layer", "n_embd", "threads"):
        checks.integer(getattr(args, name), f"--{name.replace('_', '-')}", minimum=1)
    checks.positive(args.lr, "--lr")
    return args


def windows(count: int, block_size: int, seed: int) -> tuple[torch.Tensor, int]:
    """``count`` windows of block_size + 1 characters from the training text, at
    random positions drawn with ``seed``, as ids (count, block_size + 1); and the
    vocabulary size. The same on every rank: each rank then takes its share."""
    count = checks.integer(count, "count", minimum=1)
    block_size = checks.integer(block_size, "block_size", minimum=1)
    ids = data.character_ids(data.python_docs("train"))
    generator = torch.Generator().manual_seed(seed)
    starts = torch.randint(len(ids) - block_size, (count,), generator=generator)
    vocab_size = len(data.corpus_characters())
    return ids[starts[:, None] + torch.arange(block_size + 1)], vocab_size


def main(argv=None) -> None:
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    use_gpu = torch.cuda.is_available()
    dist.init_process_group("nccl" if use_gpu else "gloo")  # torchrun set the rest
    rank, world = dist.get_rank(), dist.get_world_size()
    if use_gpu:
        device = torch.device("cuda", int(os.environ["LOCAL_RANK"]))
        torch.cuda.set_device(device)
    else:
        device = torch.device("cpu")
    if args.batch_size % world:
        raise ValueError(
            f"--batch-size must be a multiple of the {world} processes, "
            f"got {args.batch_size}"
        )
    try:
        ddp, optimizer, loader = prepare(args, rank, world, device)
        if os.environ.get(FAIL_RANK_VARIABLE) == str(rank):
            loader = _die_after_first_batch(loader, rank)
        loss, step_seconds = train(ddp, optimizer, loader, device)
        report = _report(args, ddp, optimizer, loader, device, loss, step_seconds)
        if rank == 0:
            args.out.mkdir(parents=True, exist_ok=True)
            (args.out / "report.json").write_text(json.dumps(report, indent=1) + "\n")
    finally:
        dist.destroy_process_group()


def prepare(args, rank: int, world: int, device):
    """The model wrapped in DDP, its optimizer, and this rank's share of the data."""
    samples, vocab_size = windows(
        args.steps * args.batch_size, args.block_size, args.seed
    )
    # the same permutation on every rank; rank r takes every world-th sample of it, so
    # each global batch of batch_size samples is split into world equal shares
    dataset = TensorDataset(samples)
    sampler = DistributedSampler(dataset, world, rank, shuffle=True, seed=args.seed)
    loader = DataLoader(dataset, batch_size=args.batch_size // world, sampler=sampler)
    torch.manual_seed(args.seed)  # the same initial weights on every rank
    config = gpt.GPTConfig(
        block_size=args.block_size,
        vocab_size=vocab_size,
        n_layer=args.n_layer,
        n_head=4,
        n_embd=args.n_embd,
    )
    model = gpt.GPT(config).to(device=device, dtype=getattr(torch, args.dtype))
    # DDP broadcasts rank 0's weights, then all-reduces gradients during backward
    ddp = DistributedDataParallel(model)
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr)
    return ddp, optimizer, loader


def train(ddp, optimizer, loader, device) -> tuple[float, list[float]]:
    """One pass over this rank's share of the batches; returns the last loss and the
    time of every step."""
    step_seconds = []
    for (window,) in loader:
        window = window.to(device)  # (batch_size / world, block_size + 1)
        start = time.perf_counter()
        scores = ddp(window[:, :-1])  # (n, T, V)
        loss = F.cross_entropy(scores.flatten(0, 1), window[:, 1:].flatten())
        optimizer.zero_grad(set_to_none=True)
        loss.backward()  # DDP averages the gradients over the ranks here
        optimizer.step()
        if device.type == "cuda":
            torch.cuda.synchronize()
        step_seconds.append(time.perf_counter() - start)
    return loss.item(), step_seconds


def _die_after_first_batch(loader, rank: int):
    """The tests' failure injection (FAIL_RANK_VARIABLE): this rank exits when it
    asks for its second batch, after one step that the others also took."""
    batches = iter(loader)
    yield next(batches)
    print(f"rank {rank}: failing on purpose ({FAIL_RANK_VARIABLE})", flush=True)
    sys.exit(3)


def _report(args, ddp, optimizer, loader, device, loss, step_seconds) -> dict:
    """Timings, the spread of weights across ranks and the weights (rank 0 saves)."""
    no_sync_seconds = _time_without_all_reduce(ddp, optimizer, loader, device)
    spread = _largest_difference_from_rank_0(ddp.module)
    if dist.get_rank() == 0:
        args.out.mkdir(parents=True, exist_ok=True)
        weights = {k: v.cpu() for k, v in ddp.module.state_dict().items()}
        torch.save(weights, args.out / "weights.pt")
    timed = step_seconds[1:] or step_seconds  # the first step pays one-off costs
    mean_step = sum(timed) / len(timed)
    return {
        "world_size": dist.get_world_size(),
        "backend": dist.get_backend(),
        "device": str(device),
        "dtype": args.dtype,
        "steps": args.steps,
        "batch_size": args.batch_size,
        "final_loss_rank_0": loss,
        "mean_step_seconds": mean_step,
        "mean_step_seconds_without_all_reduce": no_sync_seconds,
        "samples_per_second": args.batch_size / mean_step,
        "largest_difference_from_rank_0": spread,
    }


def _time_without_all_reduce(ddp, optimizer, loader, device, repeats: int = 5) -> float:
    """The mean time of training steps with DDP's gradient all-reduce switched off
    (no_sync), on the first batch again; weights and optimizer state are restored
    afterwards, so the comparison of weights is unaffected."""
    saved_model = {k: v.clone() for k, v in ddp.module.state_dict().items()}
    saved_optimizer = optimizer.state_dict()
    (window,) = next(iter(loader))
    window = window.to(device)
    seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        with ddp.no_sync():  # gradients stay local: no communication
            scores = ddp(window[:, :-1])
            loss = F.cross_entropy(scores.flatten(0, 1), window[:, 1:].flatten())
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
        optimizer.step()  # the same work as a training step, less the all-reduce
        if device.type == "cuda":
            torch.cuda.synchronize()
        seconds.append(time.perf_counter() - start)
    ddp.module.load_state_dict(saved_model)
    optimizer.load_state_dict(saved_optimizer)
    dist.barrier()
    return sum(seconds[1:]) / (repeats - 1)


def _largest_difference_from_rank_0(model) -> float:
    """max |w - w_rank0| over every weight, reduced over all ranks."""
    largest = torch.zeros(
        (), dtype=torch.float64, device=next(model.parameters()).device
    )
    for p in model.parameters():
        reference = p.detach().clone()
        dist.broadcast(reference, src=0)
        largest = torch.maximum(largest, (p.detach() - reference).abs().max().double())
    dist.all_reduce(largest, op=dist.ReduceOp.MAX)
    return largest.item()


if __name__ == "__main__":
    main()
