"""VISPR privacy-attribute images (Sec. 5.1; the privacy side of Tables 1-6, Fig. 4).

Format source. VISPR (Orekondy et al., ICCV 2017, "Towards a Visual Privacy
Advisor", https://tribhuvanesh.github.io/vpa/) ships one JSON file per image and
tab-separated attribute table; we follow the reading code of its authors
(``tribhuvanesh/vpa``: ``vispr/tools/vpa_caffe_layers/pap_data_layer.py``,
``vispr/tools/dataset/generate_dataset_stats.py``) and of Wu et al. [41]
(``VITA-Group/Privacy-AdversarialLearning``: ``data-preparation/VISPR``):

* ``annotations/{train,val,test}2017/<id>.json``:
  ``{"id": "2017_10001018", "image_path": "images/train2017/2017_10001018.jpg",
  "labels": ["a4_gender", "a17_color", ...]}``; ``image_path`` is relative to the
  dataset root; an image with no privacy content is labelled ``a0_safe``;
* ``{train,val,test}2017.txt`` (the annotation lists used by both codebases):
  one annotation path per line, relative to the dataset root
  (``annotations/train2017/2017_10001018.json``);
* ``attributes.tsv``: a header with (at least) ``idx``, ``attribute_id`` and
  ``description`` columns (Wu et al.'s copy adds ``group``), one row per attribute;
  rows with an empty ``idx`` are skipped, as both codebases do.

Attribute subsets (the classes of a :class:`VISPRDataset`):

* :data:`VISPR_ATTRIBUTES`: the 68 attribute ids (67 privacy attributes plus
  ``a0_safe``), as listed in public VISPR loaders; the numbering has gaps.
* :data:`VISPR1_ATTRIBUTES`: the 7 attributes of Wu et al. [41] used for
  UCF101-VISPR (SPAct's VISPR-1): gender, complete face, partial face, semi-nudity,
  skin colour, personal relationship, social circle (``attributes_pa_hmdb51.csv`` in
  ``VITA-Group/Privacy-AdversarialLearning``; the same seven ids are named as "the
  attributes of previous works" elsewhere).
* :data:`PA_HMDB_VISPR_GROUPS`: Wu et al. merge those 7 into PA-HMDB's 5 labels
  (face complete/partial -> face, personal relationship/social circle ->
  relationship), which is what the HMDB51-VISPR -> PA-HMDB protocol trains on;
  pass it as ``attributes`` to get 5 classes aligned with :class:`PAHMDBDataset`.
* :data:`VISPR2_ATTRIBUTES`: the disjoint set of the novel-privacy protocol
  (Sec. 4.3, Table 2 "VISPR1->VISPR2"). SPAct lists it in its Supp. Table 1,
  which we could not read; the main text confirms only that Tattoo is in VISPR-2.
  The default here (hair colour, race, sports, approximate age, approximate
  weight, landmark, tattoo) is our recollection of that table, **not verified**:
  it is an argument, check it against the supplement before reporting numbers.

One deviation from Wu et al.'s converter: their ``labels_to_vec`` sets class 0
when an image has none of the chosen attributes; we keep an all-zero target
(``filter_empty=True`` drops such images instead).

Bad input follows the policy of :mod:`spact_mm.datasets.bad_input` (a named
error by default, a counted skip with ``on_bad_input='skip'``), image by image:
a malformed list line, a missing or malformed annotation JSON, a label that is
not a known attribute id (``'beard'``, ``'1'``; ints such as 99 or -1 are not
ids either), a missing or empty image, an image that does not decode. A
malformed ``attributes.tsv`` is always an error.
"""
import csv
import glob
import io
import os.path as osp
from typing import Dict, List, Mapping, Optional, Sequence, Tuple, Union

from spact_mm.registry import DATASETS

from .annotation_io import AnnotationError, load_json, read_lines, read_text
from .bad_input import BadAnnotationError, RobustPrivacyImageDataset

__all__ = [
    'VISPR_ATTRIBUTES', 'VISPR1_ATTRIBUTES', 'VISPR2_ATTRIBUTES', 'PA_HMDB_VISPR_GROUPS',
    'VISPRDataset', 'parse_vispr_attribute_table', 'parse_vispr_annotation',
    'resolve_attribute_classes'
]

