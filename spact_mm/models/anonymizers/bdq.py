"""BDQ: Blur, Difference, Quantization (Kumawat & Nagahara, ECCV 2022).

"Privacy-Preserving Action Recognition via Motion Difference Quantization".
BDQ encodes a whole clip in three steps, each a few lines:

1. **B**lur, a 2D Gaussian on every frame (per channel):
   ``B(x)_t = K_sigma * x_t`` with ``K_sigma = g g^T`` and
   ``g(u) = exp(-u^2 / (2 sigma^2)) / sum_v exp(-v^2 / (2 sigma^2))``,
   ``u = -(k-1)/2 .. (k-1)/2`` (the released code: k = 5, sigma = 3, zero
   padding, sigma *not* trained; the paper trains sigma, so it is learnable
   here, with the released constants as options);
2. **D**ifference of consecutive frames, ``D_t = B(x)_t - B(x)_{t-1}``
   (:func:`~spact_mm.models.anonymizers.clip_utils.frame_difference`; frame 0
   is discussed there);
3. **Q**uantization with learnable levels (:class:`LearnableQuantizer`): the
   clip is min-max normalised to ``u`` in [0, L-1], ``L = 2^bits``, and
   quantized by a sum of shifted steps ``Q(u) = sum_i 1[u > b_i]`` at the
   learnable levels ``b_1..b_{L-1}``, relaxed in training to the sum of
   shifted sigmoids ``sum_i sigmoid(tau (u - b_i))`` of the released code.

The output is mapped back to the difference's range and then by a fixed affine
map to a displayable frame sequence in [0, 1] (zero motion is mid-grey 0.5).

Written here from the paper and the public code (suakaw/BDQ_PrivacyAR): no
library of our stack has a differentiable-sigma Gaussian blur (torchvision's
``gaussian_blur`` takes sigma as a Python float) or a learnable quantizer.
"""
import math
from typing import Optional, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.model import BaseModule

from spact_mm.registry import MODELS

from .clip_utils import FIRST_FRAME_MODES, frame_difference

PADDING_MODES = ('zeros', 'reflect', 'replicate')
NORMALIZE_MODES = ('clip', 'batch', 'fixed')
RELAXATIONS = ('sigmoid', 'ste')


def gaussian_kernel1d(sigma: torch.Tensor, kernel_size: int) -> torch.Tensor:
    """Normalised 1D Gaussian ``g(u) = exp(-u^2 / (2 sigma^2)) / Z`` on
    ``u = -(k-1)/2 .. (k-1)/2``; differentiable in ``sigma`` (a 0-dim tensor)."""
    u = torch.arange(kernel_size, dtype=sigma.dtype, device=sigma.device) - (kernel_size - 1) / 2
    g = torch.exp(-u ** 2 / (2 * sigma ** 2))
    return g / g.sum()


