"""A deterministic synthetic privacy-action video dataset.

Every clip shows one drawn person performing one action in one scene:

* the **action** is a motion pattern only (where the limbs and the body go over
  time), drawn from one of two disjoint sets, :data:`ACTION_SET_A` and
  :data:`ACTION_SET_B` (the novel-action protocol trains on one set and
  transfers to the other);
* the **privacy** attributes are appearance only, multi-label and binary, in
  two disjoint groups: :data:`PERSON_ATTRIBUTES` (what the person looks like)
  and :data:`SCENE_ATTRIBUTES` (where the person is), concatenated in
  :data:`PRIVACY_ATTRIBUTES` (the novel-privacy protocol trains attackers on one
  group and tests the other). Scene attributes are drawn independently per clip
  with ``p = 0.5``;
* the person is one of a fixed pool of recurring **identities**
  (:class:`Identity`, :func:`sample_identities`): a fixed appearance (the
  person attributes, the identity's own colours, and identity-only features
  that are not labelled: hair colour and length, build, glasses, moustache,
  chest stripe, shoe colour). Each person attribute is present in half the identities; every
  identity recurs across splits, action sets, actions and scenes, and in the
  privacy image set, so re-identification is a real attack.

Appearance never depends on the action and the action never depends on
appearance, so a model can only solve the action task from motion and the
privacy task from static, spatial content: the split SPAct exploits.

The pieces live in two modules: :mod:`.specs` (the labels, the identity pool and
the sampling of a clip's specification) and :mod:`.drawing` (the pose over time,
the person and the scene drawn with ``cv2`` primitives, hand-written because no
library generates videos with controlled, independent action and privacy labels,
and :func:`write_video`). This module writes the dataset.

The layout on disk and the formats of the annotation files are documented in
``tools/data/synthetic/README.md``; :func:`generate_synthetic_dataset` is the
entry point, :func:`sample_identities`, :func:`sample_clip_spec` and
:func:`render_clip` are the pieces it is made of (useful for tests and for
rendering a background-only clip).
"""
import json
import os
import os.path as osp
import shutil
import tempfile
import time
from typing import Dict, Optional

import cv2
import numpy as np

from .drawing import render_clip, render_frame, write_video
from .specs import (
    _CLIP_JITTER,  # noqa: F401  (the per-clip colour jitter; tests bound by it)
    _STREAM_IMAGES,
    _STREAM_VIDEOS,
    ACTION_SET_A,
    ACTION_SET_B,
    ACTION_SETS,
    FORMAT_VERSION,
    IMAGES_PER_VIDEO,
    NUM_IDENTITIES,
    PERSON_ATTRIBUTES,
    PRIVACY_ATTRIBUTES,
    SCENE_ATTRIBUTES,
    SPLITS,
    VIDEO_FOURCC,
    ClipSpec,
    Identity,
    _identity_sequence,
    sample_clip_spec,
    sample_identities,
)

__all__ = [
    'ACTION_SET_A', 'ACTION_SET_B', 'ACTION_SETS', 'PERSON_ATTRIBUTES', 'SCENE_ATTRIBUTES',
    'PRIVACY_ATTRIBUTES', 'ClipSpec', 'Identity', 'sample_identities', 'sample_clip_spec',
    'render_frame', 'render_clip', 'write_video', 'generate_synthetic_dataset'
]


# ----------------------------------------------------------------------------
# Dataset generation
# ----------------------------------------------------------------------------
def _write_json(path: str, obj: dict) -> None:
    """Write JSON deterministically, one ``data_list`` entry per line."""
    if 'data_list' in obj:
        entries = ',\n'.join(json.dumps(d) for d in obj['data_list'])
        text = (f'{{"metainfo": {json.dumps(obj["metainfo"])},\n'
                f'"data_list": [\n{entries}\n]}}\n')
    else:
        text = json.dumps(obj, indent=2) + '\n'
    with open(path, 'w', encoding='utf-8') as f:
        f.write(text)


def _privacy_metainfo(num_identities: int) -> dict:
    return dict(classes=list(PRIVACY_ATTRIBUTES), person_attributes=list(PERSON_ATTRIBUTES),
                scene_attributes=list(SCENE_ATTRIBUTES), num_identities=num_identities)


def _annotation_paths() -> Dict[str, str]:
    paths = {}
    for split in SPLITS:
        for key in ACTION_SETS:
            paths[f'actions_{key}_{split}'] = f'annotations/actions_{key}_{split}.txt'
            paths[f'privacy_videos_{key}_{split}'] = \
                f'annotations/privacy_videos_{key}_{split}.json'
        paths[f'privacy_images_{split}'] = f'annotations/privacy_images_{split}.json'
    return paths


