"""pytest plugin for refactoring the differential suite: writes every example hypothesis feeds each test
(fixture arguments left out) to $SARDINE_DIFF_SEQLOG, one line per example.  Run it before and after a
change and compare the files: identical files mean the same sequences were compared.

    PYTHONPATH=tests/diff SARDINE_DIFF_SEQLOG=/tmp/before.txt python3 -m pytest -q -p no:cacheprovider -p seqlog tests/diff

The wrapper carries functools.wraps, so hypothesis derives the same derandomized seed as without it (the
seed comes from the test function's text and signature; any other wrapper would change every sequence).
"""
import functools
import os

FIXTURES = {"sides", "pairs", "sardine", "oracle"}


def _logged(inner, nodeid, out):
    @functools.wraps(inner)
    def logged(*args, **kwargs):
        out.write(f"{nodeid} {sorted((k, v) for k, v in kwargs.items() if k not in FIXTURES)!r}\n")
        out.flush()
        return inner(*args, **kwargs)
    return logged


def pytest_collection_modifyitems(items):
    path = os.environ.get("SARDINE_DIFF_SEQLOG")
    if not path:
        return
    out = open(path, "w")
    for item in items:
        handle = getattr(getattr(item, "obj", None), "hypothesis", None)
        if handle is not None:
            handle.inner_test = _logged(handle.inner_test, item.nodeid, out)
