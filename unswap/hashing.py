"""The former path of ``unswap.evidence.hashing``: the same module object under its old name,
so ``import unswap.hashing`` and its attributes (private ones too) keep working."""

import sys

from unswap.evidence import hashing as _module

sys.modules[__name__] = _module