def _generate_into(out: str, params: dict) -> dict:
    """Write the whole dataset under ``out``; returns the content of ``meta.json``."""
    from mmengine.utils import ProgressBar  # lazy: keeps the module numpy + cv2 only

    seed, n_frames, size = params['seed'], params['num_frames'], params['size']
    per_split = {'train': params['videos_per_class'], 'val': params['val_videos_per_class']}
    n_videos = {f'{k}_{sp}': per_split[sp] * len(ACTION_SETS[k])
                for k in ACTION_SETS for sp in SPLITS}
    n_images = {sp: IMAGES_PER_VIDEO * sum(n_videos[f'{k}_{sp}'] for k in ACTION_SETS)
                for sp in SPLITS}
    os.makedirs(osp.join(out, 'annotations'))
    bar = ProgressBar(sum(n_videos.values()) + sum(n_images.values()))
    n_ids = params['num_identities']
    identities = sample_identities(seed, n_ids)
    n_scene = len(SCENE_ATTRIBUTES)

    def clip_spec(rng: np.random.Generator, action: str, identity: Identity) -> ClipSpec:
        # the person attributes are the identity's; the scene is drawn per clip
        person = [identity.attributes[n] for n in PERSON_ATTRIBUTES]
        scene = list(rng.random(n_scene) < 0.5)
        return sample_clip_spec(rng, action, person + scene, identity)

    for key, actions in ACTION_SETS.items():
        for split_id, split in enumerate(SPLITS):
            rng = np.random.default_rng([seed, _STREAM_VIDEOS[key], split_id])
            labels = rng.permutation(np.repeat(np.arange(len(actions)), per_split[split]))
            # identities, class by class, from consecutive permutations of the pool:
            # each identity does as many different actions as the counts allow
            ids = np.empty(len(labels), np.int64)
            ids[np.argsort(labels, kind='stable')] = _identity_sequence(rng, len(labels), n_ids)
            rel_dir = f'videos/{key}/{split}'
            os.makedirs(osp.join(out, rel_dir))
            lines, data_list = [], []
            for idx, (label, ident) in enumerate(zip(labels, ids)):
                spec = clip_spec(rng, actions[int(label)], identities[int(ident)])
                frames, boxes = render_clip(spec, n_frames, size)
                rel = f'{rel_dir}/{key}_{split}_{idx:05d}.mp4'
                write_video(osp.join(out, rel), frames, params['fps'])
                lines.append(f'{rel} {int(label)}\n')
                data_list.append(dict(filename=rel, label=int(label), gt_label=spec.gt_label,
                                      person_boxes=boxes, identity=spec.identity))
                bar.update()
            with open(osp.join(out, f'annotations/actions_{key}_{split}.txt'), 'w') as f:
                f.writelines(lines)
            _write_json(osp.join(out, f'annotations/privacy_videos_{key}_{split}.json'),
                        dict(metainfo=dict(_privacy_metainfo(n_ids), action_classes=list(actions)),
                             data_list=data_list))

    # The privacy image set: one frame (random time) of each of its own clips,
    # with a random action of either set; no image comes from a dataset video,
    # but the persons are the same identities.
    all_actions = ACTION_SET_A + ACTION_SET_B
    for split_id, split in enumerate(SPLITS):
        rng = np.random.default_rng([seed, _STREAM_IMAGES, split_id])
        os.makedirs(osp.join(out, 'images', split))
        ids = _identity_sequence(rng, n_images[split], n_ids)
        data_list = []
        for idx, ident in enumerate(ids):
            action = all_actions[int(rng.integers(len(all_actions)))]
            spec = clip_spec(rng, action, identities[int(ident)])
            frame, box = render_frame(spec, int(rng.integers(n_frames)), n_frames, size)
            rel = f'images/{split}/{split}_{idx:05d}.png'
            cv2.imwrite(osp.join(out, rel), np.ascontiguousarray(frame[..., ::-1]))
            data_list.append(dict(img_path=rel, gt_label=spec.gt_label, person_box=box,
                                  identity=spec.identity))
            bar.update()
        _write_json(osp.join(out, f'annotations/privacy_images_{split}.json'),
                    dict(metainfo=_privacy_metainfo(n_ids), data_list=data_list))
    print()

    meta = dict(
        format_version=FORMAT_VERSION,
        params=params,
        action_sets={k: list(v) for k, v in ACTION_SETS.items()},
        person_attributes=list(PERSON_ATTRIBUTES),
        scene_attributes=list(SCENE_ATTRIBUTES),
        privacy_attributes=list(PRIVACY_ATTRIBUTES),
        num_identities=n_ids,
        identities=[identity.describe() for identity in identities],
        counts=dict(videos=n_videos, images=n_images),
        annotations=_annotation_paths(),
        box_format='[x1, y1, x2, y2] in pixels, x2/y2 exclusive',
    )
    _write_json(osp.join(out, 'meta.json'), meta)  # written last: marks a complete dataset
    return meta


