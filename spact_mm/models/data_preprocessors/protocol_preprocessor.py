"""f_A in front of the fresh models of the evaluation protocols (Sec. 4)."""
from typing import Optional

from spact_mm.registry import MODELS

from .anonymizer_preprocessor import AnonymizerDataPreprocessor


@MODELS.register_module()
class ProtocolAnonymizerPreprocessor(AnonymizerDataPreprocessor):
    """``AnonymizerDataPreprocessor`` that also accepts ``batch_augments``.

    mmpretrain's ``ImageClassifier`` adds ``batch_augments`` (its train-time
    mixup/cutmix) to any data preprocessor config it builds; it is handed to
    the wrapped preprocessor (where ``AnonymizerDataPreprocessor`` refuses
    anything but ``None``).
    """

    def __init__(self, *args, batch_augments: Optional[dict] = None, **kwargs) -> None:
        if batch_augments is not None:
            kwargs['preprocessor'] = dict(kwargs['preprocessor'], batch_augments=batch_augments)
        super().__init__(*args, **kwargs)
