"""Evidence beside the detector's verdict: where a file came from and who signed it.

- ``unswap.evidence.hashing``: SHA-256 and PDQ perceptual hashes, and the hash-file format.
- ``unswap.evidence.match``: finding a suspect among source media, and what differs.
- ``unswap.evidence.provenance``: C2PA Content Credentials, read and checked offline.
"""
