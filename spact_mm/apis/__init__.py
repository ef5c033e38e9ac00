"""High-level APIs: the library functions behind ``tools/`` (train, test, ...)."""
from .inference import (
    FrameStream,
    VideoReadError,
    anonymize_frames,
    anonymize_stream,
    anonymize_video,
    anonymize_video_main,
    anonymize_videos,
    init_anonymizer,
    recognize,
    trained_size_of,
    video_anonymization_grid,
    visualize_anonymizer_main,
    working_size,
)
from .test import build_test_cfg, parse_test_args, test
from .train import build_train_cfg, parse_train_args, train

__all__ = [
    'parse_train_args', 'build_train_cfg', 'train', 'parse_test_args', 'build_test_cfg', 'test'
]
__all__ += [
    'init_anonymizer', 'anonymize_frames', 'anonymize_video', 'anonymize_videos', 'VideoReadError',
    'video_anonymization_grid', 'anonymize_video_main', 'visualize_anonymizer_main', 'recognize',
    'FrameStream', 'anonymize_stream', 'trained_size_of', 'working_size'
]
