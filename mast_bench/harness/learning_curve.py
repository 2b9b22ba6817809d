"""A learning curve: train a preset once, keeping snapshots, then score each kept set of weights
(the preset's snapshot fractions and every stage's final weights) on an evaluation set under each
protocol, beside training-free baselines, and write one manifest the training report reads.

Every score is an ordinary record (``run_job`` with ``--checkpoint``): cached by identity, so an
interrupted curve resumes with what it has, and a record can be cited by its key. The training run
resumes from its checkpoints the same way (``mast-bench train`` on the same folder).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..errors import CheckpointError, DataError
from ..progress import tell, tell_notes
from ..results import ResultStore
from ..results.curves import CurveBaseline, CurveManifest, CurvePoint, curve_name, read_curve, write_curve
from ..variants.config import VariantConfig
from .job import DataSpec, Job, check_protocol_size
from .presets import Preset
from .train_identity import stage_identity
from .training import (
    CHECKPOINT_NAME,
    check_run_folder,
    snapshot_iterations,
    snapshot_of_stage,
    snapshot_path,
    stage_folders,
)


@dataclass(frozen=True)
class CurveRequest:
    """Everything a learning curve needs (configs and paths: it crosses process boundaries)."""

    variant: VariantConfig
    preset: Preset
    train_data: str
    train_out: str
    data: DataSpec
    protocols: tuple  # ProtocolConfig
    baselines: tuple[VariantConfig, ...]
    results: str
    max_side: int | None
    device: str = "cpu"
    threads: int | None = None
    command: str = ""
    progress: bool = True
    isolate: bool = True  # score in a fresh worker process (honest peak memory); False: in this one


@dataclass(frozen=True)
class Weights:
    iteration: int
    stage: str
    label: str
    path: Path


def kept_weights(config: VariantConfig, preset: Preset, out_dir: Path) -> list[Weights]:
    """The weights a finished run of ``config`` kept, in training order: snapshots and each stage's
    end. A snapshot another stage kept (a folder another preset trained in) is refused, not scored."""
    found: dict[int, Weights] = {}
    ends, offset = {}, 0
    for stage, folder in zip(preset.stages, stage_folders(preset, out_dir), strict=True):
        offset += stage.iterations
        ends[offset] = Weights(offset, stage.name, f"end of {stage.name}", folder / CHECKPOINT_NAME)
    for iteration in sorted(snapshot_iterations(preset)):
        stage = _stage_at(preset, iteration)
        label = "random init" if iteration == 0 else f"{100 * iteration / preset.iterations:.0f} %"
        path = snapshot_path(out_dir, iteration)
        found[iteration] = Weights(iteration, preset.stages[stage].name, label, path)
        if path.is_file() and not snapshot_of_stage(path, stage_identity(config, preset, stage)):
            raise DataError(
                f"{path}: not this run's snapshot at iteration {iteration} (another preset's stage, which "
                f"trained in {out_dir} first, or unreadable); train preset {preset.name} in another folder"
            )
    found.update(ends)  # a stage end is labelled as such, even where a snapshot falls on it
    missing = [w.path for w in found.values() if not w.path.is_file()]
    if missing:
        raise DataError(f"{missing[0]}: missing; the training run in {out_dir} is not complete")
    return [found[i] for i in sorted(found)]


def _stage_at(preset: Preset, iteration: int) -> int:
    """The index of the stage that trains the weights at ``iteration`` (0: the initial weights)."""
    offset = 0
    for index, stage in enumerate(preset.stages):
        offset += stage.iterations
        if iteration <= offset:
            return index
    return len(preset.stages) - 1


def _job(request: CurveRequest, variant: VariantConfig, protocol, checkpoint: Path | None) -> Job:
    return Job(
        variant=variant,
        preset=request.preset,
        data=request.data,
        protocol=protocol,
        results=request.results,
        checkpoint=None if checkpoint is None else str(checkpoint),
        max_side=request.max_side,
        device=request.device,
        threads=request.threads,
        progress=request.progress,
        command=request.command,
        isolate=request.isolate,
    )


def train_curve(request: CurveRequest) -> dict:
    """Train (or resume, or find complete) the run of the curve; returns its summary. A complete run
    is found by the trainer too, which first makes sure it is this variant's, preset's and data's."""
    from .batches import open_clip_source
    from .training import read_summary, train

    out = Path(request.train_out)
    cache = ResultStore(request.results).layout.cache_dir
    clips = open_clip_source(request.train_data, cache)
    train(request.variant, request.preset, clips, out, request.device, request.progress)
    return read_summary(out)


