"""STPrivacy f_A: tubelet sparsification and anonymization with a vision transformer.

Li et al., "STPrivacy: Spatio-Temporal Privacy-Preserving Action Recognition",
ICCV 2023. A clip is cut into tubelets (space-time patches), embedded, passed
through transformer blocks, and mapped back to pixels tubelet by tubelet. A
keep/drop predictor (:class:`TubeletSparsifier`, credited by the paper to
DynamicViT, Rao et al., NeurIPS 2021) removes tubelets; the removed ones are
filled (zeros or a learned fill) in the output. The output is a clip in pixel
space, so this f_A plugs in wherever the UNet does
(:class:`~spact_mm.models.data_preprocessors.AnonymizerDataPreprocessor`, the
protocols, the audit, ``tools/anonymize_video.py``, deploy).

The authors released the sparsifier and the recognizers but not the training
code; the losses and the training schedule of this toolbox (identity stage,
minimax with a keep-ratio loss) are our own design (docs/stprivacy.md).

What is written here, and why:

- the tokenizer is a plain ``nn.Conv3d`` with kernel = stride = tubelet size
  (the released ``PatchEmbed``; mmcv's ``PatchEmbed`` pads 2D and hides the
  grid, and the reconstruction head needs the kernel to invert it);
- the transformer blocks reuse mmcv's ``FFN``, ``build_norm_layer`` and
  ``DropPath`` (as mmaction2's VideoMAE ``VisionTransformer`` does), but the
  attention is our own: no library attention takes DynamicViT's
  multiplicative keep policy (a mask that passes gradients to the policy);
  see :func:`policy_softmax`;
- the sparsifier and its Gumbel / top-k decisions are our own (DynamicViT and
  the released STPrivacy code are not libraries of our stack).
"""
import math
from fractions import Fraction
from typing import Dict, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmcv.cnn import build_norm_layer
from mmcv.cnn.bricks import DropPath
from mmcv.cnn.bricks.transformer import FFN
from mmengine.model import BaseModule

from spact_mm.registry import MODELS

FILL_MODES = ('zeros', 'learned')
OUTPUT_ACTS = ('clamp', 'sigmoid', 'none')


def policy_softmax(scores: torch.Tensor, policy: torch.Tensor) -> torch.Tensor:
    """Softmax of attention scores under a keep policy (DynamicViT's masked softmax).

    With scores ``s`` (B, H, L, L), a keep policy ``p`` (B, L) in {0, 1} and

        ``M_ij = p_i p_j + delta_ij (1 - p_i p_j)``,
        ``A_ij = M_ij exp(s_ij) / sum_k M_ik exp(s_ik)``,

    a dropped token (p_j = 0) sends nothing to any other token (column j is 0
    outside the diagonal) and receives nothing from others (its row is 0
    except ``A_jj = 1``: it attends only to itself, so the row stays a
    distribution). Kept tokens attend exactly as if the dropped ones were
    removed. DynamicViT and the released STPrivacy code mask columns only (a
    dropped token still reads the kept ones) and add ``eps / L`` to every
    entry; here rows are masked too and nothing leaks. ``p`` may be a
    straight-through hard Gumbel sample: its value is 0/1, its gradient
    reaches the predictor through ``M``.

    Args:
        scores: Attention logits (B, H, L, L).
        policy: Keep decisions (B, L), values 0 or 1.

    Returns:
        Attention weights (B, H, L, L), rows summing to 1.
    """
    n = scores.shape[-1]
    pp = policy[:, None, :, None] * policy[:, None, None, :]
    eye = torch.eye(n, dtype=pp.dtype, device=pp.device)
    mask = pp + (1.0 - pp) * eye
    # the row maximum is a constant shift (softmax is invariant to it), taken without grad
    shifted = scores - scores.amax(dim=-1, keepdim=True).detach()
    dtype = torch.promote_types(scores.dtype, torch.float32)  # half precision: in float32
    weights = shifted.to(dtype).exp() * mask.to(dtype)
    denom = weights.sum(dim=-1, keepdim=True).clamp_min(torch.finfo(dtype).tiny)
    return (weights / denom).to(scores.dtype)


