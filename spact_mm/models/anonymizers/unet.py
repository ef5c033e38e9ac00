"""f_A: the UNet anonymization function of SPAct (Sec. 3.2.1).

The UNet itself is written here rather than taken from a library: mmaction2 and
mmpretrain have no image-to-image encoder-decoder, and mmseg's UNet is not part
of our stack. It is the classic Ronneberger et al. layout (double 3x3 conv
blocks, max-pool down, bilinear up + skip concatenation), with width and depth
as arguments so demos can use a tiny one and paper runs the full one.
"""
from typing import List, Optional, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmcv.cnn import ConvModule
from mmengine.model import BaseModule

from spact_mm.registry import MODELS

from .clip_utils import FIRST_FRAME_MODES, frame_difference


class _DoubleConv(nn.Sequential):
    """Two 3x3 ConvModules (conv + norm + act)."""

    def __init__(self, in_channels: int, out_channels: int, norm_cfg: Optional[dict],
                 act_cfg: dict) -> None:
        super().__init__(
            ConvModule(in_channels, out_channels, 3, padding=1, norm_cfg=norm_cfg,
                       act_cfg=act_cfg),
            ConvModule(out_channels, out_channels, 3, padding=1, norm_cfg=norm_cfg,
                       act_cfg=act_cfg))


