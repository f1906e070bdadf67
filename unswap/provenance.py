"""The former path of ``unswap.evidence.provenance``: the same module object under its old name,
so ``import unswap.provenance`` and its attributes (private ones too) keep working."""

import sys

from unswap.evidence import provenance as _module

sys.modules[__name__] = _module
