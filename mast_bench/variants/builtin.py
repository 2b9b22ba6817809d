"""The built-in variants: the paper's model, the bit-faithful official code, and one variant per
ablated design choice (each differs from ``mast`` in the fields it names, nothing else)."""

from __future__ import annotations

from .config import VariantConfig
from .registry import VariantRegistry

MAST_PAPER = VariantConfig(
    name="mast",
    description="paper defaults: Lab + channel dropout, ROI memory, official schedule, offset bug fixed",
)


def builtin_variants() -> list[VariantConfig]:
    def derive(name: str, description: str, **changes) -> VariantConfig:
        return MAST_PAPER.replace(name=name, description=description, **changes)

    variants = [
        MAST_PAPER,
        derive(
            "mast-official",
            "bit-faithful to the official code, including its offset defect",
            offset_bug="official",
        ),
        derive("mast-rgb", "RGB input, no channel dropout", colour_space="rgb", channel_dropout=False),
        derive("mast-rgb-dropout", "RGB input, one of R, G, B dropped in training", colour_space="rgb"),
        derive(
            "mast-lab-nodropout",
            "Lab input without channel dropout (all 3 channels reconstructed)",
            channel_dropout=False,
        ),
        derive(
            "mast-full-memory", "every position of every reference is a candidate (no ROI)", memory="full"
        ),
        derive("mast-short-only", "long-term references dropped: short-term memory only", memory="short"),
        derive(
            "mast-window",
            "long-term references read through a plain window (no ROI localisation)",
            memory="window",
        ),
        derive("mast-first-short", "references: first frame + t-1, t-3, t-5", schedule="first-short"),
        derive("mast-previous", "reference: previous frame only", schedule="previous"),
        derive("mast-r6", "test window radius 6 (P=13)", test_radius=6),
        derive("mast-r9", "test window radius 9 (P=19)", test_radius=9),
        derive("mast-scaled", "affinity divided by sqrt(C) (as MAMP)", affinity_scale="inv_sqrt_dim"),
        derive("mast-frozen-bn", "BatchNorm frozen in training (as LIIR suggests)", train_batchnorm="frozen"),
        derive(
            "mast-scaled-frozen-bn",
            "affinity divided by sqrt(C) and BatchNorm frozen in training",
            affinity_scale="inv_sqrt_dim",
            train_batchnorm="frozen",
        ),
        derive(
            "mast-lab-pixels",
            "training-free baseline: normalised Lab pixels (top-left of each 4x4 cell) as features",
            features="lab-pixels",
            channel_dropout=False,
        ),
    ]
    for depth in (18, 50):
        variants.append(
            derive(
                f"resnet{depth}-imagenet",
                f"ImageNet ResNet-{depth} baseline of CRW/VFS: torchvision layer3 (res4) at stride 8, "
                f"RGB input; needs a torchvision resnet{depth} checkpoint file",
                features=f"resnet{depth}",
                colour_space="rgb",
                channel_dropout=False,
            )
        )
    variants.append(
        derive(
            "resnet18-imagenet-crw",
            "CRW's published ImageNet ResNet-18 baseline, BatchNorm quirk included: the running "
            "statistics after CRW's start-up passes of zero images (videowalk code/model.py, test.py); "
            "needs a torchvision resnet18 checkpoint file",
            features="resnet18",
            colour_space="rgb",
            channel_dropout=False,
            trunk_batchnorm="crw-startup",
        )
    )
    for dilation in (1, 2, 3, 4):
        variants.append(
            derive(
                f"mast-dil{dilation}",
                f"coarse ROI search always at dilation {dilation}",
                dilation_set=(dilation,),
            )
        )
    return variants


def register_builtins(registry: VariantRegistry) -> None:
    for config in builtin_variants():
        registry.register(config)
