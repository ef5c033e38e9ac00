"""Datasets: the synthetic privacy-action benchmark, real ones, action+privacy pairing."""
from .bad_input import BadInputError, RobustPrivacyImageDataset, RobustVideoDataset  # noqa: F401,E501
from .hmdb51 import HMDB51_CLASSES, HMDB51Dataset  # noqa: F401
from .hvu import HVUDataset, PHVUDataset  # noqa: F401
from .image_loading import BadImageError, LoadPrivacyImage  # noqa: F401
from .pa_hmdb import PA_HMDB_ATTRIBUTES, PAHMDBDataset  # noqa: F401
from .paired_dataset import ActionPrivacyPairDataset, EpochPairingSampler, pair_index  # noqa: F401
from .privacy_datasets import MultiLabelSubsetDataset, PrivacyVideoDataset  # noqa: F401
from .transforms import ClipToImage, ObfuscatePersons, PackActionPrivacyInputs  # noqa: F401
from .ucf101 import UCF101Dataset  # noqa: F401
from .vispr import PA_HMDB_VISPR_GROUPS, VISPR1_ATTRIBUTES, VISPR2_ATTRIBUTES, VISPRDataset  # noqa: F401
from .vp_privacy_labels import RestrictedNumpyUnpickler, load_vp_privacy_labels  # noqa: F401
