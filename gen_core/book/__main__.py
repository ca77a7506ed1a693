"""`python -m gen_core.book ...`: see gen_core/book/cli.py."""
import sys

from .cli import main

sys.exit(main())
