"""python -m mast_bench.propagate --variant NAME --checkpoint PATH --davis ROOT [--set val]
[--sequences a,b] --out DIR

Semi-supervised propagation with the variant's reference schedule; writes DAVIS
palette PNGs <out>/<seq>/<frame>.png at the frames' size, then scores them
(J&F per object, sequence and globally) when the dataset has every annotation.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .harness.cli import check_device, comma_list, default_device, guarded, max_side


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m mast_bench.propagate", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--variant", required=True)
    weights = parser.add_mutually_exclusive_group()
    weights.add_argument("--checkpoint", help="weights file (official MAST checkpoint or one of ours)")
    weights.add_argument("--random-init", action="store_true", help="explicitly use random weights")
    parser.add_argument("--davis", required=True, help="DAVIS-2017 root")
    parser.add_argument("--set", default="val", dest="split", help="ImageSets/2017/<set>.txt (default val)")
    parser.add_argument("--sequences", type=comma_list, help="comma-separated sequences (default: the set)")
    parser.add_argument("--out", required=True, help="results folder (must be new or empty, or --force)")
    parser.add_argument(
        "--max-side", type=max_side, default=None, help="network input longest side (default full)"
    )
    parser.add_argument("--device", help="cpu, cuda, cuda:N (default: cuda if available)")
    parser.add_argument("--force", action="store_true", help="overwrite the chosen sequences in --out")
    parser.add_argument("--no-score", action="store_true", help="only write the masks")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    return parser


@guarded
def main(argv: list[str] | None = None) -> int:
    from .data import DavisDataset
    from .harness.loading import build_model
    from .harness.propagation import check_output_folder, propagate_dataset
    from .variants import get_variant

    args = build_parser().parse_args(argv)
    config = get_variant(args.variant)
    device = check_device(args.device or default_device())
    dataset = DavisDataset(args.davis)
    sequences = list(args.sequences or dataset.sequence_names(args.split))
    for name in sequences:
        dataset.sequence(name).object_ids()  # layout and first-frame objects, before any work
    out = Path(args.out)
    check_output_folder(out, sequences, args.force)
    model = build_model(config, args.checkpoint, args.random_init, 0, device)
    stats = propagate_dataset(model, dataset, sequences, out, device, args.max_side, progress=not args.quiet)
    frames = max(stats.frames, 1)
    print(
        f"{len(stats.sequences)} sequences, {stats.frames} frames in {stats.seconds:.1f} s "
        f"({stats.seconds / frames:.3f} s/frame, encoder {stats.encoder.seconds / frames:.3f}); "
        f"masks in {out}"
    )
    if not args.no_score and all(dataset.sequence(n).fully_annotated for n in sequences):
        from .harness.jobs import evaluation_metrics

        metrics = evaluation_metrics(dataset.root, out, args.split, sequences)
        print(
            "global:", ", ".join(f"{k} {v:.4f}" for k, v in metrics["global"].items() if isinstance(v, float))
        )
        for row in metrics["per_object"]:
            print(
                "  ",
                ", ".join(f"{k} {v:.4f}" if isinstance(v, float) else f"{k} {v}" for k, v in row.items()),
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