def check_before_training(request: CurveRequest) -> None:
    """The evaluation set's pre-flight check and scorability, and the baselines' jobs planned, before
    the training: a broken or unscorable set, or a baseline that cannot run, found after hours of
    training would waste them."""
    from ..data.splits import open_split
    from .runner import plan_job
    from .scoring import require_scorable

    check_run_folder(request.train_out, request.train_data, request.variant, request.preset)
    for protocol in request.protocols:  # the curve's own jobs, not only the baselines'
        check_protocol_size(protocol, request.max_side)
    split = open_split(request.data)
    tell_notes(split.check())
    require_scorable(split)
    for baseline in request.baselines:
        if baseline.pretrained_features:
            trunk = baseline.features
            raise CheckpointError(
                f"baseline {baseline.name!r} reads a pretrained {trunk} trunk, and learning-curve "
                "baselines run without a checkpoint: pick one that needs none (mast-lab-pixels)"
            )
        for protocol in request.protocols:
            plan_job(_job(request, baseline, protocol, None))


def _what_is_measured(request: CurveRequest) -> dict:
    """The manifest's fields that say what the curve trained on and how it was scored."""
    return {
        "train_data": str(request.train_data),
        "data": request.data.root or "embedded default",
        "max_side": request.max_side,
        "protocols": tuple(p.name for p in request.protocols),
    }


def say_replaced_curve(request: CurveRequest) -> None:
    """Before the work: where the results hold this variant and preset's curve of other training data
    or evaluation, this one replaces its manifest (and, by default, its report): said, not silent."""
    path = ResultStore(request.results).layout.manifest_path(
        curve_name(request.variant.name), request.preset.name
    )
    if not path.is_file():
        return
    try:
        recorded = read_curve(path)
    except DataError:
        return  # unreadable: written again at the end, as before
    differing = [
        f"{key} {getattr(recorded, key)!r}"
        for key, value in _what_is_measured(request).items()
        if getattr(recorded, key) != value
    ]
    if differing:
        tell(
            f"note: {path} holds the learning curve of {request.variant.name} ({request.preset.name}) "
            f"with {', '.join(differing)}; this one replaces it and its report (another --results keeps both)"
        )


def run_learning_curve(request: CurveRequest, machine: dict) -> Path:
    """Train, score every kept set of weights and the baselines, write the manifest; its path."""
    from .runner import run_job

    check_before_training(request)
    say_replaced_curve(request)
    summary = train_curve(request)
    weights = kept_weights(request.variant, request.preset, Path(request.train_out))
    points, baselines = [], []
    for protocol in request.protocols:
        for kept in weights:
            record = run_job(_job(request, request.variant, protocol, kept.path))
            points.append(CurvePoint(kept.iteration, kept.stage, kept.label, protocol.name, record.key))
        for baseline in request.baselines:
            record = run_job(_job(request, baseline, protocol, None))
            baselines.append(CurveBaseline(baseline.name, protocol.name, record.key))
    manifest = CurveManifest(
        name=curve_name(request.variant.name),
        variant=request.variant.name,
        preset=request.preset.name,
        **_what_is_measured(request),
        train=summary,
        points=tuple(points),
        baselines=tuple(baselines),
        command=request.command,
        machine=machine,
    )
    return write_curve(request.results, manifest)
