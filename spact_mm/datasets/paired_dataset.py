"""Action videos paired with privacy images: the cross-dataset training protocol (Sec. 4.2).

In the cross-dataset protocol of Wu et al. [41] (UCF101-VISPR, HMDB51-VISPR),
f_A and f_T learn from an action dataset (X_action^t, Y_T^t) and f_A and f_B
from a separate privacy-labelled image dataset (X_privacy^t, Y_B^t), in one
minimax loop. :class:`ActionPrivacyPairDataset` feeds both to the same
iteration: each action sample carries ``aux_inputs``, privacy image view(s)
that :class:`~spact_mm.models.AnonymizerDataPreprocessor` anonymizes with the
same f_A and hands to the privacy head (``SupervisedPrivacyHead`` with one
view, ``SSLPrivacyHead`` with two).

mmengine's dataset wrappers (``ConcatDataset``, ``RepeatDataset``) combine
datasets of the same kind; none pairs the samples of two different datasets,
so this wrapper is hand-written in their style (``lazy_init``, ``full_init``,
``metainfo``, ``get_data_info``).
"""
import copy
from functools import lru_cache
from typing import Any, Dict, Iterator, List, Union

import numpy as np
import torch
from mmengine.dataset import BaseDataset, DefaultSampler

from spact_mm.registry import DATA_SAMPLERS, DATASETS

from .annotation_io import multi_hot

#: Image loaders whose output is BGR unless told otherwise (mmcv's, ours).
_LOADERS = ('LoadImageFromFile', 'LoadPrivacyImage')


@lru_cache(maxsize=64)
def _permutation(seed: int, draw: int, size: int) -> np.ndarray:
    """The ``draw``-th seeded permutation of ``range(size)`` (cached per process)."""
    perm = np.random.default_rng([seed, draw]).permutation(size)
    perm.setflags(write=False)
    return perm