#: All 68 VISPR attribute ids, ordered by their number.
VISPR_ATTRIBUTES = (
    'a0_safe', 'a1_age_approx', 'a2_weight_approx', 'a3_height_approx', 'a4_gender',
    'a5_eye_color', 'a6_hair_color', 'a7_fingerprint', 'a8_signature', 'a9_face_complete',
    'a10_face_partial', 'a11_tattoo', 'a12_semi_nudity', 'a13_full_nudity', 'a16_race',
    'a17_color', 'a18_ethnic_clothing', 'a19_name_full', 'a20_name_first', 'a21_name_last',
    'a23_birth_city', 'a24_birth_date', 'a25_nationality', 'a26_handwriting',
    'a27_marital_status', 'a29_ausweis', 'a30_credit_card', 'a31_passport',
    'a32_drivers_license', 'a33_student_id', 'a35_mail', 'a37_receipt', 'a38_ticket',
    'a39_disability_physical', 'a41_injury', 'a43_medicine', 'a46_occupation',
    'a48_occassion_work', 'a49_phone', 'a55_religion', 'a56_sexual_orientation', 'a57_culture',
    'a58_hobbies', 'a59_sports', 'a60_occassion_personal', 'a61_opinion_general',
    'a62_opinion_political', 'a64_rel_personal', 'a65_rel_social', 'a66_rel_professional',
    'a67_rel_competitors', 'a68_rel_spectators', 'a69_rel_views', 'a70_education_history',
    'a73_landmark', 'a74_address_current_complete', 'a75_address_current_partial',
    'a78_address_home_complete', 'a79_address_home_partial', 'a82_date_time', 'a85_username',
    'a90_email', 'a92_email_content', 'a97_online_conversation', 'a99_legal_involvement',
    'a102_vehicle_ownership', 'a103_license_plate_complete', 'a104_license_plate_partial')

#: SPAct's VISPR-1: the 7 attributes of Wu et al. [41].
VISPR1_ATTRIBUTES = ('a17_color', 'a4_gender', 'a9_face_complete', 'a10_face_partial',
                     'a12_semi_nudity', 'a64_rel_personal', 'a65_rel_social')

#: SPAct's VISPR-2 (novel privacy attributes). UNVERIFIED default, see module docstring.
VISPR2_ATTRIBUTES = ('a6_hair_color', 'a16_race', 'a59_sports', 'a1_age_approx',
                     'a2_weight_approx', 'a73_landmark', 'a11_tattoo')

#: Wu et al.'s grouping of VISPR-1 into PA-HMDB's five attributes (same order as
#: :data:`spact_mm.datasets.pa_hmdb.PA_HMDB_ATTRIBUTES`).
PA_HMDB_VISPR_GROUPS = {
    'skin_color': ('a17_color', ),
    'face': ('a9_face_complete', 'a10_face_partial'),
    'gender': ('a4_gender', ),
    'nudity': ('a12_semi_nudity', ),
    'relationship': ('a64_rel_personal', 'a65_rel_social'),
}

AttributeSpec = Union[Sequence[Union[str, Sequence[str]]], Mapping[str, Sequence[str]]]


