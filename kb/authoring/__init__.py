"""Tools for people who write fact files: the canonical Turtle form (`kb fmt`, canonical.py) and the
skeleton of a new fact (`kb new`, skeleton.py)."""
