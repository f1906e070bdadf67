"""Face stages: detect -> track -> align (crop)."""
