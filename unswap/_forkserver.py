"""Imported by the batch's forkserver alone (its preload list), so that it, and with it
the workers it forks, ends when the batch process does."""

from unswap.lifetime import die_with_parent

die_with_parent()
