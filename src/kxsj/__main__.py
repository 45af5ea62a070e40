"""``python -m kxsj`` is the same as the ``kxsj`` command."""

from kxsj.cli import run

run()
