"""What every command shares: one parser base, the same flags with the same meaning, one error handler.

Flags mean one thing everywhere: ``--data`` is a dataset root, ``--results`` a results folder (the
store of records), ``--out`` the folder a command writes its own output files into, ``--variant`` /
``--variants-file`` / ``--set`` choose variants, ``--device`` a torch device.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import select
import signal
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from ..config import parse_assignments, to_dict
from ..data.detect import DATASET_KINDS
from ..data.splits import DataSpec
from ..errors import INTERRUPTED, ConfigError, UserError, WorkerLost, user_error_from_os_error
from ..max_side import MIN_MAX_SIDE, check_max_side
from ..progress import tell
from ..protocols import DEFAULT_PROTOCOL, PROTOCOLS
from ..registry import Registry
from ..results import DEFAULT_RESULTS
from ..threads import available_cpus
from ..variants import VARIANTS, derive_variant_named

PROG = "mast-bench"
SIGPIPE = 13  # signal.SIGPIPE where there is one (not on Windows)
__all__ = ["tell"]  # commands say their notices with the one tell of mast_bench.progress


def quiet_threads_environment() -> None:
    """Before torch is imported: idle OpenMP threads sleep instead of spinning (a busy neighbour
    otherwise slows every parallel region several-fold). A value the user set wins."""
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


def new_parser(name: str, description: str, parent: Any) -> argparse.ArgumentParser:
    """A command's parser, a subcommand of ``mast-bench`` (``parent``: its subparsers). The description
    keeps its line breaks: a command shown over several lines stays copyable."""
    return parent.add_parser(
        name,
        help=description.splitlines()[0],
        description=description,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )


def comma_list(text: str) -> tuple[str, ...]:
    items = tuple(s.strip() for s in text.split(",") if s.strip())
    if not items:
        raise argparse.ArgumentTypeError("expected a comma-separated list of names")
    return items


def max_side(text: str) -> int | None:
    """``--max-side`` of a command without a training preset: an integer, or 'full' (None)."""
    if text.lower() in ("full", "none"):
        return None
    try:
        value = int(text)
        check_max_side(value)
    except ValueError as exc:
        expected = f"expected an integer >= {MIN_MAX_SIDE} or 'full'"
        raise argparse.ArgumentTypeError(f"{expected}, got {text!r}") from exc
    return value


def max_side_or_preset(text: str) -> int | None | str:
    """``--max-side`` of a command with a training preset: also 'preset' (the preset's own)."""
    if text.lower() == "preset":
        return "preset"
    try:
        return max_side(text)
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(
            f"expected an integer >= {MIN_MAX_SIDE}, 'full' or 'preset', got {text!r}"
        ) from None


def _checked_int(text: str, fits: Callable[[int], bool], expected: str) -> int:
    """``text`` as an integer that ``fits``; an argparse error saying what was ``expected``."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}") from None
    if not fits(value):
        raise argparse.ArgumentTypeError(f"expected {expected}, got {value}")
    return value


def positive_int(text: str) -> int:
    return _checked_int(text, lambda value: value >= 1, "a positive integer")


def integer_at_least(minimum: int) -> Callable[[str], int]:
    """An argparse type: an integer >= ``minimum``."""
    return lambda text: _checked_int(text, lambda value: value >= minimum, f"an integer >= {minimum}")


def seed_int(text: str) -> int:
    """A seed every generator seeded from it takes (torch, NumPy's SeedSequence), as a preset's."""
    from ..harness.presets import MAX_SEED

    return _checked_int(text, lambda value: 0 <= value <= MAX_SEED, "a seed from 0 to 2**63 - 1")


def unit_fraction(text: str) -> float:
    """A number in (0, 1]."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number in (0, 1], got {text!r}") from None
    if not 0 < value <= 1:
        raise argparse.ArgumentTypeError(f"expected a number in (0, 1], got {value:g}")
    return value


def note_jobs_beyond_cpus(jobs: int, cpus: int | None = None) -> None:
    """Allowed (a GPU run may want it), but said: more local processes than CPUs share them, one
    thread each, and every one holds its own copy of torch and its frames."""
    cpus = available_cpus() if cpus is None else cpus
    if jobs > cpus:
        tell(
            f"note: --jobs {jobs} is more than the {cpus} CPU(s) this process may use: the jobs share "
            f"them with one thread each, and each holds its own memory (--jobs {cpus} is usually faster)"
        )


# ----------------------------------------------------------------------------- the shared flags


def add_data(
    parser: argparse.ArgumentParser,
    required: bool = False,
    kinds: bool = True,
    dataset_default: str = "davis",
) -> None:
    """--data, --split, --sequences and (``kinds``) --dataset; ``dataset_default`` is the --dataset
    help's word for what no --dataset means (the default itself is "davis" unless the caller resets it)."""
    what = "dataset root" + ("" if required else " (default: the embedded default dataset)")
    parser.add_argument("--data", required=required, metavar="ROOT", help=what)
    parser.add_argument("--davis", dest="data", help=argparse.SUPPRESS)  # the old name
    if kinds:
        parser.add_argument(
            "--dataset",
            default="davis",
            choices=DATASET_KINDS,
            help=f"dataset kind (default: {dataset_default}): DAVIS-2017 masks, YouTube-VOS masks, JHMDB "
            "keypoints, VIP human parts",
        )
    split = "DAVIS, JHMDB and VIP val, YouTube-VOS valid" if kinds else "val"
    parser.add_argument("--split", default=None, help=f"split (default: {split})")
    parser.add_argument("--sequences", type=comma_list, help="comma-separated sequences (default: the split)")
    if kinds:
        parser.add_argument(
            "--seen-meta",
            metavar="META.json",
            help="YouTube-VOS: the training meta.json naming the seen categories (default: train/meta.json)",
        )
        add_youtube_frames(parser)


def add_youtube_frames(parser: argparse.ArgumentParser) -> None:
    """--all-frames / --sparse-frames: which YouTube-VOS frames are read (default: all where there)."""
    frames = parser.add_mutually_exclusive_group()
    frames.add_argument(
        "--all-frames",
        action="store_const",
        const=True,
        dest="all_frames",
        help="YouTube-VOS: read every frame of the 30 fps all-frames folder (required), "
        "as STM, STCN, XMem and Cutie do (default: that folder where there is one)",
    )
    frames.add_argument(
        "--sparse-frames",
        action="store_const",
        const=False,
        dest="all_frames",
        help="YouTube-VOS: read the sparse frames only (every 5th), as MAMP and CFBI do, "
        "even where an all-frames folder is there",
    )


def add_train_data(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--train-data",
        metavar="PATH",
        help="what trainable variants train on: a training set, videos, or frame folders (default: the "
        "embedded training clips for the embedded default, JHMDB and VIP; for a DAVIS or YouTube-VOS "
        "--data, the frames of that dataset itself, labels unused)",
    )


def add_results(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--results", type=Path, default=DEFAULT_RESULTS, help=f"results folder (default ./{DEFAULT_RESULTS})"
    )


def add_variants(parser: argparse.ArgumentParser, several: bool) -> None:
    help_text = "variant name(s), comma-separated or repeated" if several else "variant name"
    parser.add_argument(
        "--variant",
        required=True,
        type=comma_list,
        action="append",
        help=f"{help_text} (mast-bench variants)",
    )
    add_variants_file(parser)
    add_overrides(parser)


def add_variants_file(
    parser: argparse.ArgumentParser,
    help_text: str = "register the [variant.NAME] tables of this file first (repeatable)",
) -> None:
    parser.add_argument(
        "--variants-file", type=Path, action="append", default=[], metavar="FILE.toml", help=help_text
    )


def add_overrides(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="change a variant field, e.g. --set test_radius=9 (repeatable; the variant's name shows it)",
    )


def add_protocol(parser: argparse.ArgumentParser, several: bool) -> None:
    parser.add_argument(
        "--protocol",
        type=comma_list,
        action="append",
        default=None,
        help="test-time protocol(s) (mast-bench protocols; default: mast)"
        + (", comma-separated or repeated" if several else ""),
    )
    parser.add_argument(
        "--protocols-file",
        type=Path,
        action="append",
        default=[],
        metavar="FILE.toml",
        help="read the [protocol.NAME] tables of this file first (repeatable)",
    )


def add_device(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--device", help="cpu, cuda, cuda:N (default: cuda if available)")


def add_quiet(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--quiet", action="store_true", help="no progress bars")


# ----------------------------------------------------------------------------- resolving them


def variant_registry(files) -> Registry:
    """The variants the flags can name: the ``--variants-file`` tables in front of the registry."""
    return VARIANTS.with_files(files)


def protocol_registry(files) -> Registry:
    """The protocols the flags can name: the ``--protocols-file`` tables in front of the registry."""
    return PROTOCOLS.with_files(files)


def print_listing(
    configs: list, fields: tuple[str, ...], cell: Callable[[Any, str], str], as_json: bool
) -> None:
    """Configs as JSON, as a table on a terminal, or one plain line each (never truncated)."""
    if as_json:
        print(json.dumps([to_dict(c) for c in configs], indent=1))
    elif sys.stdout.isatty():
        from rich.console import Console
        from rich.table import Table

        table = Table(title=f"{len(configs)} found")
        table.add_column("name", style="bold", no_wrap=True, min_width=max(len(c.name) for c in configs))
        for field in fields:
            table.add_column(field, overflow="fold")
        table.add_column("description", overflow="fold")
        for config in configs:
            table.add_row(config.name, *(cell(config, f) for f in fields), config.description)
        Console().print(table)
    else:
        for config in configs:
            settings = " ".join(f"{f}={cell(config, f)}" for f in fields if cell(config, f))
            print(f"{config.name}\t{settings}\t{config.description}")


def resolve_variants(args: argparse.Namespace) -> list:
    """The VariantConfigs the flags name: registry names, the files' tables, then ``--set`` overrides."""
    registry = variant_registry(args.variants_file)
    overrides = parse_assignments(args.overrides)
    names = list(dict.fromkeys(name for group in args.variant for name in group))
    variants = [registry.get(name) for name in names]
    return [derive_variant_named(v, overrides) for v in variants] if overrides else variants


def resolve_protocols(args: argparse.Namespace) -> list:
    """The ProtocolConfigs the flags name (registry names and the files' tables; default: mast)."""
    registry = protocol_registry(getattr(args, "protocols_file", []))
    names = [n for group in (args.protocol or [(DEFAULT_PROTOCOL,)]) for n in group]
    return [registry.get(name) for name in dict.fromkeys(names)]


def resolve_device(requested: str | None) -> str:
    import torch

    device = requested or ("cuda" if torch.cuda.is_available() else "cpu")
    try:
        parsed = torch.device(device)
    except RuntimeError:
        raise ConfigError(f"--device {device!r}: not a torch device (cpu, cuda, cuda:1 ...)") from None
    if parsed.type not in ("cpu", "cuda"):
        raise ConfigError(f"--device {device}: mast-bench runs on cpu or cuda (cuda:N), not {parsed.type}")
    if parsed.type == "cuda" and not torch.cuda.is_available():
        raise ConfigError(f"--device {device}: no CUDA device on this machine")
    if parsed.type == "cuda" and parsed.index is not None and parsed.index >= torch.cuda.device_count():
        count = torch.cuda.device_count()
        raise ConfigError(
            f"--device {device}: this machine has {count} CUDA device(s), cuda:0..cuda:{count - 1}"
        )
    return device


def data_spec(args: argparse.Namespace) -> DataSpec:
    return DataSpec(
        kind=getattr(args, "dataset", "davis"),
        root=args.data,
        split=args.split,
        sequences=tuple(args.sequences or ()),
        seen_meta=getattr(args, "seen_meta", None),
        all_frames=getattr(args, "all_frames", None),
    )


def command_line(words: Sequence[str]) -> str:
    import shlex

    return shlex.join([PROG, *words])


# ----------------------------------------------------------------------------- the error handler


class Terminated(KeyboardInterrupt):
    """SIGTERM: Slurm's notice before a time limit or a preemption, or a plain ``kill``."""


@contextlib.contextmanager
def _terminate_as_interrupt() -> Iterator[None]:
    """SIGTERM stops the command as Ctrl-C does (its cleanup runs, its children end with it), where
    nobody else handles it: in the main thread, over the default action."""
    in_main_thread = threading.current_thread() is threading.main_thread()
    if not in_main_thread or signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
        yield
        return

    def stop(signum: int, frame: Any) -> None:
        raise Terminated

    signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)


def guarded(run: Callable[[argparse.Namespace], int], args: argparse.Namespace) -> int:
    """Bad input -> ``error: <message>`` on stderr, exit 2, no traceback; a worker lost -> the same
    line, exit 1; Ctrl-C -> exit 130, SIGTERM -> 143 (128 + 15, as if the signal had ended it), after
    one line saying a rerun resumes.

    An OS error on a user's path (read-only, no permission, disk full, missing) is bad input too.
    Results are written atomically, so an interrupted command leaves nothing half-written.
    """
    try:
        with _terminate_as_interrupt():
            return run(args)
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except WorkerLost as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except ImportError as exc:
        if not _torch_too_old(exc):
            raise
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        if not _stdout_closed():
            raise
        return 128 + SIGPIPE
    except OSError as exc:
        if exc.filename is None:
            raise
        print(f"error: {user_error_from_os_error(exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as exc:
        print(INTERRUPTED, file=sys.stderr)
        return _interrupt_status(exc)
    except Exception as exc:
        interrupt = _interrupt_behind(exc)
        if interrupt is None:
            raise
        print(INTERRUPTED, file=sys.stderr)
        return _interrupt_status(interrupt)


def _interrupt_status(exc: KeyboardInterrupt) -> int:
    return 128 + signal.SIGTERM if isinstance(exc, Terminated) else 130


def _interrupt_behind(exc: BaseException) -> KeyboardInterrupt | None:
    """The Ctrl-C (or SIGTERM) that a library's cleanup broke on the way out, if any: matplotlib's PDF
    writer interrupted mid-file raises an AttributeError while closing it."""
    seen: set[int] = set()
    cause: BaseException | None = exc
    while cause is not None and id(cause) not in seen:
        if isinstance(cause, KeyboardInterrupt):
            return cause
        seen.add(id(cause))
        cause = cause.__cause__ or cause.__context__
    return None


def _stdout_closed() -> bool:
    """Whether standard output's reader went away (``mast-bench ... | head``; a broken pipe of a
    worker is not): then it is pointed at the null device, so the interpreter's last flush stays
    quiet, and the command ends as a shell tool ends on SIGPIPE, without a traceback."""
    try:
        fd = sys.stdout.fileno()
        poller = select.poll()
        poller.register(fd, select.POLLOUT)
        events = poller.poll(0)
    except (AttributeError, OSError, ValueError):  # no poll (Windows), no file descriptor
        return False
    if not any(mask & select.POLLERR for _, mask in events):
        return False
    os.dup2(os.open(os.devnull, os.O_WRONLY), fd)
    return True


def _torch_too_old(exc: ImportError) -> bool:
    """Whether ``exc`` is the operators' refusal of an old torch. Its module is looked up, not imported:
    importing it would run the operators' registration again."""
    floor = sys.modules.get("mast_bench.ops.torch_floor")
    return floor is not None and isinstance(exc, floor.TorchTooOld)


def parse(parser: argparse.ArgumentParser, words: list[str]) -> argparse.Namespace | int:
    """The parsed arguments, or argparse's exit status (2 after its ``error:`` line, 0 for --help)."""
    try:
        return parser.parse_args(words)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else 2
