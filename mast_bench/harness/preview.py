"""What a batch of jobs will do, said before it does it: how many, how many cached, a rough time.

A study is refused beyond :data:`MAX_JOBS` jobs unless the user confirms (``--yes``): a sweep of
thousands of values is more often a typo than a plan, and is counted without planning any job.
Then every job is planned (data checked, key computed; nothing trained or propagated) to count the
records already there; the time to compute the rest is estimated from the records of the results
folder (the median of their propagation plus training seconds), so it is as rough as they are
alike, and said to be.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from pathlib import Path

from ..errors import ConfigError
from ..results import ResultRecord, ResultStore, seconds_trained_here
from .job import Job
from .runner import plan_job

MAX_JOBS = 64


@dataclass(frozen=True)
class JobsPreview:
    total: int
    cached: int
    seconds_per_job: float | None  # median over the records it was estimated from; None: none
    records_used: int
    results: str

    @property
    def to_compute(self) -> int:
        return self.total - self.cached

    def describe(self, what: str) -> str:
        jobs = f"{self.total} job{'s' * (self.total != 1)}"
        head = f"{what}: {jobs}, {self.cached} cached, {self.to_compute} to compute"
        if self.to_compute == 0:
            return f"{head} (nothing to compute)"
        if self.seconds_per_job is None:
            return f"{head} (no records in {self.results} yet to estimate the time from)"
        total = _duration(self.seconds_per_job * self.to_compute)
        per = _duration(self.seconds_per_job)
        return (
            f"{head} (roughly {total}: {per} a job, the median of {self.records_used} "
            f"record{'s' * (self.records_used != 1)} in {self.results})"
        )


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def refuse_large(count: int, where: str, yes: bool, limit: int = MAX_JOBS) -> None:
    """More than ``limit`` jobs need ``yes``: refused before any job is planned."""
    if count > limit and not yes:
        raise ConfigError(
            f"{where}: {count} jobs (more than {limit}); check its sweep and protocols, "
            "or pass --yes to run them all"
        )


def record_seconds(record: ResultRecord) -> float | None:
    """Propagation (seconds per frame x frames) plus the seconds its run trained itself (none where
    its weights were taken from a twin's run, not those of the stages it copied)."""
    profile = record.profile
    per_frame, frames = profile.get("seconds_per_frame"), profile.get("frames")
    if not isinstance(per_frame, (int, float)) or not isinstance(frames, (int, float)):
        return None
    return float(per_frame) * float(frames) + seconds_trained_here(record.train or {})


def preview_jobs(jobs: list[Job]) -> JobsPreview:
    """Plan every (unique) job and count those whose record exists; ``jobs`` as run_jobs runs them
    (see runner.prepare_jobs), so their keys are the ones the run will look up."""
    keys: dict[str, bool] = {}
    for job in dict.fromkeys(jobs):
        plan = plan_job(job)
        if plan.key not in keys:
            keys[plan.key] = not job.force and ResultStore(job.results).get(plan.key) is not None
    roots = {job.results for job in jobs}
    seconds = [
        s
        for root in sorted(roots)
        for record in ResultStore(root).records(skip_unreadable=True)
        if (s := record_seconds(record)) is not None
    ]
    return JobsPreview(
        total=len(keys),
        cached=sum(keys.values()),
        seconds_per_job=statistics.median(seconds) if seconds else None,
        records_used=len(seconds),
        results=", ".join(str(Path(root)) for root in sorted(roots)),
    )
