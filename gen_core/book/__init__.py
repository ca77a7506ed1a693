"""The book: execute the notebooks with papermill and build the Jupyter Book (`make report`).

    layout.py   paths, the chapter list (_toc.yml), the smoke stage, executing a notebook, building the book
    params.py   a notebook's parameters: -p/PARAMS values, its parameters cell, their checks
    stamps.py   fingerprints: when a notebook is out of date (torch-free)
    cli.py      the commands (profile, prepare, train, notebook, finish, build, report) and `main`

`python -m gen_core.book --help` describes the commands and where each profile's pages go.
"""
from .cli import main
# read-only copies for importers; a test that moves the notebooks patches layout.NOTEBOOK_DIR
from .layout import CHAPTERS, NOTEBOOK_DIR, NOTEBOOKS, ROOT, BookError

__all__ = ["main", "CHAPTERS", "NOTEBOOK_DIR", "NOTEBOOKS", "ROOT", "BookError"]
