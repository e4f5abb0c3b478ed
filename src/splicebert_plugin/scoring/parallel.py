"""Sharing a scoring job between the processes of ``torchrun`` / ``accelerate launch``.

Records are read by every process and cut into chunks; process ``r`` of ``w`` scores the chunks
``k`` with ``k % w == r`` and writes its results to a shard file next to the output. After all
processes are done, the first merges the shards in input order, so the output equals that of a
single process. The output folder must be shared by the processes (one node, or a cluster file
system).
"""

from __future__ import annotations

import heapq
import os
import pickle
from pathlib import Path
from typing import Iterable, Iterator


class Processes:
    """This process's place among the processes of the launcher (rank 0 of 1 when alone)."""

    def __init__(self):
        self.world = int(os.environ.get("WORLD_SIZE", "1"))
        self.rank = int(os.environ.get("RANK", "0"))
        self._dist = None
        if self.world > 1:
            import torch
            import torch.distributed as dist

            if not dist.is_initialized():
                dist.init_process_group(backend="nccl" if torch.cuda.is_available() else "gloo")
            self._dist = dist

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    def barrier(self) -> None:
        if self._dist is not None:
            self._dist.barrier()

    def mine(self, number: int) -> bool:
        """True when chunk ``number`` is this process's to score."""
        return number % self.world == self.rank


def shard_path(output: str | Path, rank: int) -> Path:
    return Path(f"{output}.part{rank}")


def write_shard(path: Path, chunks: Iterable[tuple[int, list]]) -> int:
    """Pickle ``(first record index, results)`` chunks to ``path``; returns how many."""
    count = 0
    with open(path, "wb") as handle:
        for item in chunks:
            pickle.dump(item, handle)
            count += 1
    return count


def merge_shards(paths: list[Path]) -> Iterator[tuple[int, list]]:
    """The chunks of every shard, in input order (each shard is already in order)."""

    def read(path):
        with open(path, "rb") as handle:
            while True:
                try:
                    yield pickle.load(handle)
                except EOFError:
                    return

    yield from heapq.merge(*(read(path) for path in paths), key=lambda item: item[0])
