"""Stage-1 model that initialises f_A."""
from .anonymizer_reconstructor import AnonymizerReconstructor

__all__ = ['AnonymizerReconstructor']
