"""Models: f_A, its preprocessor, the privacy branch, recognizers, losses."""
from .anonymizers import *  # noqa: F401,F403
from .data_preprocessors import *  # noqa: F401,F403
from .heads import *  # noqa: F401,F403
from .layers import *  # noqa: F401,F403
from .losses import *  # noqa: F401,F403
from .recognizers import *  # noqa: F401,F403
from .reconstructors import *  # noqa: F401,F403
