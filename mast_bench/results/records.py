"""One result record per job, keyed by a hash of what determines the result.

The key is the sha256 of the canonical JSON of the identity (sorted keys, no
whitespace, floats as Python writes them), so two processes that describe the
same job the same way find the same record. Schema: docs/DESIGN.md.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import DataError, UserError

SCHEMA = 2
# what to do about a record file that cannot be read: `run`/`ablate --force` recompute it,
# `report --force` leaves it out
REMEDY = "delete it or rerun with --force"
# a record's ``train`` block (its run's train.json): the training folder whose run it took, not trained
WEIGHTS_TAKEN_FROM = "weights_taken_from"
# a stage of a ``train`` block: the run it was copied from (a branch, or first stages trained once
# for several variants), not trained in this one
COPIED_FROM = "copied_from"
IDENTITY_KEYS = (
    "variant",
    "variant_config",
    "protocol",
    "checkpoint",
    "dataset",
    "evaluation",
    "environment",
    "code_version",
)


def seconds_trained_here(train: dict[str, Any]) -> float:
    """The seconds a ``train`` block's run spent training itself: none for a run taken whole from
    another, and not those of the stages it copied."""
    if WEIGHTS_TAKEN_FROM in train:
        return 0.0
    stages = [s for s in train.get("stages") or () if isinstance(s, dict)]
    if not stages:
        seconds = train.get("seconds")
        return float(seconds) if isinstance(seconds, (int, float)) else 0.0
    return float(sum(s.get("seconds") or 0.0 for s in stages if COPIED_FROM not in s))


class UnreadableRecord(DataError):
    """A record file that is not a readable schema-2 record (garbage, truncated, malformed)."""

    def __init__(self, path: str | Path, what: str, remedy: str = REMEDY) -> None:
        super().__init__(f"{path}: {what}; {remedy}")
        self.path, self.what = Path(path), what

    def left_out(self) -> str:
        """The warning when it is skipped (``--force`` given, or another job's record): no remedy
        that says to pass ``--force``."""
        return f"warning: left out {self.path}: {self.what} (delete it to silence this)"


class NewerRecord(UnreadableRecord):
    """A record a newer mast-bench wrote: read it with that version (no remedy that deletes it)."""

    def __init__(self, path: str | Path, schema: int) -> None:
        what = f"a schema-{schema} record, written by a newer mast-bench (this one reads schema {SCHEMA})"
        super().__init__(path, what, "use that version, or another --results")

    def left_out(self) -> str:
        return f"warning: left out {self.path}: {self.what}"


def decode_json(path: Path, what: str) -> Any:
    """The JSON value of the file ``path``; ValueError saying what is wrong (garbage, truncation)."""
    raw = path.read_bytes()
    if not raw.strip():
        raise ValueError(f"empty file (expected {what})")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(
            f"not {what}: not UTF-8 text (byte 0x{raw[exc.start]:02x} at offset {exc.start})"
        ) from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(
            f"not {what}: invalid or truncated JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})"
        ) from None


def _check_shape(data: dict[str, Any]) -> None:
    """The fields every reader relies on have the types of the schema (DESIGN.md)."""
    identity = data["identity"]
    if not isinstance(identity, dict):
        raise DataError(f"identity: expected an object, got {type(identity).__name__}")
    missing = [k for k in IDENTITY_KEYS if k not in identity]
    if missing:
        raise DataError(f"identity: missing field {missing[0]!r}")
    for name in ("protocol", "checkpoint", "dataset", "evaluation", "environment"):
        if not isinstance(identity[name], dict):
            raise DataError(f"identity.{name}: expected an object, got {type(identity[name]).__name__}")
    for name in ("provenance", "metrics", "profile"):
        if not isinstance(data[name], dict):
            raise DataError(f"{name}: expected an object, got {type(data[name]).__name__}")
    for name, kind in (("global", dict), ("per_object", list), ("per_frame", list)):
        value = data["metrics"].get(name, kind())
        if not isinstance(value, kind) or (kind is list and not all(isinstance(v, dict) for v in value)):
            expected = "an object" if kind is dict else "a list of objects"
            raise DataError(f"metrics.{name}: expected {expected}")
    for name, value in data["metrics"].get("global", {}).items():
        if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))):
            raise DataError(f"metrics.global.{name}: expected a number or null, got {value!r}")
    _check_rows(data["metrics"])
    for name in ("variant", "code_version"):
        if not isinstance(identity[name], str):
            raise DataError(f"identity.{name}: expected a string, got {identity[name]!r}")
    if not isinstance(identity["protocol"].get("name"), str):
        raise DataError("identity.protocol.name: expected a string")
    if not isinstance(data["profile"].get("gflops_per_frame", {}), (dict, type(None))):
        raise DataError("profile.gflops_per_frame: expected an object")
    if not isinstance(data.get("train"), (dict, type(None))):
        raise DataError(f"train: expected an object or null, got {type(data['train']).__name__}")
    _check_train(data.get("train") or {})
    if not isinstance(data.get("masks", ""), str) or not isinstance(data.get("key", ""), str):
        raise DataError("masks and key: expected strings")


ROW_KEYS = {"per_object": ("sequence", "object"), "per_frame": ("sequence", "object", "frame")}


def _check_rows(metrics: dict[str, Any]) -> None:
    """Each per-object and per-frame row names what it scores (the report pairs rows by these)."""
    for table, keys in ROW_KEYS.items():
        for number, row in enumerate(metrics.get(table, [])):
            missing = [key for key in keys if row.get(key) is None]
            if missing:
                raise DataError(f"metrics.{table}[{number}]: missing field {missing[0]!r}")


def _check_train(train: dict[str, Any]) -> None:
    """The training summary's stages and loss curves, as the report draws them."""
    stages = train.get("stages", [])
    if not isinstance(stages, list) or not all(isinstance(stage, dict) for stage in stages):
        raise DataError("train.stages: expected a list of objects")
    curves = [("train.loss_curve", train.get("loss_curve", []))]
    curves += [
        (f"train.stages[{i}].loss_curve", stage.get("loss_curve", [])) for i, stage in enumerate(stages)
    ]
    for where, curve in curves:
        if not isinstance(curve, list) or not all(_is_point(point) for point in curve):
            raise DataError(f"{where}: expected a list of [iteration, loss] pairs")


def _is_point(point: Any) -> bool:
    return (
        isinstance(point, list)
        and len(point) == 2
        and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in point)
    )


