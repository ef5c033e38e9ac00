"""High-level APIs: the library functions behind ``tools/`` (train, test, ...)."""
from .test import build_test_cfg, parse_test_args, test
from .train import build_train_cfg, parse_train_args, train

__all__ = [
    'parse_train_args', 'build_train_cfg', 'train', 'parse_test_args', 'build_test_cfg', 'test'
]
