"""The former path of ``unswap.evidence.match``: the same module object under its old name,
so ``import unswap.match`` and its attributes (private ones too) keep working."""

import sys

from unswap.evidence import match as _module

sys.modules[__name__] = _module
