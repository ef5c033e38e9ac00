"""Data preprocessors."""
from .anonymizer_preprocessor import AnonymizerDataPreprocessor
from .face_preprocessor import FaceAnonymizerDataPreprocessor  # noqa: F401
from .minimax_preprocessor import MinimaxAnonymizerDataPreprocessor
from .protocol_preprocessor import ProtocolAnonymizerPreprocessor
from .ssl_view_augmentation import SSLViewAugmentation

__all__ = ['AnonymizerDataPreprocessor', 'MinimaxAnonymizerDataPreprocessor',
           'SSLViewAugmentation', 'ProtocolAnonymizerPreprocessor']
