"""`python -m kb` runs the same command line as `kb`."""

from .cli import main

main()