@MODELS.register_module()
class UNetAnonymizer(BaseModule):
    """Encoder-decoder UNet f_A working in [0, 1] pixel space.

    ``forward`` maps frames ``x`` in [0, 1] of shape (B, C, H, W) to
    ``sigmoid(logits)`` of the same shape (Sec. 3.2.1: "x_hat is the sigmoid
    output of f_A logits"). It is trained to the identity with the L1 loss of
    Eq. 4 in stage 1 (see :class:`AnonymizerReconstructor`).

    Args:
        in_channels: Channels of the input frames.
        out_channels: Channels of the output frames (``None``: ``in_channels``).
        base_channels: Width of the first encoder level; level ``i`` has
            ``base_channels * 2**i`` channels. The paper's UNet uses 64.
        num_stages: Number of encoder levels (the number of 2x poolings is
            ``num_stages - 1``). H and W must be divisible by
            ``2**(num_stages - 1)``.
        norm_cfg: Norm layer config of each conv (``None`` for no norm).
        act_cfg: Activation config.
        init_cfg: mmengine init config.
        space_to_depth: Block side ``r`` of a space-to-depth stem (a remedy of
            ours, not the paper's; 1: none). The UNet then runs on
            ``pixel_unshuffle(x, r)``, ``r^2 C`` channels at ``1/r`` of the
            resolution, and its ``r^2 C_out`` output channels are put back by
            ``pixel_shuffle``: ``x_hat = PS_r(sigmoid(UNet(PU_r(x))))``. It keeps
            full-resolution activations out of a camera-sized f_A, whose 4-8
            channel layers waste most of a 16-float SIMD block (ONNX Runtime's
            NCHWc layout on AVX-512; docs/benchmark.md). H and W must then be
            divisible by ``r * 2**(num_stages - 1)``.
    """

    def __init__(self,
                 in_channels: int = 3,
                 base_channels: int = 64,
                 num_stages: int = 5,
                 norm_cfg: Optional[dict] = dict(type='BN'),
                 act_cfg: dict = dict(type='ReLU'),
                 init_cfg: Optional[Union[dict, List[dict]]] = None,
                 out_channels: Optional[int] = None,
                 space_to_depth: int = 1) -> None:
        super().__init__(init_cfg=init_cfg)
        if num_stages < 1:
            raise ValueError(f'num_stages must be >= 1, got {num_stages}')
        if int(space_to_depth) != space_to_depth or space_to_depth < 1:
            raise ValueError(f'space_to_depth must be an integer >= 1, got {space_to_depth!r}')
        self.in_channels = in_channels
        self.num_stages = num_stages
        self.space_to_depth = r = int(space_to_depth)
        widths = [base_channels * 2**i for i in range(num_stages)]
        self.encoders = nn.ModuleList()
        prev = in_channels * r * r
        for w in widths:
            self.encoders.append(_DoubleConv(prev, w, norm_cfg, act_cfg))
            prev = w
        self.decoders = nn.ModuleList()
        for w in reversed(widths[:-1]):
            self.decoders.append(_DoubleConv(prev + w, w, norm_cfg, act_cfg))
            prev = w
        self.out_conv = nn.Conv2d(prev, (out_channels or in_channels) * r * r, 1)

    @property
    def size_divisor(self) -> int:
        """H and W of the input must be multiples of this."""
        return self.space_to_depth * 2**(self.num_stages - 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Anonymize frames.

        Args:
            x: Frames in [0, 1], shape (B, C, H, W).

        Returns:
            Anonymized frames in (0, 1), same shape.
        """
        if x.dim() != 4 or x.shape[1] != self.in_channels:
            raise ValueError(f'UNetAnonymizer expects (B, {self.in_channels}, H, W) frames, '
                             f'got shape {tuple(x.shape)}')
        return self._unet(x)

    def _unet(self, x: torch.Tensor) -> torch.Tensor:
        """The encoder-decoder on (B, C_in, H, W) inputs; sigmoid outputs (B, C_out, H, W)."""
        h, w = x.shape[-2:]
        if h % self.size_divisor or w % self.size_divisor:
            raise ValueError(f'UNetAnonymizer with {self.num_stages} stages and space_to_depth '
                             f'{self.space_to_depth} needs H and W divisible by '
                             f'{self.size_divisor}, got {h}x{w}')
        r = self.space_to_depth
        if r > 1:
            x = F.pixel_unshuffle(x, r)
        skips = []
        for i, enc in enumerate(self.encoders):
            if i > 0:
                x = F.max_pool2d(x, 2)
            x = enc(x)
            skips.append(x)
        skips.pop()  # the bottleneck output is ``x`` itself
        for dec in self.decoders:
            skip = skips.pop()
            x = F.interpolate(x, size=skip.shape[-2:], mode='bilinear', align_corners=False)
            x = dec(torch.cat([skip, x], dim=1))
        x = torch.sigmoid(self.out_conv(x))
        return F.pixel_shuffle(x, r) if r > 1 else x


@MODELS.register_module()
class MotionUNetAnonymizer(UNetAnonymizer):
    """A clip-level f_A that sees motion: the UNet on each frame and its temporal difference.

    SPAct's f_A (:class:`UNetAnonymizer`) maps one frame at a time, so it cannot
    tell the static content of a clip (the scene, a still person's clothing) from
    what moves, although only the motion carries the action on motion-defined
    tasks. This variant gives the same UNet the temporal difference as extra input
    channels (a remedy of ours, not the paper's):

        x_hat_t = sigmoid(UNet([x_t, D_t])),  D_t = x_t - x_{t-1}

    (D_0 by ``first_frame``, see :func:`frame_difference`; the input has
    ``2 * in_channels`` channels, the output ``in_channels``). It is trained by
    the same three stages (identity in stage 1, Eq. 4; minimax in stage 3,
    Eq. 7-9), so the game, not a fixed transform, decides what it keeps. A still
    image (a one-frame clip) has D = 0.

    Args:
        in_channels: Channels of the input frames.
        first_frame: How D_0 is filled (one of :data:`FIRST_FRAME_MODES`).
        **kwargs: :class:`UNetAnonymizer` arguments (``base_channels``,
            ``num_stages``, ``norm_cfg``, ``act_cfg``, ``init_cfg``).
    """

    clip_level = True

    def __init__(self, in_channels: int = 3, first_frame: str = 'repeat', **kwargs) -> None:
        if first_frame not in FIRST_FRAME_MODES:
            raise ValueError(f'first_frame must be one of {FIRST_FRAME_MODES}, '
                             f'got {first_frame!r}')
        kwargs.pop('out_channels', None)
        super().__init__(in_channels=2 * in_channels, out_channels=in_channels, **kwargs)
        self.in_channels = in_channels  # channels of a frame (AnonymizerReconstructor reads it)
        self.first_frame = first_frame

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Anonymize clips.

        Args:
            x: Clips in [0, 1], shape (N, C, T, H, W).

        Returns:
            Anonymized clips in (0, 1), same shape.
        """
        if x.dim() != 5 or x.shape[1] != self.in_channels:
            raise ValueError(f'MotionUNetAnonymizer expects clips (N, {self.in_channels}, T, H, '
                             f'W), got shape {tuple(x.shape)}')
        h, w = x.shape[-2:]
        if h % self.size_divisor or w % self.size_divisor:
            raise ValueError(f'MotionUNetAnonymizer with {self.num_stages} stages needs H and W '
                             f'divisible by {self.size_divisor}, got {h}x{w}')
        n, c, t = x.shape[:3]
        inp = torch.cat([x, frame_difference(x, self.first_frame)], dim=1)
        frames = inp.permute(0, 2, 1, 3, 4).reshape(n * t, 2 * c, h, w)
        out = self._unet(frames)
        return out.reshape(n, t, c, h, w).permute(0, 2, 1, 3, 4)
