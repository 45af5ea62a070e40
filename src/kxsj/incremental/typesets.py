"""An edited post's formulas typeset once: the previous version's, reused when they did not change.

Under ``math: build`` MathJax typesets every formula of a body as it
renders (``kxsj.render.mathbuild``; its cost a formula is in
``benchmarks/README.md``): after an edit of a math-heavy post's prose the
build spent more time typesetting the formulas it had typeset before than
on all the rest.  The store's
``typeset`` namespace keeps, for each post file's body and excerpt, the
SHA-256 of the text last rendered; when that text is now missing from the
HTML cache (it was edited), its old HTML is read back from the ``html``
namespace without being kept, and its typeset formulas go to the renderer
(``reused_typesets``), which takes them for a body whose list of formulas
is the same and typesets any other body in full.

Both namespaces are sealed like every cache (``kxsj.incremental.store``),
and their key names the render settings and MathJax's version, so what
is reused was made by this MathJax with these settings.
"""

from __future__ import annotations

from typing import Iterable, Optional

from kxsj.incremental.keys import make_key
from kxsj.incremental.store import Namespace, Store
from kxsj.model import Post

SHARDS = 16
"""A path and a digest an entry: a few files are plenty."""


def previous_typesets(
    store: Store, html: Namespace, posts: Iterable[Post], missing: set[str], found: dict[str, Optional[str]],
) -> dict[str, list[str]]:
    """``formulas_key -> typeset containers`` of the previous versions of the ``missing`` texts among ``posts``' texts.

    ``found`` keeps each record as this build first read it: a post's texts
    can be asked for twice in a build (again with its own files' context
    line), and the second time must see the previous build's record, not
    the one the first time wrote.

    Also records the digest of each missing text under its file and part,
    for the next build.  Every other text was rendered by an earlier build,
    which recorded it: its entry is only kept (``touch``), so a build after
    one edit reads one shard of this namespace, not all of them.  An entry
    can name an older text than the one now cached (an edit reverted while
    both were cached): that only reuses fewer formulas, as reuse needs the
    same list of formulas (``reused_typesets``).
    """
    last = store.namespace("typeset", make_key("typeset", html.name), shards=SHARDS)
    olds: list[bytes] = []
    for post in posts:
        if not post.source:
            continue
        for part, text in (("body", post.body), ("excerpt", post.excerpt)):
            if not text:
                continue
            name = f"{post.source[0].path}\0{part}"
            if text not in missing:
                last.touch(name)
                continue
            if name not in found:
                found[name] = last.get(name)
            was = found[name]
            if was:
                olds.append(_digest(was))
            last.put(name, html.digest(text).hex())
    return typesets_of(html, olds)


def typesets_of(html: Namespace, digests: Iterable[bytes]) -> dict[str, list[str]]:
    """``formulas_key -> typeset containers`` of the HTML the ``html`` namespace holds for these text digests (read, not kept)."""
    from kxsj.render.mathbuild import typeset_formulas

    found: dict[str, list[str]] = {}
    for digest in digests:
        old = html.peek(digest)
        kept = typeset_formulas(old) if old else None
        if kept is not None:
            found[kept[0]] = kept[1]
    return found


def _digest(hex_digest: str) -> bytes:
    try:
        return bytes.fromhex(hex_digest)
    except ValueError:
        return b""