def _load_meta(root: str) -> Optional[dict]:
    try:
        with open(osp.join(root, 'meta.json'), encoding='utf-8') as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def generate_synthetic_dataset(root: str, seed: int = 0, videos_per_class: int = 24,
                               val_videos_per_class: int = 8, num_frames: int = 16,
                               size: int = 64, fps: int = 8, overwrite: bool = False,
                               num_identities: int = NUM_IDENTITIES) -> dict:
    """Generate the synthetic privacy-action dataset under ``root`` (idempotent).

    Same arguments give byte-identical annotation files and identical decoded
    frames. If ``root/meta.json`` records the same parameters (and format
    version), nothing is written. Otherwise the dataset is written into a
    temporary sibling directory that replaces ``root`` only once complete, so
    a half-written dataset never sits at ``root``.

    Args:
        root (str): Output directory. It must not exist, be empty, or hold a
            dataset generated by this function (it is then replaced).
        seed (int): Seed of every random stream. Defaults to 0.
        videos_per_class (int): Training videos per action class and set.
            Defaults to 24.
        val_videos_per_class (int): Validation videos per class and set.
            Defaults to 8.
        num_frames (int): Frames per video. Defaults to 16.
        size (int): Frame height and width in pixels. Defaults to 64.
        fps (int): Frame rate written in the mp4 files. Defaults to 8.
        overwrite (bool): Regenerate even when ``root`` already holds the same
            dataset. Defaults to False.
        num_identities (int): Size of the pool of recurring identities
            (:func:`sample_identities`). Every identity appears in every
            split of both action sets when ``val_videos_per_class * 4 >=
            num_identities``; with fewer clips, a split holds as many
            different identities as it has clips. Defaults to 24.

    Returns:
        dict: The content of ``meta.json`` (``params``, ``counts``,
        ``annotations`` paths relative to ``root``, class and attribute lists,
        ``num_identities`` and ``identities``: one :meth:`Identity.describe`
        per identity) plus ``root`` (absolute), ``generated`` (False when reused) and
        ``seconds`` (time spent).
    """
    if num_frames < 2 or size < 16 or fps < 1:
        raise ValueError('need num_frames >= 2, size >= 16 and fps >= 1')
    if videos_per_class < 1 or val_videos_per_class < 1 or seed < 0:
        raise ValueError('need videos_per_class >= 1, val_videos_per_class >= 1, seed >= 0')
    if num_identities < 1:
        raise ValueError(f'need num_identities >= 1, got {num_identities}')
    params = dict(seed=int(seed), videos_per_class=int(videos_per_class),
                  val_videos_per_class=int(val_videos_per_class), num_frames=int(num_frames),
                  size=int(size), fps=int(fps), images_per_video=IMAGES_PER_VIDEO,
                  fourcc=VIDEO_FOURCC, num_identities=int(num_identities))
    root = osp.abspath(root)
    start = time.time()
    meta = _load_meta(root)
    if (not overwrite and meta is not None and meta.get('params') == params
            and meta.get('format_version') == FORMAT_VERSION):
        return dict(meta, root=root, generated=False, seconds=time.time() - start)
    if osp.exists(root) and (not osp.isdir(root) or (os.listdir(root) and meta is None)):
        raise FileExistsError(f'{root} exists and is not a synthetic dataset; not replacing it')

    parent = osp.dirname(root)
    os.makedirs(parent, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix=f'.{osp.basename(root)}.tmp-', dir=parent)
    old = None
    try:
        os.chmod(tmp, 0o755)
        meta = _generate_into(tmp, params)
        done = _load_meta(root)
        if done is not None and done.get('params') == params and not overwrite:
            # another process finished the same dataset meanwhile: keep its copy
            shutil.rmtree(tmp, ignore_errors=True)
            return dict(done, root=root, generated=False, seconds=time.time() - start)
        if osp.exists(root):
            old = tempfile.mkdtemp(prefix=f'.{osp.basename(root)}.old-', dir=parent)
            os.rename(root, osp.join(old, 'data'))
        os.rename(tmp, root)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        if old is not None and not osp.exists(root):  # put the previous dataset back
            os.rename(osp.join(old, 'data'), root)
        raise
    finally:
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    return dict(meta, root=root, generated=True, seconds=time.time() - start)
