"""The whole report of a tiny recorded study: CIs, paired tests, figures, paper table, CLI."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image
from scipy import stats as scipy_stats
from support.records import OBJECTS, make_record, store_record

from mast_bench.report import plots
from mast_bench.report.__main__ import main
from mast_bench.report.build import paired_to_reference, write_study_report
from mast_bench.report.collect import (
    Entry,
    load_records,
    per_frame_table,
    per_object_table,
    study_entries,
    summary_frame,
)
from mast_bench.report.paper import is_paper_comparable, paper_table
from mast_bench.report.qualitative import qualitative_figures
from mast_bench.report.stats import Interval


def object_jf(record) -> dict[tuple[str, str], float]:
    return {
        (o["sequence"], o["object"]): (o["J-Mean"] + o["F-Mean"]) / 2 for o in record.metrics["per_object"]
    }


def naive_ci(values, resamples=2000, seed=0):
    rng = np.random.default_rng(seed)
    means = [
        np.mean([values[i] for i in rng.integers(0, len(values), len(values))]) for _ in range(resamples)
    ]
    return np.quantile(means, 0.025), np.quantile(means, 0.975)


@pytest.fixture(scope="module")
def report(shared_tiny_study):
    results, manifest, records = shared_tiny_study
    path = write_study_report(results, manifest)
    return path, results, records


def test_report_folder_layout(report):
    path, results, _ = report
    assert path == results / "reports" / "tiny" / "report.md"
    for stem in ("results", "uncertainty", "paper_davis2017-val", "per_sequence"):
        for suffix in ("md", "tex", "csv"):
            assert (path.parent / "tables" / f"{stem}.{suffix}").stat().st_size > 0
    for stem in ("jf_intervals", "jf_vs_memory", "jf_vs_flops", "per_sequence", "decay"):
        png = path.parent / "figures" / f"{stem}.png"
        assert Image.open(png).size[0] > 100
        assert (path.parent / "figures" / f"{stem}.pdf").read_bytes().startswith(b"%PDF")


def test_trained_rows_show_their_training_stage_by_stage(report):
    path, _, records = report
    text = path.read_text()
    assert "## Training" in text and "![training loss](figures/training_loss.png)" in text
    table = pd.read_csv(path.parent / "tables" / "training.csv")
    trained = [r for r in records.values() if r.train]
    assert len(table) == 2 * len(trained) and list(table["stage"][:2]) == ["pairs", "memory"]
    assert list(table.columns[:3]) == ["variant", "stage", "iterations"] and set(table["samples/s"]) == {4.0}


def test_every_row_cites_its_record(report):
    path, results, records = report
    text = path.read_text()
    for record in records.values():
        assert f"`{record.key}`" in text
        assert f"../../records/{record.key}.json" in text
        assert (results / "records" / f"{record.key}.json").is_file()


def test_uncertainty_table_matches_independent_bootstrap_and_scipy(report):
    path, _, records = report
    table = pd.read_csv(path.parent / "tables" / "uncertainty.csv").set_index("Variant")
    reference = object_jf(records["mast"])
    for variant, record in records.items():
        mine = object_jf(record)
        values = [mine[k] for k in sorted(mine)]
        low, high = naive_ci(values)
        row = table.loc[variant]
        assert row["J&F"] == pytest.approx(record.metrics["global"]["J&F-Mean"] * 100)
        assert row["CI low"] == pytest.approx(low * 100, abs=1e-9)
        assert row["CI high"] == pytest.approx(high * 100, abs=1e-9)
        assert row["CI low"] <= row["J&F"] <= row["CI high"]
        if variant == "mast":
            assert np.isnan(row["Wilcoxon p"]) and row["Pairs"] == 0
            continue
        keys = sorted(reference)
        diff = [mine[k] - reference[k] for k in keys]
        assert row["Pairs"] == len(OBJECTS)
        assert row["ΔJ&F vs mast"] == pytest.approx(np.mean(diff) * 100)
        expected = scipy_stats.wilcoxon([mine[k] for k in keys], [reference[k] for k in keys]).pvalue
        assert row["Wilcoxon p"] == pytest.approx(expected, rel=1e-12)
        d_low, d_high = naive_ci(diff)
        assert (row["Δ CI low"], row["Δ CI high"]) == (
            pytest.approx(d_low * 100, abs=1e-9),
            pytest.approx(d_high * 100, abs=1e-9),
        )


def test_pairs_are_matched_by_sequence_and_object_not_by_position():
    """A variant missing one object and listing the rest in another order pairs on the shared objects."""
    ref = make_record("mast", 0.7, 1)
    other = make_record("mast-x", 0.6, 2)
    other.metrics["per_object"] = list(reversed(other.metrics["per_object"][1:]))
    per_object = per_object_table([Entry("mast", ref), Entry("mast-x", other)])
    comparisons = paired_to_reference(per_object, ["mast", "mast-x"], "mast", 2000, 0)
    mine, theirs = object_jf(other), object_jf(ref)
    keys = sorted(mine)
    assert comparisons[0] is None
    assert comparisons[1].n_pairs == len(OBJECTS) - 1
    assert comparisons[1].mean_difference == pytest.approx(np.mean([mine[k] - theirs[k] for k in keys]))
    expected = scipy_stats.wilcoxon([mine[k] for k in keys], [theirs[k] for k in keys]).pvalue
    assert comparisons[1].wilcoxon_p == pytest.approx(expected, rel=1e-12)


def test_heatmap_shows_mean_per_sequence_jf(report):
    path, _, records = report
    matrix = pd.read_csv(path.parent / "tables" / "per_sequence.csv").set_index("Variant")
    for variant, record in records.items():
        jf = object_jf(record)
        for sequence in {s for s, _ in OBJECTS}:
            expected = np.mean([v for (s, _), v in jf.items() if s == sequence]) * 100
            assert matrix.loc[variant, sequence] == pytest.approx(expected)
    figure = plots.sequence_heatmap_figure(matrix / 100)
    image = figure.axes[0].images[0].get_array()
    assert np.allclose(np.asarray(image), matrix.to_numpy())


def test_interval_figure_draws_the_estimates_and_intervals():
    intervals = [Interval(0.6, 0.55, 0.62, 6), Interval(0.7, 0.66, 0.75, 6)]
    figure = plots.jf_intervals_figure(["mast", "mast-rgb"], intervals, "mast")
    axes = figure.axes[0]
    assert [round(p.get_height(), 9) for p in axes.patches] == [60.0, 70.0]
    segments = axes.collections[0].get_segments()  # the error bars, bottom to top
    assert [(round(s[0][1], 9), round(s[1][1], 9)) for s in segments] == [(55.0, 62.0), (66.0, 75.0)]
    assert [t.get_text() for t in axes.get_xticklabels()] == ["mast", "mast-rgb"]


def test_many_long_labels_keep_every_figure_readable(tmp_path):
    """Twelve 70-character labels (an all-records report of trained weights): scatter points and bars
    carry numbers with the names in a key below, the decay key sits below both plots with a colour each,
    the heatmap widens for its names, and no layout collapses."""
    import warnings

    labels = [
        f"mast-scaled (train-cpu-pairs-finetune-time-seed-{i:03d}/3-pairs-finetune-late)" for i in range(12)
    ]
    summary = pd.DataFrame({"label": labels, "J&F-Mean": np.linspace(0.3, 0.5, 12), "peak": np.arange(12.0)})
    profile = pd.DataFrame(
        [
            {"label": label, "bin": b, "centre": b / 10 + 0.05, "J": 0.5, "F": 0.5}
            for label in labels
            for b in range(10)
        ]
    )
    matrix = pd.DataFrame(np.full((12, 3), 0.4), index=labels, columns=["a", "b", "c"])
    scatter = plots.cost_figure(summary, "peak", 1.0, "peak memory (MiB)", metric="J&F-Mean", name="J&F")
    decay = plots.decay_figure(profile, labels)
    heatmap = plots.sequence_heatmap_figure(matrix)
    bars = plots.jf_intervals_figure(labels, [Interval(0.4, 0.3, 0.5, 4)] * 12, labels[0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # constrained layout warns when the axes collapse
        for name, figure in (("scatter", scatter), ("decay", decay), ("heatmap", heatmap), ("bars", bars)):
            plots.save_figure(figure, tmp_path, name)
    assert [t.get_text() for t in scatter.axes[0].texts] == [str(n) for n in range(1, 13)]
    assert [t.get_text() for t in scatter.legends[0].get_texts()] == [
        f"{n}: {label}" for n, label in enumerate(labels, 1)
    ]
    (key,) = decay.legends
    assert [t.get_text() for t in key.get_texts()] == labels
    assert len({line.get_color() for line in decay.axes[0].lines}) == 12
    assert heatmap.get_size_inches()[0] > 0.075 * len(labels[0])
    assert [t.get_text() for t in bars.axes[0].get_xticklabels()] == [str(n) for n in range(1, 13)]
    assert len(bars.legends[0].get_texts()) == 12


def test_decay_profile_bins_frames_by_position(shared_tiny_study):
    results, manifest, records = shared_tiny_study
    per_frame = per_frame_table(study_entries(load_records(results), manifest))
    profile = plots.decay_profile(per_frame, bins=4)
    frames = records["mast"].metrics["per_frame"]
    # 12 frames per object at positions t/11: bins [0,.25) hold t 0..2, [.25,.5) 3..5, [.5,.75) 6..8
    for b, ts in enumerate([range(0, 3), range(3, 6), range(6, 9), range(9, 12)]):
        expected = np.mean([f["J"] for f in frames if f["frame"] in ts])
        got = profile[(profile["label"] == "mast") & (profile["bin"] == b)]["J"].iloc[0]
        assert got == pytest.approx(expected)


def test_smoke_report_says_it_is_not_comparable_and_withholds_differences(report):
    path, _, _ = report
    text = path.read_text()
    assert "smoke preset on the embedded default — NOT comparable to the paper" in text
    paper = pd.read_csv(path.parent / "tables" / "paper_davis2017-val.csv")
    assert not any(c.startswith("Δ") for c in paper.columns)
    assert "NOT comparable" in (path.parent / "tables" / "paper_davis2017-val.tex").read_text()


def test_paper_preset_on_full_davis_val_shows_differences():
    sequences = [f"seq{i:02d}" for i in range(30)]
    record = make_record("mast", 0.66, 1, dataset_name="DAVIS", dataset_root="/d", sequences=sequences)
    summary = summary_frame([Entry("mast", record)])
    datasets = [("DAVIS", "val", 30)]
    assert is_paper_comparable("paper", datasets)
    assert not is_paper_comparable("smoke", datasets)
    assert not is_paper_comparable("paper", [("DAVIS", "val", 3)])  # a subset
    assert not is_paper_comparable("paper", [("embedded-default", "val", 30)])
    table = paper_table("davis2017-val", summary, "paper", "t", "e", comparable=True)
    assert "NOT comparable" not in table.caption
    measured = table.frame[table.frame["Record"] == record.key].iloc[0]
    assert measured["ΔJ&F vs published"] == pytest.approx(record.metrics["global"]["J&F-Mean"] * 100 - 65.5)
    assert measured["ΔJ vs published"] == pytest.approx(record.metrics["global"]["J-Mean"] * 100 - 63.3)
    published = table.frame[table.frame["Record"] == ""]
    assert list(published["J&F"]) == [65.5, 63.7, 50.3, 59.5, 48.7, 34.0]


@pytest.mark.parametrize("resolution", ["480p", "Full-Resolution"])
def test_qualitative_figures_from_masks_and_frames(resolution, tmp_path):
    """Frames come from the record's own resolution folder (a fixed 480p found none of a
    Full-Resolution record's)."""
    root = tmp_path / "davis"
    frames_dir = root / "JPEGImages" / resolution / "bike"
    frames_dir.mkdir(parents=True)
    masks = {}
    for t in range(4):
        Image.fromarray(np.full((24, 32, 3), 40 * t, np.uint8)).save(frames_dir / f"{t:05d}.jpg")
        labels = np.zeros((24, 32), np.uint8)
        labels[4:12, 2 + t : 10 + t] = 1
        masks[f"{t:05d}"] = labels
    results = tmp_path / "results"
    entries = []
    for variant, seed in (("mast", 1), ("mast-rgb", 2)):
        made = make_record(variant, 0.6, seed, dataset_root=str(root))
        made.identity["evaluation"]["resolution"] = resolution
        entries.append(Entry(variant, store_record(results, made, {"bike": masks})))
    result = qualitative_figures(entries, results, tmp_path / "figures")
    assert result.notes == []
    assert sorted(p.name for p in result.figures) == ["qualitative_bike.pdf", "qualitative_bike.png"]
    figure_png = Image.open(tmp_path / "figures" / "qualitative_bike.png")
    assert figure_png.size[0] > 100
    # frames gone: the figure is skipped with a note
    for jpg in frames_dir.glob("*.jpg"):
        jpg.unlink()
    result = qualitative_figures(entries, results, tmp_path / "again")
    assert result.figures == [] and "frames not found under dataset root" in result.notes[0]


