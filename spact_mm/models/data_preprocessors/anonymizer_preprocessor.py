"""Put f_A in front of any mmaction2 (or mmpretrain) model as its data preprocessor."""
from contextlib import contextmanager
from typing import Dict, Iterator, Optional, Tuple, Union

import torch
import torch.nn as nn
from mmengine.model import BaseDataPreprocessor

from spact_mm.models.anonymizers.clip_utils import anonymize_clips, anonymize_images
from spact_mm.registry import MODELS


@MODELS.register_module()
class AnonymizerDataPreprocessor(BaseDataPreprocessor):
    """Wrap a stock data preprocessor and run the anonymizer f_A on every frame or clip.

    The wrapped ``preprocessor`` (mmaction2's ``ActionDataPreprocessor`` by
    default) stacks, converts and normalises the batch as usual. This class
    then maps the normalised batch back to [0, 1] pixel space with the wrapped
    preprocessor's own ``mean``/``std``, applies f_A (frame by frame, or clip by
    clip for a clip-level f_A, see below), and normalises the result again;
    batch blending (mixup/cutmix) of the wrapped preprocessor is applied after
    f_A. Any recognizer config becomes privacy-preserving by replacing its
    ``data_preprocessor`` with
    ``dict(type='AnonymizerDataPreprocessor', preprocessor=<the old one>, ...)``.

    Layouts: NCTHW batches ``(N, M, C, T, H, W)`` (or ``(N, C, T, H, W)``) and
    NCHW batches ``(N, M, C, H, W)`` or ``(N, C, H, W)``, as chosen by the wrapped
    preprocessor's ``format_shape`` (NCHW when it has none, as for images).

    Per-frame and clip-level f_A: NCTHW batches go through
    :func:`~spact_mm.models.anonymizers.clip_utils.anonymize_clips`, so a
    per-frame f_A (the UNet, the baselines) runs on every frame and a
    clip-level one (``clip_level = True``: BDQ, motion-only) gets each clip
    (each of the M views) whole. NCHW batches and the ``aux_inputs`` image
    views hold single images or frames without their neighbours in time: a
    clip-level f_A sees each as a **one-frame clip**
    (:func:`~spact_mm.models.anonymizers.clip_utils.anonymize_images`). For a
    frame-difference f_A that means no motion, hence a constant frame for every
    image: privacy images and single decoded frames (the cross-dataset privacy
    set, the attacker's frames in the protocols) carry no information after
    it, so a privacy attacker trained on them is blind by construction, not by
    the merit of f_A. The ``M`` frames of an NCHW batch (TSN segments) are not
    treated as a clip either.

    Args:
        anonymizer: Config of f_A (e.g. ``UNetAnonymizer``), mapping [0, 1]
            frames (B, C, H, W) to [0, 1] frames, or a clip-level f_A (e.g.
            ``BDQEncoder``) mapping [0, 1] clips (N, C, T, H, W) to clips.
        preprocessor: Config (or module) of the wrapped preprocessor.
        checkpoint: Optional checkpoint of a trained f_A: a full SPAct / stage-1
            checkpoint (keys ``data_preprocessor.anonymizer.*``), or one that
            holds only the anonymizer (keys ``anonymizer.*`` or bare keys).
            Loaded with ``weights_only=True`` (no code from the file runs).
        frozen: Keep f_A fixed: no gradients, eval mode (BN statistics frozen).
            Use it to deploy a trained f_A in front of another recognizer.
        return_raw: Also return the normalised batch before f_A as
            ``raw_inputs`` (used by the stage-1 reconstruction model).
    """

    def __init__(self,
                 anonymizer: Union[dict, nn.Module],
                 preprocessor: Optional[Union[dict, nn.Module]] = None,
                 checkpoint: Optional[str] = None,
                 frozen: bool = False,
                 return_raw: bool = False) -> None:
        if preprocessor is None:
            preprocessor = dict(type='ActionDataPreprocessor')
        super().__init__()
        self.preprocessor = (
            MODELS.build(preprocessor) if isinstance(preprocessor, dict) else preprocessor)
        self.anonymizer = MODELS.build(anonymizer) if isinstance(anonymizer, dict) else anonymizer
        if getattr(self.preprocessor, 'batch_augments', None) is not None:
            raise NotImplementedError('AnonymizerDataPreprocessor supports mmaction2 `blending` '
                                      'but not mmpretrain `batch_augments`')
        self.format_shape = getattr(self.preprocessor, 'format_shape', 'NCHW')
        if self.format_shape not in ('NCHW', 'NCTHW'):
            raise ValueError(f'unsupported format_shape {self.format_shape!r}; '
                             'AnonymizerDataPreprocessor handles NCHW and NCTHW')
        self.frozen = frozen
        self.return_raw = return_raw
        self.enabled = True  # see :meth:`bypassed`
        if checkpoint is not None:
            self.load_anonymizer(checkpoint)
        if frozen:
            self.anonymizer.requires_grad_(False)
            self.anonymizer.eval()

    # ------------------------------------------------------------------ weights
    def load_anonymizer(self, checkpoint: str) -> None:
        """Load f_A's weights from ``checkpoint`` (see class docstring)."""
        from spact_mm.utils import load_checkpoint_safely

        ckpt = load_checkpoint_safely(checkpoint)
        state = ckpt.get('state_dict', ckpt) if isinstance(ckpt, dict) else ckpt
        for prefix in ('data_preprocessor.anonymizer.', 'anonymizer.'):
            sub = {k[len(prefix):]: v for k, v in state.items() if k.startswith(prefix)}
            if sub:
                state = sub
                break
        try:
            missing, unexpected = self.anonymizer.load_state_dict(state, strict=False)
        except RuntimeError as e:  # shape mismatch: another width or depth
            raise ValueError(f'{checkpoint} does not hold weights of this anonymizer: {e}') from e
        if missing or unexpected:
            raise ValueError(f'{checkpoint} does not hold weights of this anonymizer '
                             f'({type(self.anonymizer).__name__}): missing keys {missing[:5]}, '
                             f'unexpected keys {unexpected[:5]}; give the config it was '
                             'trained with (e.g. --anonymizer-config)')

    def train(self, mode: bool = True) -> 'AnonymizerDataPreprocessor':
        """Set train/eval mode; a frozen f_A always stays in eval mode."""
        super().train(mode)
        if self.frozen:
            self.anonymizer.eval()
        return self

    @contextmanager
    def bypassed(self) -> Iterator[None]:
        """Within this context f_A is skipped: the model sees raw frames.

        Used to measure a recognizer on raw versus anonymized input with the
        same weights (e.g. the demo's "f_T top-1 on raw clips").
        """
        previous, self.enabled = self.enabled, False
        try:
            yield
        finally:
            self.enabled = previous

    # ------------------------------------------------------------ pixel space
    def _mean_std(self, ndim_tail: int) -> Tuple[Optional[torch.Tensor], Optional[torch.Tensor]]:
        """Mean/std of the wrapped preprocessor, shaped for a (..., C, *tail) tensor."""
        if not getattr(self.preprocessor, '_enable_normalize', False):
            return None, None
        shape = (-1, ) + (1, ) * ndim_tail
        return self.preprocessor.mean.view(shape), self.preprocessor.std.view(shape)

    def to_unit(self, x: torch.Tensor, ndim_tail: int) -> torch.Tensor:
        """Map a normalised batch back to [0, 1] pixel space."""
        mean, std = self._mean_std(ndim_tail)
        if mean is not None:
            x = x * std + mean
        return x / 255.

    def from_unit(self, x: torch.Tensor, ndim_tail: int) -> torch.Tensor:
        """Map [0, 1] pixels to the wrapped preprocessor's normalised space."""
        x = x * 255.
        mean, std = self._mean_std(ndim_tail)
        if mean is not None:
            x = (x - mean) / std
        return x

    def anonymize_unit(self, frames: torch.Tensor) -> torch.Tensor:
        """Apply f_A to [0, 1] frames (or images) of shape (..., C, H, W).

        Each frame is anonymized on its own: a clip-level f_A sees it as a
        one-frame clip (see the class docstring). Use :meth:`anonymize_unit_clips`
        for frames that form a clip.
        """
        lead = frames.shape[:-3]
        flat = frames.reshape((-1, ) + frames.shape[-3:])
        if self.frozen:
            with torch.no_grad():
                out = anonymize_images(self.anonymizer, flat)
        else:
            out = anonymize_images(self.anonymizer, flat)
        return out.reshape(lead + out.shape[-3:])

    def anonymize_unit_clips(self, clips: torch.Tensor, **kwargs) -> torch.Tensor:
        """Apply f_A to [0, 1] clips of shape (..., C, T, H, W), clip by clip.

        A per-frame f_A runs on every frame, a clip-level f_A on every clip
        (:func:`~spact_mm.models.anonymizers.clip_utils.anonymize_clips`, which
        also passes ``kwargs`` on to f_A).
        """
        lead = clips.shape[:-4]
        flat = clips.reshape((-1, ) + clips.shape[-4:])
        if self.frozen:
            with torch.no_grad():
                out = anonymize_clips(self.anonymizer, flat, **kwargs)
        else:
            out = anonymize_clips(self.anonymizer, flat, **kwargs)
        return out.reshape(lead + out.shape[-4:])

    def anonymize(self, inputs: torch.Tensor) -> torch.Tensor:
        """Anonymize a normalised batch in the wrapped preprocessor's layout."""
        if not self.enabled:
            return inputs
        if self.format_shape == 'NCTHW':
            return self.from_unit(self.anonymize_unit_clips(self.to_unit(inputs, 3)), 3)
        return self.from_unit(self.anonymize_unit(self.to_unit(inputs, 2)), 2)

    # ----------------------------------------------------------------- forward
    def forward(self, data: dict, training: bool = False) -> Dict:
        """Preprocess with the wrapped preprocessor, then anonymize.

        Args:
            data: A batch from the dataloader: ``inputs``, ``data_samples`` and
                optionally ``aux_inputs`` (a list of uint8 (V, C, H, W) image
                views, anonymized too, each view as an image; see
                :class:`SSLPrivacyHead`).
            training: Whether blending augmentations apply.

        Returns:
            The batch dict with anonymized ``inputs`` (and ``aux_inputs``).
        """
        aux = data.pop('aux_inputs', None) if isinstance(data, dict) else None
        data = self.preprocessor(data, False)
        if not isinstance(data, dict):
            raise TypeError('AnonymizerDataPreprocessor expects a dict batch, got '
                            f'{type(data).__name__} (multi-view tuples are not supported)')
        raw = data['inputs']
        data['inputs'] = self.anonymize(raw)
        pop_losses = getattr(self.anonymizer, 'pop_auxiliary_losses', None)
        losses = pop_losses() if training and self.enabled and pop_losses is not None else None
        if losses:  # f_A's own loss terms (STPrivacy's loss_keep); SPActRecognizer adds them
            data['anonymizer_losses'] = losses
        if self.return_raw:
            data['raw_inputs'] = raw
        if aux is not None:
            aux = torch.stack([a.to(self.device) for a in aux]).float() / 255.
            data['aux_inputs'] = self.from_unit(self.anonymize_unit(aux), 2)
        blending = getattr(self.preprocessor, 'blending', None)
        if training and blending is not None:
            data['inputs'], data['data_samples'] = blending(data['inputs'], data['data_samples'])
        return data
