"""kxsj: a static site generator for math-heavy Chinese blog archives.

The build is one pipeline: load (``kxsj.load``) -> enrich (``kxsj.enrich``)
-> render (``kxsj.render``) -> write (``kxsj.write``).  Each stage takes and
returns plain data; ``kxsj.build`` wires them together for the CLI and the
dev server alike.
"""

__version__ = "0.1.0"