def test_report_notes_when_records_have_no_masks(report):
    path, _, _ = report
    assert "the record names no masks folder; qualitative figures skipped" in path.read_text()


def test_overlay_blends_palette_colours():
    from mast_bench.data.palette import DAVIS_PALETTE
    from mast_bench.report.qualitative import overlay

    assert DAVIS_PALETTE[:4].tolist() == [[0, 0, 0], [128, 0, 0], [0, 128, 0], [128, 128, 0]]
    frame = np.full((2, 2, 3), 100, np.uint8)
    mask = np.array([[0, 1], [2, 255]], np.uint8)
    out = overlay(frame, mask, alpha=0.5)
    assert out[0, 0].tolist() == [100, 100, 100] and out[1, 1].tolist() == [100, 100, 100]
    assert out[0, 1].tolist() == [114, 50, 50] and out[1, 0].tolist() == [50, 114, 50]


def test_cli_writes_a_study_report(shared_tiny_study, tmp_path, capsys):
    results, _, records = shared_tiny_study
    assert (
        main(["--results", str(results), "--study", "tiny", "--preset", "smoke", "--out", str(tmp_path)]) == 0
    )
    assert f"report written to {tmp_path / 'report.md'}" in capsys.readouterr().out
    assert all(r.key in (tmp_path / "report.md").read_text() for r in records.values())
    # a study of one's own is named by its file, as ablate takes it ('unknown study' before)
    argv = ["--results", str(results), "--study", "../studies/tiny.toml", "--out", str(tmp_path / "f")]
    assert main(argv) == 0
    assert all(r.key in (tmp_path / "f" / "report.md").read_text() for r in records.values())
    assert main(["--results", str(results), "--study", "tinny"]) == 2
    assert "unknown study 'tinny' (did you mean 'tiny'?)" in capsys.readouterr().err  # one of the results'
    inside = results / "masks" / "mine"  # the store's own folders hold no report
    assert main(["--results", str(results), "--study", "tiny", "--out", str(inside)]) == 2
    assert f"{inside}: inside the results store's masks/" in capsys.readouterr().err and not inside.exists()


