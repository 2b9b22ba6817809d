"""The per-source cap on a training set's sampling: water-filling, its limits, and a built set."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pytest

from mast_bench.__main__ import main as mast_main
from mast_bench.data.source_shares import cap_factors, cap_source_shares, shares, source_masses
from mast_bench.data.training_set import MANIFEST_NAME, TrainingSetSettings, build_training_set
from mast_bench.errors import DataError

from .videos import cut_video, scene, still_video, write_video


@dataclass(frozen=True)
class Clip:
    source: str
    weight: float
    start: int
    stop: int

    @property
    def frames(self) -> int:
        return self.stop - self.start


def test_masses_are_weight_times_frames_per_source():
    clips = [Clip("a", 1.0, 0, 30), Clip("a", 0.5, 30, 50), Clip("b", 0.2, 0, 100)]
    assert source_masses(clips) == {"a": 40.0, "b": 20.0}
    assert shares(source_masses(clips)) == pytest.approx({"a": 2 / 3, "b": 1 / 3})


def test_capping_one_source_can_bring_the_next_over_the_cap():
    masses = {"a": 70.0, "b": 28.0, "c": 2.0}
    factors = cap_factors(masses, 0.4)
    capped = {name: mass * factors[name] for name, mass in masses.items()}
    # only a is over 0.4 at first (b is 0.28); with a at 0.4, b's share (28 of 30 left) goes over too
    assert shares(capped) == pytest.approx({"a": 0.4, "b": 0.4, "c": 0.2})
    assert factors["c"] == 1.0 and capped["a"] == pytest.approx(capped["b"])  # capped sources end level


def test_a_cap_every_source_is_under_changes_nothing():
    masses = {"a": 10.0, "b": 12.0, "c": 9.0}
    assert cap_factors(masses, 0.5) == {"a": 1.0, "b": 1.0, "c": 1.0}
    clips = [Clip("a", 0.3, 0, 10)]
    assert cap_source_shares(clips, 1.0) == clips


def test_the_least_cap_is_equal_shares_and_below_it_is_refused():
    masses = {"a": 10.0, "b": 30.0}
    factors = cap_factors(masses, 0.5)
    assert masses["a"] * factors["a"] == pytest.approx(masses["b"] * factors["b"])
    with pytest.raises(ValueError, match="cannot hold for 2 sources"):
        cap_factors(masses, 0.4)


def test_capped_weights_scale_every_clip_of_a_source_alike():
    clips = [Clip("long", 1.0, 0, 300), Clip("long", 0.5, 300, 400), Clip("short", 1.0, 0, 50)]
    capped = cap_source_shares(clips, 0.6)
    assert capped[2] == clips[2]
    assert capped[0].weight / capped[1].weight == pytest.approx(2.0, rel=1e-3)
    assert shares(source_masses(capped))["long"] == pytest.approx(0.6, abs=1e-3)


def test_a_built_set_keeps_its_sources_under_the_cap_and_records_their_shares(tmp_path):
    videos = tmp_path / "videos"
    write_video(videos / "long.mp4", 60, lambda t: scene(3, t))  # moving: full weight, 60 frames
    cut_video(videos / "street.mp4", frames=24, cut=12)
    still_video(videos / "head.avi")
    made = build_training_set([videos], tmp_path / "set", TrainingSetSettings(max_source_share=0.5))
    got = shares(source_masses(made.clips))
    assert max(got.values()) <= 0.5 + 1e-3 and got["long"] == pytest.approx(0.5, abs=1e-3)
    entries = {s["name"]: s for s in made.manifest["sources"]}
    assert entries["long"]["share_uncapped"] > 0.6 and entries["long"]["share"] == pytest.approx(
        0.5, abs=1e-3
    )
    assert made.manifest["settings"]["max_source_share"] == 0.5
    plain = build_training_set([videos], tmp_path / "plain")
    assert [c.weight for c in plain.clips if c.source != "long"] == [
        c.weight for c in made.clips if c.source != "long"
    ]


def test_a_set_made_before_the_cap_existed_stays_up_to_date(tmp_path):
    videos = tmp_path / "videos"
    cut_video(videos / "street.mp4")
    build_training_set([videos], tmp_path / "set")
    manifest_path = tmp_path / "set" / MANIFEST_NAME
    manifest = json.loads(manifest_path.read_text())
    del manifest["settings"]["max_source_share"]
    manifest_path.write_text(json.dumps(manifest))
    said: list[str] = []
    build_training_set([videos], tmp_path / "set", tell=said.append)
    assert "up to date" in said[0]


def test_a_cap_the_sources_cannot_keep_is_refused_before_decoding(tmp_path):
    videos = tmp_path / "videos"
    cut_video(videos / "a.mp4")
    cut_video(videos / "b.mp4")
    with pytest.raises(DataError, match="max_source_share 0.4 cannot hold for 2 sources"):
        build_training_set([videos], tmp_path / "set", TrainingSetSettings(max_source_share=0.4))
    assert not (tmp_path / "set").exists()


def test_the_command_caps_says_the_largest_shares_and_refuses_a_share_out_of_range(tmp_path, capsys):
    videos = tmp_path / "videos"
    write_video(videos / "long.mp4", 60, lambda t: scene(3, t))
    cut_video(videos / "street.mp4", frames=24, cut=12)
    out = tmp_path / "set"
    assert (
        mast_main(["data", "training-set", str(videos), "--out", str(out), "--max-source-share", "0.6"]) == 0
    )
    printed = capsys.readouterr().out
    assert "largest shares of the samples: long 60.0%, street 40.0%" in printed
    assert "shots under" not in printed  # street's two shots of 12 frames are kept
    code = mast_main(
        ["data", "training-set", str(videos), "--out", str(tmp_path / "s13"), "--min-frames", "13"]
    )
    assert code == 0 and "2 shots under 13 frames skipped (listed in the manifest)" in capsys.readouterr().out
    code = mast_main(["data", "training-set", str(videos), "--out", str(out), "--max-source-share", "0"])
    assert code == 2 and "expected a number in (0, 1], got 0" in capsys.readouterr().err


@pytest.mark.parametrize(
    "flag, said",
    [
        (["--max-side", "8"], "argument --max-side: expected an integer >= 16, got 8"),
        (["--min-frames", "1"], "argument --min-frames: expected an integer >= 2, got 1"),
    ],
)
def test_the_command_refuses_settings_out_of_range_in_one_line(flag, said, tmp_path, capsys):
    """--max-side 8 ended in TrainingSetSettings' ValueError traceback; --min-frames 1 became 2."""
    videos = tmp_path / "videos"
    cut_video(videos / "a.mp4")
    assert mast_main(["data", "training-set", str(videos), "--out", str(tmp_path / "set"), *flag]) == 2
    assert capsys.readouterr().err.strip().endswith(f"error: {said}")
    assert not (tmp_path / "set").exists()