def pair_index(index: int, epoch: int, num_action: int, num_privacy: int, seed: int = 0) -> int:
    """Privacy sample paired with action sample ``index`` in epoch ``epoch``.

    The action set is cut into ``C = ceil(num_action / num_privacy)`` cycles of
    ``num_privacy`` consecutive indices; cycle ``c`` of epoch ``e`` reads a
    fresh seeded permutation ``P_{e*C + c}`` of the privacy set, and action
    index ``i = c * num_privacy + k`` gets privacy index ``P_{e*C + c}[k]``. So:

    - the pairing is a pure function of (seed, epoch, index);
    - a privacy set larger than the action set contributes a different random
      subset of distinct images each epoch (all images over the epochs);
    - a smaller privacy set is cycled: within an epoch every image is used
      ``floor`` or ``ceil`` of ``num_action / num_privacy`` times.

    Args:
        index: Action index in ``[0, num_action)``.
        epoch: Epoch number (>= 0).
        num_action: Length of the action dataset.
        num_privacy: Length of the privacy dataset.
        seed: Seed of the permutations.

    Returns:
        An index in ``[0, num_privacy)``.
    """
    if not 0 <= index < num_action:
        raise IndexError(f'action index {index} out of range [0, {num_action})')
    if num_privacy < 1:
        raise ValueError('the privacy dataset is empty')
    cycles = -(-num_action // num_privacy)
    cycle, k = divmod(index, num_privacy)
    return int(_permutation(int(seed), int(epoch) * cycles + cycle, num_privacy)[k])


@DATASETS.register_module()
class ActionPrivacyPairDataset:
    """An action dataset whose samples each carry privacy image views.

    ``dataset[i]`` is the action sample ``i`` as packed by its own pipeline
    (``inputs`` and an ``ActionDataSample`` from ``PackActionInputs``) plus

    - ``aux_inputs``: a uint8 tensor (V, C, H, W) holding ``views`` passes of
      one privacy image through the privacy pipeline (random augmentations
      make two passes two views, as ``SSLPrivacyHead`` needs). The default
      collate (``pseudo_collate``) gives a list of them, the layout that
      :class:`AnonymizerDataPreprocessor` stacks to (N, V, C, H, W);
    - ``data_samples.aux_privacy_label``: the image's multi-hot label, float
      tensor (num_attributes,), read by ``SupervisedPrivacyHead``, and
      ``aux_img_path`` in the sample's metainfo.

    Which image: :func:`pair_index` (deterministic in seed, epoch and index).
    The epoch reaches dataloader workers through the index: an index
    ``e * len(self) + i`` means action sample ``i`` in epoch ``e``;
    :class:`EpochPairingSampler` yields such indices. Plain indices in
    ``[0, len(self))`` are epoch 0 (the same pairing every epoch).

    Requirements on the privacy dataset: ``metainfo['classes']`` (the privacy
    attributes), a pipeline that ends in mmpretrain's ``PackInputs`` with a
    fixed output size (``inputs`` a uint8 (C, H, W) tensor, ``gt_label`` the
    attribute indices), and RGB channel order like the decoded clips (use
    ``LoadPrivacyImage(channel_order='rgb')``; a known BGR loader is refused).

    Args:
        action: Config (or instance) of the action dataset.
        privacy: Config (or instance) of the privacy-labelled image dataset.
        views: Privacy views per sample: 1 (supervised budget model of [41])
            or 2 (contrastive f_B).
        seed: Seed of the pairing.
        lazy_init: Defer loading the annotations to :meth:`full_init`.
    """

    def __init__(self,
                 action: Union[dict, BaseDataset],
                 privacy: Union[dict, BaseDataset],
                 views: int = 1,
                 seed: int = 0,
                 lazy_init: bool = False) -> None:
        if views not in (1, 2):
            raise ValueError(f'views must be 1 or 2, got {views}')
        self.action = DATASETS.build(action) if isinstance(action, dict) else action
        self.privacy = DATASETS.build(privacy) if isinstance(privacy, dict) else privacy
        self.views = views
        self.seed = int(seed)
        self._check_loader()
        self._fully_initialized = False
        if not lazy_init:
            self.full_init()

    # ------------------------------------------------------------ mmengine API
    @property
    def metainfo(self) -> dict:
        """The action dataset's metainfo plus ``privacy_classes``."""
        meta = copy.deepcopy(dict(self.action.metainfo))
        meta['privacy_classes'] = tuple(self.privacy.metainfo.get('classes') or ())
        return meta

    def full_init(self) -> None:
        """Load both datasets' annotations and check the privacy labels."""
        if self._fully_initialized:
            return
        for ds in (self.action, self.privacy):
            if hasattr(ds, 'full_init'):
                ds.full_init()
        classes = self.privacy.metainfo.get('classes')
        if not classes:
            raise ValueError(f'{type(self.privacy).__name__} has no metainfo["classes"]: the '
                             'privacy dataset must name its privacy attributes')
        if len(self.privacy) == 0:
            raise ValueError(f'{type(self.privacy).__name__} is empty')
        info = self.privacy.get_data_info(0)
        if 'gt_label' not in info:
            raise ValueError(f'{type(self.privacy).__name__} has no privacy labels (`gt_label`) '
                             'in its data infos; ActionPrivacyPairDataset needs a '
                             'privacy-labelled image dataset (e.g. VISPRDataset)')
        self.num_attributes = len(classes)
        self._fully_initialized = True

    def __len__(self) -> int:
        return len(self.action)

    def _split(self, idx: int) -> tuple:
        """``(epoch, action index)`` of a (possibly epoch-encoded) index."""
        n = len(self)
        if idx < 0:
            idx += n
        if idx < 0:
            raise IndexError(f'index {idx - n} out of range for {n} samples')
        return divmod(int(idx), n)

    def privacy_index(self, idx: int) -> int:
        """The privacy sample paired with (epoch-encoded) index ``idx``."""
        epoch, i = self._split(idx)
        return pair_index(i, epoch, len(self.action), len(self.privacy), self.seed)

    def get_data_info(self, idx: int) -> dict:
        """Action data info plus ``aux_privacy_index`` and ``aux_privacy_label``."""
        if not self._fully_initialized:
            self.full_init()
        _, i = self._split(idx)
        info = dict(self.action.get_data_info(i))
        j = self.privacy_index(idx)
        pinfo = self.privacy.get_data_info(j)
        info['aux_privacy_index'] = j
        info['aux_privacy_label'] = multi_hot(pinfo['gt_label'], self.num_attributes)
        return info

    def __getitem__(self, idx: int) -> Dict[str, Any]:
        if not self._fully_initialized:
            self.full_init()
        _, i = self._split(idx)
        packed = self.action[i]
        if not isinstance(packed, dict) or 'inputs' not in packed or \
                'data_samples' not in packed:
            raise TypeError('the action pipeline must end in PackActionInputs '
                            f'(dict with inputs and data_samples), got {type(packed).__name__}')
        views, label, path = self._privacy_views(self.privacy_index(idx))
        packed['aux_inputs'] = views
        sample = packed['data_samples']
        sample.set_field(label, 'aux_privacy_label')
        if path is not None:
            sample.set_metainfo(dict(aux_img_path=path))
        return packed

    # ------------------------------------------------------------------ helpers
    def _check_loader(self) -> None:
        pipeline = getattr(self.privacy, 'pipeline', None)
        for t in getattr(pipeline, 'transforms', []):
            if type(t).__name__ in _LOADERS and getattr(t, 'channel_order', 'bgr') == 'bgr':
                raise ValueError(
                    f'the privacy pipeline loads BGR images ({t!r}) but f_A sees RGB clips; '
                    "use dict(type='LoadPrivacyImage', channel_order='rgb')")

    def _privacy_views(self, j: int) -> tuple:
        """``views`` passes of privacy image ``j``: (V, C, H, W) uint8, label, path."""
        tensors: List[torch.Tensor] = []
        label = path = None
        for v in range(self.views):
            packed = self.privacy[j]
            img, sample = self._unpack(packed, j)
            this_path = sample.metainfo.get('img_path')
            this_label = self._label(sample, j)
            if v == 0:
                label, path = this_label, this_path
            elif this_path != path or not torch.equal(this_label, label):
                # the privacy dataset replaced a broken image by another one (its
                # skip policy): keep the views of one image
                img = tensors[0]
            tensors.append(img)
        if any(t.shape != tensors[0].shape for t in tensors):
            raise ValueError('privacy views differ in shape '
                             f'{[tuple(t.shape) for t in tensors]}; the privacy pipeline must '
                             'give a fixed output size')
        return torch.stack(tensors), label, path

    def _unpack(self, packed: Any, j: int) -> tuple:
        if not isinstance(packed, dict) or 'inputs' not in packed or \
                'data_samples' not in packed:
            raise TypeError(f'privacy sample {j}: the privacy pipeline must end in '
                            "mmpretrain's PackInputs (dict with inputs and data_samples)")
        img = packed['inputs']
        if not isinstance(img, torch.Tensor) or img.dim() != 3 or img.dtype != torch.uint8:
            desc = (f'{img.dtype} tensor of shape {tuple(img.shape)}'
                    if isinstance(img, torch.Tensor) else type(img).__name__)
            raise ValueError(f'privacy sample {j}: expected a uint8 image tensor (C, H, W) '
                             f'from the privacy pipeline, got a {desc}')
        return img, packed['data_samples']

    def _label(self, sample: Any, j: int) -> torch.Tensor:
        if 'gt_label' not in sample:
            raise ValueError(f'privacy sample {j} has no gt_label after the privacy pipeline; '
                             'ActionPrivacyPairDataset needs privacy-labelled images')
        idx = torch.as_tensor(sample.gt_label).long().flatten().tolist()
        if any(not 0 <= k < self.num_attributes for k in idx):
            raise ValueError(f'privacy sample {j}: label indices {idx} out of range for '
                             f'{self.num_attributes} privacy attributes')
        return torch.from_numpy(multi_hot(idx, self.num_attributes))


@DATA_SAMPLERS.register_module()
class EpochPairingSampler(DefaultSampler):
    """mmengine's ``DefaultSampler`` that tells the dataset the epoch.

    Yields ``epoch * len(dataset) + i`` for each index ``i`` that
    ``DefaultSampler`` would yield, so that :class:`ActionPrivacyPairDataset`
    draws a new pairing every epoch, also inside persistent dataloader workers
    (which never see a ``set_epoch`` on their copy of the dataset). mmengine's
    loops call :meth:`set_epoch` (``DistSamplerSeedHook``, or the iteration
    loop on each pass over the data).
    """

    def __iter__(self) -> Iterator[int]:
        offset = self.epoch * len(self.dataset)
        return (offset + i for i in super().__iter__())