@pytest.mark.slow
def test_cli_all_records_report(shared_tiny_study, tmp_path):
    results, _, records = shared_tiny_study
    assert main(["--results", str(results), "--out", str(tmp_path)]) == 0
    text = (tmp_path / "report.md").read_text()
    assert "reference row: `mast`" in text
    assert all(r.key in text for r in records.values())
    other = next(label for label in records if label != "mast")
    assert main(["--results", str(results), "--out", str(tmp_path / "b"), "--reference", other]) == 0
    assert f"reference row: `{other}`" in (tmp_path / "b" / "report.md").read_text()


def test_cli_errors_are_one_line_and_exit_2(tmp_path, capsys):
    assert main(["--results", str(tmp_path), "--study", "colour_space"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "mast-bench ablate colour_space" in err
    assert "(a study of your own: its TOML file's path in place of its name)" in err
    assert main(["--results", str(tmp_path)]) == 2
    assert "no records folder" in capsys.readouterr().err
    assert main(["--results", str(tmp_path), "--study", "colour_space", "--reference", "mast"]) == 2
    assert "--reference and --arms are for a report of all records" in capsys.readouterr().err
    assert main(["--results", str(tmp_path), "--study", "colour_space", "--arms", "arms.toml"]) == 2
    assert "--reference and --arms are for a report of all records" in capsys.readouterr().err
    assert main(["--results", str(tmp_path), "--study", "colour_spaec"]) == 2  # not 'run ablate first'
    said = "error: unknown study 'colour_spaec' (did you mean 'colour_space'?); known studies: "
    assert capsys.readouterr().err.startswith(said)
    (tmp_path / "afile").write_text("x")
    assert main(["--results", str(tmp_path), "--out", str(tmp_path / "afile")]) == 2
    assert capsys.readouterr().err.strip() == (
        f"error: {tmp_path / 'afile'}: exists and is not a folder (expected the report's folder)"
    )


def test_arms_naming_rows_the_results_lack_are_refused_before_any_file(shared_tiny_study, tmp_path, capsys):
    results, _, records = shared_tiny_study
    arms = tmp_path / "arms.toml"
    label = next(iter(records))
    arms.write_text(f'[arm.a]\nrows = ["{label}", "nope"]\n')
    out = tmp_path / "report"
    assert main(["--results", str(results), "--out", str(out), "--arms", str(arms)]) == 2
    assert f"{arms}: rows ['nope'] are not in the results" in capsys.readouterr().err
    assert not out.exists()


def test_all_records_report_names_the_rows_when_the_reference_is_not_one(shared_tiny_study, tmp_path, capsys):
    results, _, records = shared_tiny_study
    assert main(["--results", str(results), "--out", str(tmp_path), "--reference", "mast-nope"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "no row 'mast-nope' to pair against; rows: " in err
    assert all(label in err for label in records) and not (tmp_path / "report.md").exists()


def test_manifest_pointing_at_a_missing_record_is_an_error(tiny_study, capsys):
    results, manifest, records = tiny_study
    (results / "records" / f"{records['mast-a'].key}.json").unlink()
    assert main(["--results", str(results), "--study", "tiny"]) == 2
    assert "mast-a" in capsys.readouterr().err
    data = json.loads((results / "studies" / "tiny.smoke.json").read_text())
    assert data["records"]["mast"] == records["mast"].key


def test_the_same_records_give_the_same_report_bytes(shared_tiny_study, tmp_path):
    """No generation time in report.md, no creation dates or version stamps in the figures."""
    results, manifest, _ = shared_tiny_study
    folders = [write_study_report(results, manifest, tmp_path / name).parent for name in ("a", "b")]
    files = [{p.relative_to(f): p.read_bytes() for p in sorted(f.rglob("*")) if p.is_file()} for f in folders]
    assert files[0] == files[1] and len(files[0]) > 10
    assert b"generated" not in files[0][Path("report.md")]


def test_a_rerun_that_changes_nothing_leaves_the_manifest_as_it_was(shared_tiny_study, tmp_path):
    from dataclasses import replace

    from mast_bench.results import write_manifest

    _, manifest, _ = shared_tiny_study
    path = write_manifest(tmp_path, replace(manifest, created="2026-01-01T00:00:00+00:00"))
    before = path.read_bytes()
    assert write_manifest(tmp_path, replace(manifest, created="2026-12-31T00:00:00+00:00")) == path
    assert path.read_bytes() == before
    write_manifest(tmp_path, replace(manifest, created="2026-12-31T00:00:00+00:00", command="other"))
    assert path.read_bytes() != before


def test_records_of_two_dataset_kinds_are_refused_naming_one_of_each(tmp_path, capsys):
    """The refusal named the kinds only, not which records were which."""
    from dataclasses import replace

    davis = store_record(tmp_path / "r", make_record("mast", 0.7, 1))
    other = make_record("mast-a", 0.6, 2)
    youtube = replace(other, metrics={**other.metrics, "kind": "youtube-vos"})
    store_record(tmp_path / "r", youtube)
    assert main(["--results", str(tmp_path / "r"), "--out", str(tmp_path / "out")]) == 2
    assert capsys.readouterr().err.strip() == (
        f"error: these records were scored on different kinds of data: davis (e.g. record {davis.key[:12]}), "
        f"youtube-vos (e.g. record {youtube.key[:12]}); report them apart"
    )


def test_a_figure_interrupted_while_written_leaves_the_earlier_one_whole(tmp_path, monkeypatch):
    """Figures were written in place: a report cut short left a truncated PNG or PDF that the earlier
    report.md still linked to."""
    figure = plots.sequence_heatmap_figure(
        pd.DataFrame(np.full((2, 2), 0.4), index=["a", "b"], columns=["x", "y"])
    )
    earlier = plots.save_figure(figure, tmp_path, "heatmap")
    whole = {path: path.read_bytes() for path in earlier}
    savefig = type(figure).savefig

    def cut_short(self, target, **kwargs):
        savefig(self, target, **kwargs)
        with open(target, "r+b") as written:
            written.truncate(100)  # what a kill in the middle of the write leaves
        raise KeyboardInterrupt

    monkeypatch.setattr(type(figure), "savefig", cut_short)
    with pytest.raises(KeyboardInterrupt):
        plots.save_figure(figure, tmp_path, "heatmap")
    assert {path: path.read_bytes() for path in earlier} == whole
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(p.name for p in earlier)  # no temp files


def test_rows_that_share_features_and_protocol_leave_the_factorial_out_saying_why(tmp_path):
    """Two records of one variant and protocol at two input sizes, beside another protocol: the
    features x protocol table found a cell twice and the report crashed after writing its tables."""
    from dataclasses import replace

    results = tmp_path / "r"
    store_record(results, make_record("mast", 0.6, 1))
    store_record(results, make_record("mast", 0.5, 2, protocol="crw"))
    small = make_record("mast", 0.4, 3)
    evaluation = {**small.identity["evaluation"], "max_side": 64}
    store_record(results, replace(small, identity={**small.identity, "evaluation": evaluation}, key=""))
    assert main(["--results", str(results), "--out", str(tmp_path / "out")]) == 0
    text = (tmp_path / "out" / "report.md").read_text()
    section = text.split("## Features and protocol apart", 1)[1].split("##", 1)[0]
    assert "Not computed: rows `" in section and "share features and protocol" in section


def test_rows_without_their_figures_are_named_on_stderr(tmp_path, capsys):
    """A null J&F showed as - and an object without J was dropped from the intervals, both silently."""
    from dataclasses import replace

    results = tmp_path / "r"
    store_record(results, make_record("mast", 0.6, 1))
    hollow = make_record("mast-a", 0.5, 2)
    metrics = json.loads(json.dumps(hollow.metrics))
    metrics["global"]["J&F-Mean"] = None
    metrics["per_object"][0]["J-Mean"] = None
    hollow = store_record(results, replace(hollow, metrics=metrics))
    assert main(["--results", str(results), "--out", str(tmp_path / "out")]) == 0
    objects = len(metrics["per_object"])
    assert capsys.readouterr().err.splitlines() == [
        f"warning: record {hollow.key[:12]} (mast-a) has no J&F-Mean (null, missing or not a number): "
        "shown as -",
        f"warning: record {hollow.key[:12]} (mast-a): 1 of {objects} objects have no J or F; its intervals "
        "and pairings leave them out",
    ]


def test_records_of_several_code_versions_are_said_to_be_side_by_side(tmp_path, capsys):
    from dataclasses import replace

    results = tmp_path / "r"
    store_record(results, make_record("mast", 0.6, 1))
    older = make_record("mast-a", 0.5, 2)
    store_record(results, replace(older, identity={**older.identity, "code_version": "0.0.9"}, key=""))
    assert main(["--results", str(results), "--out", str(tmp_path / "out")]) == 0
    assert capsys.readouterr().err.splitlines() == [
        "warning: these records were made by mast-bench 0.0.9, 0.1.0: their numbers may not mean the same "
        "(each row's version is in its record)"
    ]


def test_an_arm_row_without_a_jf_is_refused_before_any_file(tmp_path, capsys):
    """Its arm showed 'Runs 2, mean -' and a difference row with df 2, without a word."""
    from dataclasses import replace

    results = tmp_path / "r"
    store_record(results, make_record("mast", 0.6, 1))
    store_record(results, make_record("mast-a", 0.6, 3))
    hollow = make_record("mast-b", 0.5, 2)
    metrics = json.loads(json.dumps(hollow.metrics))
    metrics["global"]["J&F-Mean"] = None
    store_record(results, replace(hollow, metrics=metrics))
    arms = tmp_path / "arms.toml"
    arms.write_text('[arm.a]\nrows = ["mast", "mast-b"]\n[arm.b]\nrows = ["mast-a"]\n')
    out = tmp_path / "report"
    assert main(["--results", str(results), "--out", str(out), "--arms", str(arms)]) == 2
    said = f"error: {arms}: arm 'a' row 'mast-b' has no J&F in its record (null or missing); leave it out"
    assert said in capsys.readouterr().err
    assert not out.exists()


def test_a_report_cut_short_leaves_the_previous_one_whole(shared_tiny_study, tmp_path, monkeypatch):
    """Tables were written as each section came: a report stopped late left the earlier report.md
    beside newer tables (the audit saw 'records: 2' above a results table of 3 rows)."""
    from mast_bench.report import build

    results, _, records = shared_tiny_study
    out = tmp_path / "report"
    (out / "README.md").parent.mkdir()
    (out / "README.md").write_text("the user's notes\n")  # not a part of the report: left alone
    assert main(["--results", str(results), "--out", str(out)]) == 0
    before = {p: p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}

    def stopped(r):
        raise KeyboardInterrupt

    monkeypatch.setattr(build, "_qualitative_section", stopped)  # after the tables and figures
    other = next(label for label in records if label != "mast")
    with pytest.raises(KeyboardInterrupt):
        build.write_all_records_report(results, out, reference=other)
    assert {p: p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report"]  # no staging folder left
    monkeypatch.undo()
    assert main(["--results", str(results), "--out", str(out), "--reference", other]) == 0
    assert f"reference row: `{other}`" in (out / "report.md").read_text()
    assert (out / "README.md").read_text() == "the user's notes\n"
    assert not [p for p in out.iterdir() if p.name.startswith(".")]


def test_a_variant_defined_twice_under_one_name_is_told_apart_by_its_fields(tmp_path):
    """Two definitions of `mine` (test radius 6, then 4) were labelled by their checkpoint folders,
    and nothing in a report said what `mine` was."""
    from dataclasses import replace

    results = tmp_path / "r"
    for radius, seed in ((6, 1), (4, 2)):
        record = make_record("mine", 0.5, seed)
        config = {"name": "mine", "description": "", "test_radius": radius, "colour_space": "rgb"}
        store_record(results, replace(record, identity={**record.identity, "variant_config": config}, key=""))
    store_record(results, make_record("mast", 0.6, 3))
    assert main(["--results", str(results), "--out", str(tmp_path / "out")]) == 0
    text = (tmp_path / "out" / "report.md").read_text()
    assert "rows: `mast`, `mine (test_radius=4)`, `mine (test_radius=6)`\n" in text
    assert (
        "- variants not built in, as they differ from `mast`: `mine`: colour_space=rgb, test_radius=4; "
        "`mine`: colour_space=rgb, test_radius=6\n"
    ) in text


def test_an_all_records_report_across_protocols_pairs_against_mast_at_mast(tmp_path):
    """Rows are labelled variant@protocol there: the default `mast` found no row, and nothing was paired."""
    results = tmp_path / "r"
    store_record(results, make_record("mast", 0.6, 1))
    store_record(results, make_record("mast", 0.5, 2, protocol="crw"))
    assert main(["--results", str(results), "--out", str(tmp_path / "out")]) == 0
    text = (tmp_path / "out" / "report.md").read_text()
    assert "- reference row: `mast@mast`; rows: `mast@crw`, `mast@mast`" in text
    assert "(1 sequence)" not in text and "(3 sequences)" in text


def test_a_row_whose_weights_were_taken_from_a_twin_is_not_counted_as_a_training_run(tmp_path):
    """Its train block is its twin's run: listed again, the Training table showed one run twice."""
    from dataclasses import replace

    results = tmp_path / "r"
    store_record(results, make_record("mast", 0.6, 1))
    twin = make_record("mast-r6", 0.5, 2)
    store_record(results, replace(twin, train={**twin.train, "weights_taken_from": "0123"}, key=""))
    assert main(["--results", str(results), "--out", str(tmp_path / "out")]) == 0
    text = (tmp_path / "out" / "report.md").read_text()
    shared = "Rows whose weights are another row's run (they differ only in fields their training never "
    assert f"{shared}reads): `mast-r6`." in text
    assert set(pd.read_csv(tmp_path / "out" / "tables" / "training.csv")["variant"]) == {"mast"}


def test_a_row_that_copied_its_first_stage_shows_only_the_stages_it_trained(tmp_path):
    """A memory arm that copied mast's pairs stage: listed in full, that stage's seconds counted twice."""
    from dataclasses import replace

    results = tmp_path / "r"
    store_record(results, make_record("mast", 0.6, 1))
    arm = make_record("mast-dil1", 0.5, 2)
    stages = [{**arm.train["stages"][0], "copied_from": "0123"}, *arm.train["stages"][1:]]
    store_record(results, replace(arm, train={**arm.train, "stages": stages}, key=""))
    assert main(["--results", str(results), "--out", str(tmp_path / "out")]) == 0
    text = (tmp_path / "out" / "report.md").read_text()
    assert (
        "Rows whose first stages were copied from another run, which trained them: `mast-dil1` (pairs)."
        in text
    )
    table = pd.read_csv(tmp_path / "out" / "tables" / "training.csv")
    assert sorted(zip(table["variant"], table["stage"], strict=True)) == [
        ("mast", "memory"), ("mast", "pairs"), ("mast-dil1", "memory")
    ]  # fmt: skip
