"""The MAST module: encoder + memory read, the same code for training (colour values) and test
(one-hot mask values). Every design choice comes from the VariantConfig, never from a name.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn

from ..ops import MemoryEntry, memory_read, soft_argmax_offset
from ..variants.config import VariantConfig
from .backbones import torchvision_trunk_state
from .encoder import build_features
from .schedule import dilation_for_gap, is_long_term


class MAST(nn.Module):
    def __init__(self, config: VariantConfig) -> None:
        super().__init__()
        self.config = config
        features = build_features(config)
        self.feature_extraction = features.extraction
        self.post_convolution = features.post_convolution
        self._stride = features.stride

    @property
    def stride(self) -> int:
        """Feature stride: values are sampled, and scores upsampled, at this many pixels per cell."""
        return self._stride

    @property
    def trainable(self) -> bool:
        """Trainable by the self-supervised objective (an ImageNet trunk only ever loads its file)."""
        return self.feature_extraction is not None and not self.config.pretrained_features

    def encode(self, frames: torch.Tensor) -> torch.Tensor:
        """(B,3,H,W) normalised frames -> (B,C,ceil(H/s),ceil(W/s)) features at the encoder's stride s."""
        if self.feature_extraction is None:
            # the frame's own normalised colour at the top-left pixel of each cell: the
            # same pixel the values are sampled at, so keys and values stay aligned
            return frames[:, :, :: self.stride, :: self.stride]
        features = self.feature_extraction(frames)
        return features if self.post_convolution is None else self.post_convolution(features)

    def checkpoint_state(self, state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """``state`` in this model's layout: a torchvision ResNet file (bare ``conv1.weight``...) is
        mapped onto the trunk (classifier and unused layers left out); any other layout is unchanged."""
        if not self.config.pretrained_features or any(k.startswith("feature_extraction.") for k in state):
            return state
        trunk_state = torchvision_trunk_state(state, self.feature_extraction)
        return {f"feature_extraction.{key}": value for key, value in trunk_state.items()}

    @property
    def radius(self) -> int:
        """Window radius of the read: the official model uses R=6 in training and R=12 at test."""
        return self.config.train_radius if self.training else self.config.test_radius

    def affinity_scale(self, channels: int) -> float:
        return 1.0 if self.config.affinity_scale == "unit" else 1.0 / math.sqrt(channels)

    def memory_entries(
        self,
        query_feat: torch.Tensor,
        ref_feats: Sequence[torch.Tensor],
        ref_values: Sequence[torch.Tensor],
        ref_indices: Sequence[int],
        target_index: int,
        radius: int,
    ) -> list[MemoryEntry]:
        """One memory entry per reference, following the variant's memory kind and offset handling."""
        cfg = self.config
        if not (len(ref_feats) == len(ref_values) == len(ref_indices)) or not ref_feats:
            raise ValueError(
                f"need as many reference features ({len(ref_feats)}), values ({len(ref_values)}) and "
                f"indices ({len(ref_indices)}), at least one"
            )
        searched = cfg.memory == "roi"
        offsets: dict[int, torch.Tensor] = {}
        for position, (feat, index) in enumerate(zip(ref_feats, ref_indices, strict=True)):
            if searched and is_long_term(target_index, index, cfg):
                # coarse dilated search: expected displacement of the best match. It only decides
                # where the fine read looks, so no gradient flows through it (our choice for the
                # memory training stages; the official code never trained through it)
                dilation = dilation_for_gap(target_index - index, cfg)
                with torch.no_grad():
                    offsets[position] = soft_argmax_offset(query_feat, feat, cfg.coarse_radius, dilation)
        # official defect (issue #17): every long-term value is gathered with the offset left
        # over from the last long-term reference of the loop
        leftover = offsets[max(offsets)] if offsets else None
        entries: list[MemoryEntry] = []
        for position, (feat, value, index) in enumerate(zip(ref_feats, ref_values, ref_indices, strict=True)):
            if cfg.memory == "full":
                entries.append(MemoryEntry(feat, value, "full"))
            elif position in offsets:  # fine step: bilinear window around position + offset
                own = offsets[position]
                used = leftover if cfg.offset_bug == "official" else own
                entry = MemoryEntry(feat, value, "window", radius=radius, offset=own, value_offset=used)
                entries.append(entry)
            elif cfg.memory == "short" and is_long_term(target_index, index, cfg):
                continue
            else:  # short-term reference, or long-term without localisation ("window")
                entries.append(MemoryEntry(feat, value, "window", radius=radius))
        if not entries:
            raise ValueError(f"variant {cfg.name!r} kept none of the references {list(ref_indices)}")
        return entries

    def read_cost_key(
        self,
        query_feat: torch.Tensor,
        ref_feats: Sequence[torch.Tensor],
        ref_values: Sequence[torch.Tensor],
        ref_indices: Sequence[int],
        target_index: int,
        radius: int | None = None,
    ) -> tuple:
        """What a :meth:`read`'s FLOPs depend on besides its tensors' shapes (profiling counts each
        distinct read once): the window radius and, per reference, its coarse search's dilation
        where it is a long-term one (0 for a short-term one), whatever the memory kind."""
        cfg = self.config
        searched = tuple(
            dilation_for_gap(target_index - index, cfg) if is_long_term(target_index, index, cfg) else 0
            for index in ref_indices
        )
        return (self.radius if radius is None else radius), searched

    def read(
        self,
        query_feat: torch.Tensor,
        ref_feats: Sequence[torch.Tensor],
        ref_values: Sequence[torch.Tensor],
        ref_indices: Sequence[int],
        target_index: int,
        radius: int | None = None,
    ) -> torch.Tensor:
        """Values (B,Cv,h,w) at stride 4 of the references -> predicted values (B,Cv,h,w) of the target."""
        radius = self.radius if radius is None else radius
        # the read runs in (at least) float32 whatever the encoder ran in (bf16 autocast in training);
        # float64 stays float64 (the official-colorizer tests compare at 1e-9)
        with torch.autocast(query_feat.device.type, enabled=False):
            query_feat = _full_precision(query_feat)
            ref_feats = [_full_precision(feat) for feat in ref_feats]
            entries = self.memory_entries(
                query_feat, ref_feats, ref_values, ref_indices, target_index, radius
            )
            return memory_read(query_feat, entries, scale=self.affinity_scale(query_feat.shape[1]))

    def forward(
        self,
        ref_frames: Sequence[torch.Tensor],
        ref_values: Sequence[torch.Tensor],
        target_frame: torch.Tensor,
        ref_indices: Sequence[int],
        target_index: int,
    ) -> torch.Tensor:
        """As the official module: each frame encoded in its own call, full-resolution values
        (B,Cv,H,W) sampled at the top-left pixel of each cell (4x4 for MAST's encoder)."""
        ref_feats = [self.encode(frame) for frame in ref_frames]
        query = self.encode(target_frame)
        values = [v.float()[:, :, :: self.stride, :: self.stride] for v in ref_values]
        return self.read(query, ref_feats, values, ref_indices, target_index)


def _full_precision(tensor: torch.Tensor) -> torch.Tensor:
    """float32 for half-precision features; float32 and float64 as they are."""
    return tensor if tensor.dtype in (torch.float32, torch.float64) else tensor.float()