class PolicyAttention(nn.Module):
    """Multi-head self-attention that takes an optional keep policy (own code, see module
    docstring): ``softmax(q k^T / sqrt(d))`` or :func:`policy_softmax` under a policy."""

    def __init__(self, embed_dims: int, num_heads: int, qkv_bias: bool = True,
                 attn_drop: float = 0., proj_drop: float = 0.) -> None:
        super().__init__()
        if embed_dims % num_heads:
            raise ValueError(f'embed_dims {embed_dims} is not divisible by num_heads {num_heads}')
        self.num_heads = num_heads
        self.scale = (embed_dims // num_heads)**-0.5
        self.qkv = nn.Linear(embed_dims, 3 * embed_dims, bias=qkv_bias)
        self.attn_drop = nn.Dropout(attn_drop)
        self.proj = nn.Linear(embed_dims, embed_dims)
        self.proj_drop = nn.Dropout(proj_drop)
        #: Attention weights of the last forward pass, when ``keep_attention`` is set (tests).
        self.keep_attention = False
        self.last_attention: Optional[torch.Tensor] = None

    def forward(self, x: torch.Tensor, policy: Optional[torch.Tensor] = None) -> torch.Tensor:
        """(B, L, D) tokens -> (B, L, D); ``policy`` (B, L) masks as :func:`policy_softmax`."""
        b, n, c = x.shape
        qkv = self.qkv(x).reshape(b, n, 3, self.num_heads, c // self.num_heads)
        q, k, v = qkv.permute(2, 0, 3, 1, 4)
        scores = (q @ k.transpose(-2, -1)) * self.scale
        attn = scores.softmax(dim=-1) if policy is None else policy_softmax(scores, policy)
        if self.keep_attention:
            self.last_attention = attn
        out = (self.attn_drop(attn) @ v).transpose(1, 2).reshape(b, n, c)
        return self.proj_drop(self.proj(out))


class PolicyBlock(nn.Module):
    """Pre-norm transformer block ``x + A(LN(x)); x + FFN(LN(x))`` with a keep policy.

    The FFN, norms and DropPath are mmcv's (as in mmaction2's VideoMAE
    ``Block``); the attention is :class:`PolicyAttention`.
    """

    def __init__(self, embed_dims: int, num_heads: int, mlp_ratio: float = 4.,
                 qkv_bias: bool = True, drop_rate: float = 0., attn_drop_rate: float = 0.,
                 drop_path_rate: float = 0., norm_cfg: dict = dict(type='LN', eps=1e-6),
                 act_cfg: dict = dict(type='GELU')) -> None:
        super().__init__()
        self.norm1 = build_norm_layer(norm_cfg, embed_dims)[1]
        self.attn = PolicyAttention(embed_dims, num_heads, qkv_bias, attn_drop_rate, drop_rate)
        self.drop_path = DropPath(drop_path_rate) if drop_path_rate > 0 else nn.Identity()
        self.norm2 = build_norm_layer(norm_cfg, embed_dims)[1]
        self.mlp = FFN(embed_dims=embed_dims, feedforward_channels=int(embed_dims * mlp_ratio),
                       act_cfg=act_cfg, ffn_drop=drop_rate, add_identity=False)

    def forward(self, x: torch.Tensor, policy: Optional[torch.Tensor] = None) -> torch.Tensor:
        x = x + self.drop_path(self.attn(self.norm1(x), policy))
        return x + self.drop_path(self.mlp(self.norm2(x)))

    def zero_residuals(self) -> None:
        """Zero the last layer of both residual branches: the block becomes the identity."""
        last_fc = [m for m in self.mlp.modules() if isinstance(m, nn.Linear)][-1]
        for lin in (self.attn.proj, last_fc):
            nn.init.zeros_(lin.weight)
            nn.init.zeros_(lin.bias)


@MODELS.register_module()
class TubeletSparsifier(nn.Module):
    """Keep/drop predictor for tubelet tokens (STPrivacy's DynamicViT-style predictor).

    Each token is projected (LN, Linear, GELU) and its channels are split in
    thirds: the token's own third, the mean of the second third over the
    tokens of its frame (one temporal tubelet slot) and the mean of the last
    third over the whole video; their concatenation goes through an MLP to a
    2-way log-softmax ``(log P(keep), log P(drop))``.

    Decisions (:meth:`decide`):

    - training: a hard Gumbel-softmax sample per token (straight-through: 0/1
      value, gradient of the soft sample), enforced through attention masking
      (:func:`policy_softmax`) and the fill of the output;
    - test: per frame, the ``k = floor(keep_ratio * S)`` tokens with the
      highest keep log-probability (``S`` tokens per frame; the released code's
      ``init_n // num_tubelet * token_ratio``).

    Args:
        embed_dims: Token width (divisible by 3).
        tau: Gumbel-softmax temperature.
    """

    def __init__(self, embed_dims: int, tau: float = 1.0) -> None:
        super().__init__()
        if embed_dims % 3:
            raise ValueError(f'TubeletSparsifier splits channels in thirds; embed_dims '
                             f'{embed_dims} is not divisible by 3')
        if tau <= 0:
            raise ValueError(f'tau must be > 0, got {tau}')
        self.tau = float(tau)
        self.in_conv = nn.Sequential(nn.LayerNorm(embed_dims), nn.Linear(embed_dims, embed_dims),
                                     nn.GELU())
        self.out_conv = nn.Sequential(
            nn.Linear(embed_dims, embed_dims // 2), nn.GELU(),
            nn.Linear(embed_dims // 2, embed_dims // 4), nn.GELU(),
            nn.Linear(embed_dims // 4, 2), nn.LogSoftmax(dim=-1))

    def features(self, tokens: torch.Tensor, num_frames: int) -> torch.Tensor:
        """``[local, frame mean, video mean]`` features (B, L, D) of tokens (B, L, D)
        ordered frame by frame (L = num_frames * S)."""
        x = self.in_conv(tokens)
        b, n, c = x.shape
        x = x.reshape(b, num_frames, n // num_frames, c)
        third = c // 3
        local = x[..., :third]
        frame = x[..., third:2 * third].mean(dim=2, keepdim=True).expand_as(local)
        video = x[..., 2 * third:].mean(dim=(1, 2), keepdim=True).expand_as(local)
        return torch.cat([local, frame, video], dim=-1).reshape(b, n, c)

    def forward(self, tokens: torch.Tensor, num_frames: int) -> torch.Tensor:
        """Log-probabilities (B, L, 2) of (keep, drop) for tokens (B, L, D)."""
        if tokens.shape[1] % num_frames:
            raise ValueError(f'{tokens.shape[1]} tokens do not split into {num_frames} frames')
        return self.out_conv(self.features(tokens, num_frames))

    @staticmethod
    def num_kept(tokens_per_frame: int, keep_ratio: float) -> int:
        """Tokens kept per frame at test: ``floor(keep_ratio * S)``.

        ``keep_ratio`` is taken as the exact fraction ``p / q`` of its decimal
        (``Fraction.limit_denominator(10**6)``: 0.7 is 7/10, not the float just
        below it), and the floor is the integer ``(S * p) // q``. Integer
        arithmetic keeps ``S`` symbolic under ``torch.export``, so an ONNX export
        keeps the right count at every input size (a float ``math.floor`` is
        specialised to the tracing size).
        """
        ratio = Fraction(keep_ratio).limit_denominator(10**6)
        return torch.sym_min(tokens_per_frame,
                             tokens_per_frame * ratio.numerator // ratio.denominator)

    def decide_ranked(self, log_probs: torch.Tensor, num_frames: int,
                      keep_ratio: float) -> torch.Tensor:
        """Training decisions (B, L) at an exact ratio: the Gumbel-top-k trick.

        Per frame, the ``k = floor(keep_ratio * S)`` tokens with the highest
        perturbed score ``log P(keep) + g`` (``g`` i.i.d. standard Gumbel) are
        kept: a sample of ``k`` tokens without replacement from the keep
        distribution (Kool et al., ICML 2019), the test-time top-k with noise.
        Straight-through: the value is the 0/1 mask, the gradient that of
        ``P(keep)``. Used for training over a range of ratios (ours), where one
        predictor must rank tokens well for every ``k``.
        """
        b, n, _ = log_probs.shape
        per_frame = n // num_frames
        k = self.num_kept(per_frame, keep_ratio)
        noise = -torch.empty_like(log_probs[..., 0]).exponential_().log()  # standard Gumbel
        score = (log_probs[..., 0] + noise).reshape(b, num_frames, per_frame)
        hard = torch.zeros_like(score)
        if k > 0:
            hard.scatter_(-1, score.topk(k, dim=-1).indices, 1.0)
        soft = log_probs[..., 0].exp()
        return hard.reshape(b, n) + (soft - soft.detach())  # exactly 0/1 in value

    def decide(self, log_probs: torch.Tensor, num_frames: int, keep_ratio: float,
               training: bool) -> torch.Tensor:
        """Keep decisions (B, L) in {0, 1} (see class docstring)."""
        if training:
            return F.gumbel_softmax(log_probs, tau=self.tau, hard=True, dim=-1)[..., 0]
        b, n, _ = log_probs.shape
        per_frame = n // num_frames
        k = self.num_kept(per_frame, keep_ratio)
        score = log_probs[..., 0].reshape(b, num_frames, per_frame)
        policy = torch.zeros_like(score)
        if k > 0:
            # ties (identical tubelets of a flat region score alike) go to the earlier token:
            # ONNX TopK's rule, which the export's top-k follows; eager top-k leaves the
            # order of ties unspecified, so it uses a stable sort (which does not export)
            if torch.compiler.is_exporting():
                keep = score.topk(k, dim=-1).indices
            else:
                keep = score.sort(dim=-1, descending=True, stable=True).indices[..., :k]
            policy.scatter_(-1, keep, 1.0)
        return policy.reshape(b, n)


@MODELS.register_module()
class STPrivacyAnonymizer(BaseModule):
    """STPrivacy f_A: tubelets -> transformer with sparsification -> tubelet pixels.

    A clip-level anonymizer (``clip_level = True``) mapping clips
    ``x`` (N, C, T, H, W) in [0, 1] to clips of the same shape:

    1. pad T, H, W to multiples of the tubelet (replicating the last frame,
       row, column; a still image is a one-frame clip) and embed every tubelet
       with a Conv3d, kernel = stride = ``tubelet_size``; add a learned
       position embedding (trilinearly resized for another grid);
    2. run ``num_layers`` :class:`PolicyBlock` s; before block
       ``sparsify_at`` the :class:`TubeletSparsifier` decides which tokens
       stay (when ``keep_ratio < 1``). Training: a hard Gumbel sample, enforced
       by attention masking in the later blocks. Test: per-frame top-k, and
       the dropped tokens are removed (gathered out), which gives the same
       result as masking (a masked token neither sends nor receives attention)
       at a fraction of the cost;
    3. map each kept token linearly to its tubelet's pixels, put ``fill``
       (zeros or a learned tubelet) in the dropped ones, crop the padding and
       apply ``output_act``.

    ``keep_ratio`` is the training target and the test-time ratio; it is a
    plain attribute (no weight depends on it), so it can be changed after
    loading a checkpoint (``--cfg-options anonymizer.keep_ratio=0.3``,
    ``tools/anonymize_video.py --keep-ratio``).

    In training with ``keep_ratio < 1`` every forward pass on clips records
    DynamicViT's keep-ratio loss ``loss_keep = w * mean_n((mean_l p_nl - r)^2)``
    (``r = keep_ratio``, ``w = keep_loss_weight``), which
    :meth:`pop_auxiliary_losses` hands to the data preprocessor, which passes
    it to the recognizer's losses (``anonymizer_losses``).

    Kept-tubelet fidelity (ours, ``fidelity_weight`` lambda > 0): in training
    every forward pass also records

        loss_fidelity = lambda * sum_{n,c,t,h,w} m |A - X| / (C * sum_{n,t,h,w} m)

    with X the input clip, A = f_A(X) (after a sigmoid ``output_act``, before a
    clamp, which would give saturated pixels no gradient back), in [0, 1]
    pixel units, and m the keep decision of each pixel's tubelet (1 everywhere
    when nothing is dropped): the mean absolute change of the kept pixels. It is
    a trust region on what f_A keeps: without it, L_T alone (stage 2b) drove the
    kept tubelets of the demo f_A to colour noise (docs/stprivacy.md). m is
    detached in the average (no gain from dropping badly reconstructed
    tubelets through the count), though A itself depends on the decisions
    through the straight-through mask and the masked attention. It reaches the
    recognizer like ``loss_keep``.

    Identity initialisation (``identity_init=True``): the tubelet embedding is
    orthogonal, the position embedding and the last layer of every residual
    branch start at zero (every block is the identity) and the head is the
    pseudo-inverse of the embedding, so with
    nothing dropped f_A(x) = x exactly when ``embed_dims`` >= the pixels per
    tubelet (``C * kt * kh * kw``), and the least-squares projection
    otherwise; the identity stage (Eq. 4 of SPAct) then trains the rest.

    Args:
        in_channels: Channels of a frame.
        num_frames: Frames of the clips the position embedding is made for.
        img_size: Height = width of those clips.
        tubelet_size: (kt, kh, kw).
        embed_dims: Token width (divisible by 3 and by ``num_heads``).
        num_layers: Transformer blocks.
        num_heads: Attention heads.
        mlp_ratio: FFN hidden width / ``embed_dims``.
        qkv_bias: Bias of the q, k, v projection.
        drop_rate, attn_drop_rate, drop_path_rate: Dropouts (drop path rises
            linearly over the blocks).
        keep_ratio: Fraction of tokens kept per frame, in [0, 1]; 1 turns the
            sparsifier off.
        sparsify_at: Index of the block before which tokens are dropped
            (0: before the first block; ``num_layers``: after the last).
        keep_loss_weight: ``w`` of ``loss_keep``.
        fidelity_weight: lambda of ``loss_fidelity`` (0: not computed).
        gumbel_tau: Temperature of the training decisions.
        train_keep_ratios: ``None``, or ``(lo, hi)`` with ``0 <= lo <= hi <= 1``:
            train over a range of ratios (ours). Each training forward pass
            draws ``r ~ U(lo, hi)`` and keeps exactly ``floor(r S)`` tokens per
            frame by :meth:`TubeletSparsifier.decide_ranked` (no
            ``loss_keep``: the ratio is exact), so that the ratio can be changed
            at deploy time. ``keep_ratio`` stays the test-time ratio.
        fill: ``'zeros'`` or ``'learned'`` (a tubelet of pixels, starting at 0).
        final_norm: LayerNorm before the head (the released ``norm_recon``);
            it rules out the exact identity initialisation.
        output_act: ``'clamp'`` to [0, 1] (keeps the identity exact),
            ``'sigmoid'`` or ``'none'``.
        identity_init: See above.
        init_cfg: mmengine init config.
    """

    clip_level = True

    def __init__(self,
                 in_channels: int = 3,
                 num_frames: int = 16,
                 img_size: int = 112,
                 tubelet_size: Sequence[int] = (2, 16, 16),
                 embed_dims: int = 768,
                 num_layers: int = 12,
                 num_heads: int = 12,
                 mlp_ratio: float = 4.,
                 qkv_bias: bool = True,
                 drop_rate: float = 0.,
                 attn_drop_rate: float = 0.,
                 drop_path_rate: float = 0.,
                 keep_ratio: float = 0.7,
                 sparsify_at: int = 3,
                 keep_loss_weight: float = 2.0,
                 fidelity_weight: float = 0.0,
                 gumbel_tau: float = 1.0,
                 train_keep_ratios: Optional[Sequence[float]] = None,
                 fill: str = 'zeros',
                 final_norm: bool = False,
                 output_act: str = 'clamp',
                 identity_init: bool = True,
                 init_cfg: Optional[Union[dict, list]] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        tubelet_size = tuple(int(s) for s in tubelet_size)
        if len(tubelet_size) != 3 or min(tubelet_size) < 1:
            raise ValueError(f'tubelet_size must be 3 positive ints, got {tubelet_size}')
        if not 0 <= sparsify_at <= num_layers:
            raise ValueError(f'sparsify_at must be in [0, {num_layers}], got {sparsify_at}')
        if fill not in FILL_MODES:
            raise ValueError(f'fill must be one of {FILL_MODES}, got {fill!r}')
        if output_act not in OUTPUT_ACTS:
            raise ValueError(f'output_act must be one of {OUTPUT_ACTS}, got {output_act!r}')
        self.in_channels = in_channels
        self.tubelet_size = tubelet_size
        self.embed_dims = embed_dims
        self.keep_ratio = keep_ratio  # validated by the setter
        if train_keep_ratios is not None:
            lo, hi = (float(r) for r in train_keep_ratios)
            if not 0 <= lo <= hi <= 1:
                raise ValueError(f'train_keep_ratios must be (lo, hi) with 0 <= lo <= hi <= 1, '
                                 f'got {tuple(train_keep_ratios)}')
            train_keep_ratios = (lo, hi)
        self.train_keep_ratios = train_keep_ratios
        #: The ratio drawn by the last training forward pass over ``train_keep_ratios``.
        self.last_train_ratio: Optional[float] = None
        self.sparsify_at = sparsify_at
        self.keep_loss_weight = float(keep_loss_weight)
        if fidelity_weight < 0:
            raise ValueError(f'fidelity_weight must be >= 0, got {fidelity_weight}')
        self.fidelity_weight = float(fidelity_weight)
        self.output_act = output_act
        self.pixels_per_tubelet = in_channels * math.prod(tubelet_size)
        grid = (max(1, num_frames // tubelet_size[0]), max(1, img_size // tubelet_size[1]),
                max(1, img_size // tubelet_size[2]))
        self.embed = nn.Conv3d(in_channels, embed_dims, tubelet_size, stride=tubelet_size)
        self.pos_embed = nn.Parameter(torch.zeros(1, embed_dims, *grid))
        dpr = torch.linspace(0, drop_path_rate, num_layers).tolist()
        self.blocks = nn.ModuleList([
            PolicyBlock(embed_dims, num_heads, mlp_ratio, qkv_bias, drop_rate, attn_drop_rate,
                        dpr[i]) for i in range(num_layers)
        ])
        self.sparsifier = TubeletSparsifier(embed_dims, tau=gumbel_tau)
        self.norm = (build_norm_layer(dict(type='LN', eps=1e-6), embed_dims)[1]
                     if final_norm else nn.Identity())
        self.head = nn.Linear(embed_dims, self.pixels_per_tubelet)
        if fill == 'learned':
            self.fill = nn.Parameter(torch.zeros(self.pixels_per_tubelet))
        else:
            self.register_buffer('fill', torch.zeros(self.pixels_per_tubelet), persistent=False)
        self._auxiliary_losses: Dict[str, torch.Tensor] = {}
        #: Keep decisions (N, t, h, w) of the last forward pass (None: nothing dropped).
        self.last_policy: Optional[torch.Tensor] = None
        self._init_weights(identity_init)

    # ----------------------------------------------------------------- set-up
    @property
    def keep_ratio(self) -> float:
        """Fraction of tokens kept per frame (training target and test ratio)."""
        return self._keep_ratio

    @keep_ratio.setter
    def keep_ratio(self, value: float) -> None:
        value = float(value)
        if not 0 <= value <= 1:
            raise ValueError(f'keep_ratio must be in [0, 1], got {value}')
        self._keep_ratio = value

    def _init_weights(self, identity_init: bool) -> None:
        """ViT init (truncated normal linears, as the released code); identity init on top."""
        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.trunc_normal_(m.weight, std=.02)
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
        if not identity_init:
            nn.init.trunc_normal_(self.pos_embed, std=.02)
            return
        # An orthogonal embedding (rows or columns orthonormal) has a perfectly conditioned
        # pseudo-inverse (its transpose): with PyTorch's default init of the Conv3d, a square
        # W has a condition number in the hundreds, and a few Adam steps on W or the head
        # wreck the identity.
        nn.init.orthogonal_(self.embed.weight.data.view(self.embed_dims, -1))
        nn.init.zeros_(self.embed.bias)
        for blk in self.blocks:
            blk.zero_residuals()
        self.init_head_as_inverse()

    @torch.no_grad()
    def init_head_as_inverse(self) -> None:
        """Head = pseudo-inverse of the tubelet embedding: ``H = W^+``, ``c = -W^+ b``.

        The embedding is ``z = W x + b`` with W (D, P) the Conv3d kernel
        flattened (P = C kt kh kw); ``W^+ (W x + b) - W^+ b = x`` when W has
        full column rank (D >= P). Computed in float64.
        """
        w = self.embed.weight.detach().double().reshape(self.embed_dims, -1)
        pinv = torch.linalg.pinv(w)
        self.head.weight.copy_(pinv.to(self.head.weight.dtype))
        self.head.bias.copy_((-pinv @ self.embed.bias.detach().double()).to(self.head.bias.dtype))

    # --------------------------------------------------------------- pieces
    def tokenize(self, x: torch.Tensor) -> Tuple[torch.Tensor, Tuple[int, int, int]]:
        """Padded clips (N, C, T, H, W) -> tokens (N, L, D) ordered (t, h, w), and the grid."""
        z = self.embed(x)
        grid = tuple(z.shape[2:])
        pos = self.pos_embed
        if tuple(pos.shape[2:]) != grid:
            pos = F.interpolate(pos, size=grid, mode='trilinear', align_corners=False)
        z = z + pos
        return z.flatten(2).transpose(1, 2), grid

    def untokenize(self, pixels: torch.Tensor, grid: Tuple[int, int, int]) -> torch.Tensor:
        """Tubelet pixels (N, L, C kt kh kw) -> clips (N, C, t kt, h kh, w kw)."""
        n = pixels.shape[0]
        (t, h, w), (kt, kh, kw) = grid, self.tubelet_size
        x = pixels.reshape(n, t, h, w, self.in_channels, kt, kh, kw)
        x = x.permute(0, 4, 1, 5, 2, 6, 3, 7)
        return x.reshape(n, self.in_channels, t * kt, h * kh, w * kw)

    def _pad(self, x: torch.Tensor) -> torch.Tensor:
        """Replicate-pad T, H, W up to multiples of the tubelet."""
        pads = [(-s) % k for s, k in zip(x.shape[2:], self.tubelet_size)]
        # an export pads always: a tracing size that needs no padding must not bake the
        # no-padding branch into a graph that other sizes (an odd T) run through
        if not any(pads) and not torch.compiler.is_exporting():
            return x
        return F.pad(x, (0, pads[2], 0, pads[1], 0, pads[0]), mode='replicate')

    def encode(self, tokens: torch.Tensor, num_frames: int
               ) -> Tuple[torch.Tensor, Optional[torch.Tensor]]:
        """Run the blocks with sparsification; returns tokens (N, L, D) and the policy (N, L).

        Training: the Gumbel policy masks attention in every block from
        ``sparsify_at`` on. Test: the top-k tokens are gathered, the later
        blocks run on them alone, and they are scattered back (dropped rows
        are left as they were; the head's output for them is replaced by the
        fill). ``policy`` is ``None`` when nothing is dropped (``keep_ratio = 1``).
        """
        policy = None
        keep_idx = None
        x = tokens
        sparsify = self.keep_ratio < 1 or (self.training and self.train_keep_ratios is not None)
        for i, blk in enumerate(self.blocks):
            if i == self.sparsify_at and sparsify:
                policy, keep_idx, x = self._sparsify(x, num_frames)
            x = blk(x, policy if keep_idx is None else None)
        if self.sparsify_at == len(self.blocks) and sparsify:
            policy, keep_idx, x = self._sparsify(x, num_frames)
        if keep_idx is not None:
            full = tokens.new_zeros(tokens.shape[0], tokens.shape[1], x.shape[-1])
            x = full.scatter(1, keep_idx[..., None].expand_as(x), x)
        return x, policy

    def _sparsify(self, x: torch.Tensor, num_frames: int):
        """Policy (N, L); in eval also the kept indices (N, K) and the kept tokens."""
        log_probs = self.sparsifier(x, num_frames)
        if self.training and self.train_keep_ratios is not None:
            lo, hi = self.train_keep_ratios
            ratio = lo + (hi - lo) * float(torch.rand(()))
            self.last_train_ratio = ratio
            return self.sparsifier.decide_ranked(log_probs, num_frames, ratio), None, x
        policy = self.sparsifier.decide(log_probs, num_frames, self.keep_ratio, self.training)
        if self.training:
            self._auxiliary_losses = dict(loss_keep=self.keep_loss_weight * (
                (policy.mean(dim=1) - self.keep_ratio)**2).mean())
            return policy, None, x
        # k tokens per frame (exactly what ``decide`` kept), from the shapes alone, not from
        # the policy's values: no data-dependent ``.item()``, so the graph exports to ONNX
        num_keep = self.sparsifier.num_kept(x.shape[1] // num_frames, self.keep_ratio) * num_frames
        # the kept positions in ascending order: top-k of a score that ranks every kept token
        # (policy 1) above every dropped one and, within each, the earlier position first
        # (distinct values, so no ties; top-k exports to ONNX, a stable sort does not)
        length = policy.shape[1]
        order = torch.arange(length, device=policy.device, dtype=policy.dtype)
        keep_idx = (policy * (2 * length) - order).topk(num_keep, dim=1).indices
        return policy, keep_idx, x.gather(1, keep_idx[..., None].expand(-1, -1, x.shape[-1]))

    # ---------------------------------------------------------------- forward
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Anonymize clips (N, C, T, H, W) in [0, 1]; returns the same shape."""
        if x.dim() != 5 or x.shape[1] != self.in_channels:
            raise ValueError(f'STPrivacyAnonymizer is a clip-level f_A and expects clips (N, '
                             f'{self.in_channels}, T, H, W); got shape {tuple(x.shape)} '
                             '(apply it with anonymize_clips)')
        t, h, w = x.shape[2:]
        self._auxiliary_losses = {}
        tokens, grid = self.tokenize(self._pad(x))
        z, policy = self.encode(tokens, grid[0])
        pixels = self.head(self.norm(z))
        if policy is not None:
            keep = policy[..., None].to(pixels.dtype)
            pixels = keep * pixels + (1 - keep) * self.fill.to(pixels.dtype)
            self.last_policy = policy.detach().reshape(x.shape[0], *grid)
        else:
            self.last_policy = None
        out = self.untokenize(pixels, grid)[:, :, :t, :h, :w]
        if self.output_act == 'sigmoid':
            out = torch.sigmoid(out)
        if self.training and self.fidelity_weight > 0:  # before the clamp: see the class doc
            self._auxiliary_losses['loss_fidelity'] = self.fidelity_weight * \
                self.kept_fidelity(out, x, policy, grid)
        return out.clamp(0, 1) if self.output_act == 'clamp' else out

    def kept_fidelity(self, out: torch.Tensor, x: torch.Tensor,
                      policy: Optional[torch.Tensor],
                      grid: Tuple[int, int, int]) -> torch.Tensor:
        """Mean |A - X| over the pixels of kept tubelets (``loss_fidelity`` / lambda).

        Args:
            out: f_A's output A (N, C, T, H, W).
            x: The input X, same shape (detached here).
            policy: Keep decisions (N, L) over the tubelet grid, or ``None``
                (nothing dropped: every pixel counts).
            grid: The tubelet grid (t, h, w) of the padded clip.
        """
        err = (out - x.detach()).abs()
        if policy is None:
            return err.mean()
        # each tubelet's decision on all of its pixels (channels included), cropped as A is
        m = self.untokenize(policy.detach().to(err.dtype)[..., None].expand(
            -1, -1, self.pixels_per_tubelet), grid)[:, :, :x.shape[2], :x.shape[3], :x.shape[4]]
        return (m * err).sum() / m.sum().clamp_min(1)

    def pop_auxiliary_losses(self) -> Dict[str, torch.Tensor]:
        """f_A's own loss terms of the last training forward pass (``loss_keep``,
        ``loss_fidelity``), once.

        :class:`AnonymizerDataPreprocessor` calls this right after anonymizing
        the training clips and passes the terms on as ``anonymizer_losses``,
        which :class:`SPActRecognizer` adds to its losses (minimax step 1
        minimises them with L_T - w L_B; in step 2 f_A has no gradient).
        """
        losses, self._auxiliary_losses = self._auxiliary_losses, {}
        return losses

    def extra_repr(self) -> str:
        return (f'tubelet_size={self.tubelet_size}, keep_ratio={self.keep_ratio}, '
                f'sparsify_at={self.sparsify_at}, output_act={self.output_act!r}')


def set_keep_ratio(module: nn.Module, keep_ratio: float) -> int:
    """Set ``keep_ratio`` of every :class:`STPrivacyAnonymizer` in ``module`` (deploy time).

    Args:
        module: An f_A, or a module holding one (e.g. the preprocessor that
            :func:`~spact_mm.apis.inference.init_anonymizer` returns).
        keep_ratio: Fraction of tubelets kept per frame, in [0, 1].

    Returns:
        How many anonymizers were set.

    Raises:
        ValueError: ``module`` holds no STPrivacy f_A (the ratio would be ignored).
    """
    found = [m for m in module.modules() if isinstance(m, STPrivacyAnonymizer)]
    if not found:
        raise ValueError(f'keep_ratio applies to STPrivacyAnonymizer only; {type(module).__name__}'
                         ' holds none')
    for m in found:
        m.keep_ratio = keep_ratio
    return len(found)
