"""Work that rank 0 alone does under torchrun, while the other ranks wait for its outcome.

Rank 0 takes a run folder's lock, records the training clips and copies a branch's stages; the
other ranks must neither run ahead into a collective (where a failure on rank 0 would leave them
waiting until a timeout, saying nothing) nor give up while rank 0 waits on another trainer's lock.
So they wait on a gloo group of their own (no GPU involved, whatever the training backend), with
no practical time limit, and raise rank 0's refusal themselves: every rank says the same line.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from ..errors import UserError, user_error_from_os_error

# A lock can be held by another training run for as long as that run takes (days at the paper's
# length); the default process-group timeout (30 minutes for gloo) would end the wait with an
# error that names neither the lock nor its holder.
WAIT_FOR_RANK_0 = timedelta(days=365)


def on_rank_0(action: Callable[[], None], rank: int, world: int) -> None:
    """Run ``action`` on rank 0 alone; with ``world > 1`` every rank returns when it has, or raises
    its user error (a full disk included) so that none is left waiting on a rank that gave up. Should
    rank 0 stop otherwise (a bug, Ctrl-C), the others stop with a line saying so and rank 0 raises
    its own exception, traceback and all: no launcher is relied on to end the waiting ranks."""
    if world == 1:
        action()
        return
    failure, stopped = None, None
    if rank == 0:
        try:
            action()
        except UserError as exc:
            failure = exc
        except OSError as exc:
            failure = user_error_from_os_error(exc)
        except BaseException as exc:
            failure, stopped = UserError(f"rank 0 stopped ({type(exc).__name__}: {exc}); see its output"), exc
    failure = rank_0s_failure(failure)
    if stopped is not None:
        raise stopped
    if failure is not None:
        raise failure


def rank_0s_failure(failure: UserError | None) -> UserError | None:
    """Every rank waits here for rank 0 and receives its failure (None where it succeeded)."""
    import torch.distributed as dist

    group = dist.new_group(backend="gloo", timeout=WAIT_FOR_RANK_0)
    box = [failure]
    dist.broadcast_object_list(box, src=0, group=group)
    dist.destroy_process_group(group)
    return box[0]