@MODELS.register_module()
class LearnableQuantizer(nn.Module):
    """BDQ's quantizer with learnable levels (the "Q" step), on clips (N, C, T, H, W).

    With ``L = 2^bits``, the clip's minimum ``m`` and maximum ``M`` (see
    ``normalize``) and ``eps = 1e-4``:

    - normalise: ``u = (L - 1) (x - m) / (M - m + eps)``, in [0, L-1);
    - quantize (eval, and forward of ``'ste'``): ``Q(u) = sum_{i=1}^{L-1} 1[u > b_i]``,
      an integer level in {0, .., L-1};
    - relaxation (training): ``Q~(u) = sum_i sigmoid(tau (u - b_i))``
      (``'sigmoid'``, the released code, which uses it at test time too) or
      the straight-through estimator ``Q~ + stopgrad(Q - Q~)`` (``'ste'``: hard
      forward, the sigmoid sum's gradient backward);
    - map back: ``y = m + Q (M - m) / (L - 1)``, in [m, M].

    The levels start at ``b_i = i - 1/2`` (uniform quantization, as released).
    They are not clamped or sorted: the sum is invariant to their order, and a
    level outside [0, L-1] only adds a constant 0 or 1 (the released code
    clamps and sorts them in place after every step).

    Args:
        bits: Bits per value (4 as released: 16 output values).
        temperature: tau, the sigmoids' slope (5 as released).
        learn_levels: Whether ``b`` is trained (a buffer otherwise).
        relaxation: ``'sigmoid'`` or ``'ste'`` (training only).
        hard_at_eval: Use the hard ``Q`` in eval mode (``False``: the
            relaxation in eval too, as the released code does).
        normalize: Where ``m`` and ``M`` come from: ``'clip'`` (each clip's
            own; a clip's output does not depend on the batch), ``'batch'``
            (the whole batch's, as released) or ``'fixed'`` (``m = -1``,
            ``M = 1``, the range of a difference of [0, 1] frames; a frame's
            output depends only on it and its predecessor, for streaming).
    """

    def __init__(self,
                 bits: int = 4,
                 temperature: float = 5.0,
                 learn_levels: bool = True,
                 relaxation: str = 'sigmoid',
                 hard_at_eval: bool = True,
                 normalize: str = 'clip') -> None:
        super().__init__()
        if not 1 <= bits <= 8:
            raise ValueError(f'bits must be in 1..8, got {bits}')
        if temperature <= 0:
            raise ValueError(f'temperature must be > 0, got {temperature}')
        if relaxation not in RELAXATIONS:
            raise ValueError(f'relaxation must be one of {RELAXATIONS}, got {relaxation!r}')
        if normalize not in NORMALIZE_MODES:
            raise ValueError(f'normalize must be one of {NORMALIZE_MODES}, got {normalize!r}')
        self.bits = bits
        self.num_values = 2 ** bits  # L
        self.temperature = float(temperature)
        self.relaxation = relaxation
        self.hard_at_eval = hard_at_eval
        self.normalize = normalize
        self.eps = 1e-4
        levels = torch.arange(1, self.num_values, dtype=torch.float32) - 0.5
        if learn_levels:
            self.levels = nn.Parameter(levels)
        else:
            self.register_buffer('levels', levels)

    def value_range(self, x: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """``(m, M)``, broadcastable to ``x`` (N, ...)."""
        if self.normalize == 'fixed':
            return x.new_tensor(-1.), x.new_tensor(1.)
        if self.normalize == 'batch':
            return x.min(), x.max()
        flat = x.flatten(1)
        shape = (-1, ) + (1, ) * (x.dim() - 1)
        return flat.min(1).values.view(shape), flat.max(1).values.view(shape)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Quantize ``x`` (N, ...) to ``L`` values in its range (see class docstring)."""
        m, big_m = self.value_range(x)
        scale = self.num_values - 1
        u = scale * (x - m) / (big_m - m + self.eps)
        use_hard = not self.training and self.hard_at_eval
        if use_hard:
            q = self.hard_levels(u)
        else:
            shifted = u.unsqueeze(-1) - self.levels.to(x.dtype)  # (..., L-1)
            q = torch.sigmoid(self.temperature * shifted).sum(-1)
            if self.training and self.relaxation == 'ste':
                q = q + (self.hard_levels(u.detach()) - q).detach()
        return m + q * (big_m - m) / scale

    def hard_levels(self, u: torch.Tensor) -> torch.Tensor:
        """The hard ``Q(u) = sum_i 1[u > b_i]``, with ``u``'s shape and dtype.

        In PyTorch, ``torch.bucketize`` on the sorted levels counts the levels
        below each value: the same integers as summing the broadcast
        ``(..., L-1)`` comparison, without holding it (that tensor took 6.8 GB
        for an 8-frame 1080p clip at 4 bits; 0.95 GB now). Under an export
        (``torch.compiler.is_exporting``) the broadcast sum is kept: ONNX
        Runtime ran it in less memory than the exported ``bucketize`` (5.4
        against 6.4 GB on that clip; docs/benchmark.md, section 5).
        """
        levels = self.levels.detach().to(u.dtype)
        if torch.compiler.is_exporting():
            return (u.unsqueeze(-1) > levels).to(u.dtype).sum(-1)
        return torch.bucketize(u, torch.sort(levels).values, right=False).to(u.dtype)

    def extra_repr(self) -> str:
        return (f'bits={self.bits}, temperature={self.temperature}, relaxation='
                f'{self.relaxation!r}, hard_at_eval={self.hard_at_eval}, normalize='
                f'{self.normalize!r}, learn_levels={isinstance(self.levels, nn.Parameter)}')


@MODELS.register_module()
class BDQEncoder(BaseModule):
    """BDQ f_A (Kumawat & Nagahara, ECCV 2022): blur, frame difference, quantization.

    A clip-level anonymizer (``clip_level = True``): it maps clips
    ``x`` (N, C, T, H, W) in [0, 1] to displayable clips of the same shape,

        ``y = clamp((Qmap(D(B(x))) + 1) / 2, 0, 1)``

    with ``B`` the Gaussian blur, ``D`` the frame difference and ``Qmap`` the
    quantizer mapped back to the difference's range (see the module docstring
    and :class:`LearnableQuantizer`). Put it wherever f_A goes: as the
    ``anonymizer`` of :class:`AnonymizerDataPreprocessor` (which hands it whole
    clips), in the protocols and the audit (through
    :func:`~spact_mm.models.anonymizers.clip_utils.anonymize_clips`).

    On a single image (a one-frame clip) there is no motion: D = 0 and the
    output is a constant grey frame.

    Learnable parameters (at most ``1 + 2^bits - 1``): ``log_sigma`` (sigma =
    exp(log_sigma) > 0) and the quantizer's ``levels``. With
    ``learn_sigma=False, learn_levels=False`` it is the untrained BDQ with the
    released constants (baseline ``'bdq-fixed'``), with no parameter at all.

    Args:
        sigma: Initial (or fixed) blur sigma in pixels (3 as released).
        kernel_size: Odd size of the square blur kernel (5 as released).
        learn_sigma: Train sigma (the paper) or keep it fixed (the released code).
        padding_mode: Blur padding: ``'zeros'`` (as released), ``'reflect'``
            or ``'replicate'``.
        first_frame: Frame 0 of the difference; see
            :func:`~spact_mm.models.anonymizers.clip_utils.frame_difference`.
        bits, temperature, learn_levels, relaxation, hard_at_eval, normalize:
            Of the :class:`LearnableQuantizer`.
        init_cfg: mmengine init config (unused: the parameters start at the
            released constants).
    """

    clip_level = True

    def __init__(self,
                 sigma: float = 3.0,
                 kernel_size: int = 5,
                 learn_sigma: bool = True,
                 padding_mode: str = 'zeros',
                 first_frame: str = 'repeat',
                 bits: int = 4,
                 temperature: float = 5.0,
                 learn_levels: bool = True,
                 relaxation: str = 'sigmoid',
                 hard_at_eval: bool = True,
                 normalize: str = 'clip',
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if sigma <= 0:
            raise ValueError(f'sigma must be > 0, got {sigma}')
        if kernel_size < 1 or kernel_size % 2 == 0:
            raise ValueError(f'kernel_size must be odd and >= 1, got {kernel_size}')
        if padding_mode not in PADDING_MODES:
            raise ValueError(f'padding_mode must be one of {PADDING_MODES}, got {padding_mode!r}')
        if first_frame not in FIRST_FRAME_MODES:
            raise ValueError(f'first_frame must be one of {FIRST_FRAME_MODES}, '
                             f'got {first_frame!r}')
        self.kernel_size = kernel_size
        self.padding_mode = padding_mode
        self.first_frame = first_frame
        log_sigma = torch.tensor(math.log(sigma), dtype=torch.float32)
        if learn_sigma:
            self.log_sigma = nn.Parameter(log_sigma)
        else:
            self.register_buffer('log_sigma', log_sigma)
        self.quantizer = LearnableQuantizer(bits=bits, temperature=temperature,
                                            learn_levels=learn_levels, relaxation=relaxation,
                                            hard_at_eval=hard_at_eval, normalize=normalize)

    @property
    def sigma(self) -> torch.Tensor:
        """The blur's sigma (pixels)."""
        return self.log_sigma.exp()

    def blur(self, clips: torch.Tensor) -> torch.Tensor:
        """B: the Gaussian ``K_sigma`` on every frame and channel of (N, C, T, H, W)."""
        c = clips.shape[1]
        k, p = self.kernel_size, self.kernel_size // 2
        g = gaussian_kernel1d(self.sigma.to(clips.dtype), k)
        weight = torch.outer(g, g).expand(c, 1, 1, k, k)
        if self.padding_mode == 'zeros':
            return F.conv3d(clips, weight, padding=(0, p, p), groups=c)
        padded = F.pad(clips, (p, p, p, p, 0, 0), mode=self.padding_mode)
        return F.conv3d(padded, weight, groups=c)

    def difference(self, clips: torch.Tensor) -> torch.Tensor:
        """D: consecutive-frame difference (frame 0 as ``first_frame`` says)."""
        return frame_difference(clips, self.first_frame)

    def forward(self, clips: torch.Tensor) -> torch.Tensor:
        """(N, C, T, H, W) in [0, 1] -> the BDQ code as frames in [0, 1], same shape."""
        if clips.dim() != 5:
            raise ValueError('BDQEncoder is a clip-level f_A and expects clips (N, C, T, H, W); '
                             f'got shape {tuple(clips.shape)} (apply it with anonymize_clips)')
        code = self.quantizer(self.difference(self.blur(clips)))
        return ((code + 1) / 2).clamp(0, 1)