def parse_vispr_attribute_table(path: str) -> Dict[str, str]:
    """Parse ``attributes.tsv`` into ``{attribute_id: description}`` (file order).

    Raises:
        AnnotationError: the header lacks ``idx``/``attribute_id``, or a row has the
            wrong number of columns, a non-numeric ``idx`` or a repeated id.
    """
    text = read_text(path)
    rows = list(csv.reader(io.StringIO(text), delimiter='\t'))
    if not rows or 'attribute_id' not in rows[0] or 'idx' not in rows[0]:
        raise AnnotationError(path, 'expected a tab-separated header with "idx" and '
                              '"attribute_id" columns', 1)
    header = rows[0]
    table: Dict[str, str] = {}
    for lineno, row in enumerate(rows[1:], 2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            raise AnnotationError(
                path, f'expected {len(header)} tab-separated columns, got {len(row)}', lineno)
        rec = dict(zip(header, row))
        if rec['idx'] == '':
            continue
        if not rec['idx'].strip().isdigit():
            raise AnnotationError(path, f'idx {rec["idx"]!r} is not a number', lineno)
        attr = rec['attribute_id'].strip()
        if attr in table:
            raise AnnotationError(path, f'attribute {attr!r} is listed twice', lineno)
        table[attr] = rec.get('description', '')
    return table


def resolve_attribute_classes(
        attributes: AttributeSpec,
        known: Optional[Sequence[str]] = VISPR_ATTRIBUTES) -> Tuple[List[str], List[Tuple[str]]]:
    """Turn an attribute spec into ``(class names, VISPR ids per class)``.

    ``attributes`` is a sequence whose items are an id (one class) or a sequence of
    ids (one class, present if any of them is), or a mapping ``{class name: ids}``.
    Every id must be in ``known`` (a typo would otherwise silently give a class
    that is never present).
    """
    if isinstance(attributes, str):
        raise TypeError('attributes must be a sequence or mapping of VISPR ids, not a str')
    if isinstance(attributes, Mapping):
        names = [str(k) for k in attributes]
        groups = [(v, ) if isinstance(v, str) else tuple(v) for v in attributes.values()]
    else:
        groups = [(a, ) if isinstance(a, str) else tuple(a) for a in attributes]
        names = ['+'.join(g) for g in groups]
    if not groups or any(not g for g in groups):
        raise ValueError('attributes must name at least one VISPR id per class')
    if len(set(names)) != len(names):
        raise ValueError(f'duplicate class in attributes: {names}')
    if known is not None:
        unknown = sorted({a for g in groups for a in g} - set(known))
        if unknown:
            raise ValueError(f'unknown VISPR attribute ids: {unknown}')
    return names, groups


def parse_vispr_annotation(path: str) -> dict:
    """Load one VISPR annotation JSON and check its fields.

    Returns:
        dict: ``image_path`` (str, relative to the dataset root), ``labels``
        (list of attribute ids) and ``id`` (str or None).

    Raises:
        AnnotationError: not a JSON object, or ``image_path``/``labels`` missing
            or of the wrong type (JSON syntax errors name the line).
    """
    anno, _ = load_json(path)
    if not isinstance(anno, dict):
        raise AnnotationError(path, 'expected a JSON object with "image_path" and "labels"')
    image_path, labels = anno.get('image_path'), anno.get('labels')
    if not isinstance(image_path, str) or not image_path:
        raise AnnotationError(path, '"image_path" must be a non-empty string')
    if not isinstance(labels, list) or not all(isinstance(x, str) for x in labels):
        raise AnnotationError(path, '"labels" must be a list of attribute ids (strings)')
    return dict(image_path=image_path, labels=labels, id=anno.get('id'))


@DATASETS.register_module()
class VISPRDataset(RobustPrivacyImageDataset):
    """VISPR images with multi-hot labels over a chosen attribute subset.

    Builds on mmpretrain's ``MultiLabelDataset`` (through
    :class:`~spact_mm.datasets.RobustPrivacyImageDataset`, whose bad-input
    policy applies image by image): each entry has ``img_path`` and
    ``gt_label`` (indices of the present classes), so mmpretrain pipelines,
    classifiers and metrics (``MultiLabelMetric``, ``AveragePrecision``) apply
    unchanged; ``metainfo['classes']`` holds the class names and
    ``metainfo['vispr_ids']`` the VISPR ids behind each class.

    Args:
        ann_file (str): An annotation list (``train2017.txt``, one JSON path per
            line) or a folder of annotation JSON files (``annotations/train2017``).
            List entries and ``image_path`` values are relative to ``data_root``;
            without it, to the folder holding the list file (or, for a folder of
            JSON files ``<root>/annotations/<split>``, to ``<root>``).
        attributes: The classes (see :func:`resolve_attribute_classes`).
            Defaults to :data:`VISPR1_ATTRIBUTES`.
        class_names (Sequence[str], optional): Names of the classes (default: the
            id, or ids joined by ``+`` for a group, or the mapping's keys). Configs
            give groups as a tuple of tuples plus ``class_names``, because
            mmengine cannot merge a dict over a base config's tuple.
        attribute_file (str, optional): ``attributes.tsv``; if given, ``attributes``
            are checked against it instead of :data:`VISPR_ATTRIBUTES`.
        filter_empty (bool): Drop images with none of the classes. Defaults to False.
        on_bad_input (str): ``'error'`` (default) or ``'skip'``.
        check_files (bool): Check at load time that local images exist and are
            not empty.
        **kwargs: ``MultiLabelDataset`` arguments (``data_root``, ``pipeline``,
            ``data_prefix`` (the folder ``image_path`` is relative to; defaults to
            the dataset root), ...).
    """

    def __init__(self,
                 ann_file: str,
                 attributes: AttributeSpec = VISPR1_ATTRIBUTES,
                 class_names: Optional[Sequence[str]] = None,
                 attribute_file: Optional[str] = None,
                 filter_empty: bool = False,
                 metainfo: Optional[dict] = None,
                 on_bad_input: str = 'error',
                 check_files: bool = True,
                 **kwargs) -> None:
        data_root = kwargs.get('data_root') or ''
        if attribute_file is not None and data_root and not osp.isabs(attribute_file):
            attribute_file = osp.join(data_root, attribute_file)
        self.attribute_file = attribute_file
        try:
            known = (list(parse_vispr_attribute_table(attribute_file))
                     if attribute_file is not None else VISPR_ATTRIBUTES)
        except AnnotationError as e:
            raise BadAnnotationError(e.path, e.reason, e.lineno) from e
        self.known_ids = frozenset(known)
        names, self.attribute_groups = resolve_attribute_classes(attributes, known)
        if class_names is not None:
            if len(class_names) != len(names) or len(set(class_names)) != len(names):
                raise ValueError(f'class_names must be {len(names)} distinct names, one per '
                                 f'class of attributes; got {list(class_names)}')
            names = [str(n) for n in class_names]
        self.filter_empty = filter_empty
        metainfo = dict(metainfo or {}, classes=tuple(names),
                        vispr_ids=tuple(self.attribute_groups))
        super().__init__(ann_file, on_bad_input=on_bad_input, check_files=check_files,
                         metainfo=metainfo, **kwargs)

    ann_unit = 'line'

    def _annotation_paths(self) -> List[Tuple[str, str, Optional[int]]]:
        """``(annotation JSON path, source file, line)`` for every image of ``ann_file``."""
        if osp.isdir(self.ann_file):
            return [(p, p, None) for p in sorted(glob.glob(osp.join(self.ann_file, '*.json')))]
        base = self.data_root or osp.dirname(self.ann_file)
        paths = []
        for lineno, line in read_lines(self.ann_file):
            rel = line.strip()
            if len(rel.split()) != 1 or not rel.endswith('.json'):
                self._bad_annotation(AnnotationError(
                    self.ann_file, f'expected one annotation path ending in .json, got {rel!r}',
                    lineno))
                continue
            paths.append((osp.join(base, rel), self.ann_file, lineno))
        return paths

    def _read_annotation(self, path: str, src: str, lineno: Optional[int]) -> Optional[dict]:
        """One image's annotation, checked; ``None`` when it is bad and skipped."""
        try:
            anno = parse_vispr_annotation(path)
        except FileNotFoundError as e:
            err = AnnotationError(src, f'listed annotation file is missing: {path}', lineno)
            err.__cause__ = e
            return self._bad_annotation(err)
        except AnnotationError as e:
            return self._bad_annotation(e)
        unknown = sorted(set(anno['labels']) - self.known_ids)
        if unknown:
            table = self.attribute_file or 'VISPR_ATTRIBUTES'
            return self._bad_annotation(AnnotationError(
                path, f'labels {unknown} are not VISPR attribute ids (of {table})'))
        return anno

    def load_data_list(self) -> List[dict]:
        """Read every listed annotation JSON into ``dict(img_path, gt_label, vispr_id)``."""
        # image_path is relative to the dataset root: the list file's folder, or two
        # levels above a folder of annotations (annotations/<split>/*.json).
        ann_dir = (osp.dirname(osp.dirname(osp.normpath(self.ann_file)))
                   if osp.isdir(self.ann_file) else osp.dirname(self.ann_file))
        img_root = self.data_prefix.get('img_path') or self.data_root or ann_dir
        data_list = []
        with self._annotation_errors():
            for path, src, lineno in self._annotation_paths():
                anno = self._read_annotation(path, src, lineno)
                if anno is None:
                    continue
                present = set(anno['labels'])
                gt_label = [i for i, group in enumerate(self.attribute_groups)
                            if present.intersection(group)]
                if self.filter_empty and not gt_label:
                    continue
                img_path = osp.join(img_root, anno['image_path'])
                where = src if lineno is None else f'{src}:{lineno}'
                if not self._check_local_file(img_path, where, 'image'):
                    continue
                data_list.append(dict(img_path=img_path, gt_label=gt_label,
                                      vispr_id=anno['id'], ann_file=src, ann_line=lineno))
        if not data_list:
            skipped = len(self.skipped_at_load)
            raise BadAnnotationError(
                self.ann_file, 'no images found' + (f' ({skipped} skipped)' if skipped else ''))
        return data_list
