"""High-level APIs: the library functions behind ``tools/`` (train, test, ...)."""
from .inference import (
    FrameStream,
    VideoReadError,
    anonymize_frames,
    anonymize_stream,
    anonymize_video,
    anonymize_videos,
    init_anonymizer,
    recognize,
    trained_size_of,
    video_anonymization_grid,
    working_size,
)
from .test import TestArgs, build_test_cfg, test
from .train import TrainArgs, build_train_cfg, train

__all__ = [
    'TrainArgs', 'build_train_cfg', 'train', 'TestArgs', 'build_test_cfg', 'test'
]
__all__ += [
    'init_anonymizer', 'anonymize_frames', 'anonymize_video', 'anonymize_videos', 'VideoReadError',
    'video_anonymization_grid', 'recognize',
    'FrameStream', 'anonymize_stream', 'trained_size_of', 'working_size'
]

#: Command-line entry points that lived here and are now the CLIs' own ``parse_args``/``main``.
_MOVED_TO_TOOLS = {
    'parse_train_args': 'tools/train.py (parse_args)',
    'parse_test_args': 'tools/test.py (parse_args)',
    'anonymize_video_main': 'tools/anonymize_video.py (main)',
    'visualize_anonymizer_main': 'tools/analysis_tools/visualize_anonymizer.py (main)',
}


def __getattr__(name: str):
    """Name the tool a moved command-line entry point went to (PEP 562)."""
    if name in _MOVED_TO_TOOLS:
        raise AttributeError(f'spact_mm.apis.{name} moved to {_MOVED_TO_TOOLS[name]}: the '
                             'library takes TrainArgs/TestArgs or plain arguments, the CLIs '
                             'in tools/ parse the command line')
    raise AttributeError(f'module {__name__!r} has no attribute {name!r}')