def canonical_json(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False)


def identity_key(identity: dict[str, Any]) -> str:
    missing = [k for k in IDENTITY_KEYS if k not in identity]
    if missing:
        raise ValueError(f"record identity lacks {missing}")
    return hashlib.sha256(canonical_json(identity).encode("ascii")).hexdigest()


@dataclass
class ResultRecord:
    identity: dict[str, Any]
    provenance: dict[str, Any]
    metrics: dict[str, Any]
    profile: dict[str, Any]
    train: dict[str, Any] | None = None
    masks: str = ""
    schema: int = SCHEMA
    key: str = field(default="")

    def __post_init__(self) -> None:
        computed = identity_key(self.identity)
        if self.key and self.key != computed:
            raise DataError(f"record key {self.key} does not match its identity (hash {computed})")
        self.key = computed

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": self.schema,
            "key": self.key,
            "identity": self.identity,
            "provenance": self.provenance,
            "metrics": self.metrics,
            "profile": self.profile,
            "train": self.train,
            "masks": self.masks,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any], where: str = "record") -> ResultRecord:
        if not isinstance(data, dict) or data.get("schema") != SCHEMA:
            raise DataError(f"{where}: not a schema-{SCHEMA} result record")
        try:
            _check_shape(data)
            return cls(
                identity=data["identity"],
                provenance=data["provenance"],
                metrics=data["metrics"],
                profile=data["profile"],
                train=data.get("train"),
                masks=data.get("masks", ""),
                key=data.get("key", ""),
            )
        except KeyError as exc:
            raise DataError(f"{where}: missing field {exc}") from None
        except DataError as exc:
            raise DataError(f"{where}: {exc}") from None
        except (ValueError, TypeError) as exc:  # an identity JSON cannot hash (NaN, odd types)
            raise DataError(f"{where}: identity cannot be hashed ({exc})") from None

    @classmethod
    def load(cls, path: str | Path) -> ResultRecord:
        """The record in the file ``path``; :class:`UnreadableRecord` (naming the file and what to
        do) for garbage, truncated or malformed files."""
        path = Path(path)
        try:
            data = decode_json(path, f"a schema-{SCHEMA} result record")
        except IsADirectoryError:
            raise UnreadableRecord(path, "a folder, not a result record file") from None
        except OSError as exc:
            raise DataError(f"{path}: cannot read result record ({exc.strerror or exc})") from None
        except ValueError as exc:
            raise UnreadableRecord(path, str(exc)) from None
        schema = data.get("schema") if isinstance(data, dict) else None
        if type(schema) is int and schema > SCHEMA:
            raise NewerRecord(path, schema)
        try:
            return cls.from_dict(data, "record")
        except UserError as exc:
            raise UnreadableRecord(path, str(exc).removeprefix("record: ")) from None

    def flat_row(self) -> dict[str, Any]:
        """One table row: identity summary, global metrics and the profile's scalars."""
        ident = self.identity
        row: dict[str, Any] = {
            "key": self.key,
            "variant": ident["variant"],
            "protocol": ident["protocol"].get("name"),
            "checkpoint_kind": ident["checkpoint"].get("kind"),
            "checkpoint_sha256": ident["checkpoint"].get("sha256"),
            "train_preset": ident["checkpoint"].get("train_preset"),
            "dataset": ident["dataset"].get("name"),
            "split": ident["dataset"].get("split"),
            "sequences": ",".join(ident["dataset"].get("sequences", [])),
            "resolution": ident["evaluation"].get("resolution"),
            "max_side": ident["evaluation"].get("max_side"),
            "device_type": ident["environment"].get("device_type"),
            "threads": ident["environment"].get("threads"),
            "kernels": ident["environment"].get("kernels"),
            "code_version": ident["code_version"],
        }
        row.update(self.metrics.get("global", {}))
        for name, value in self.profile.items():
            if isinstance(value, dict):
                for sub, v in value.items():
                    row[f"{name}.{sub}"] = v
            elif isinstance(value, list):
                row[name] = "x".join(str(v) for v in value)
            else:
                row[name] = value
        row["git_revision"] = self.provenance.get("git_revision")
        row["device"] = self.provenance.get("device")
        row["created"] = self.provenance.get("created")
        if self.train:
            row["train_iterations"] = self.train.get("iterations")
            row["train_final_loss"] = self.train.get("final_loss")
        return row
