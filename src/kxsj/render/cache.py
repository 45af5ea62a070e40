"""The render cache: body Markdown -> HTML kept on disk between builds.

Rendering Markdown is most of a build's work (Python-Markdown with the math,
code and CJK extensions costs milliseconds a post), and between two builds
almost every body is unchanged.  So each result is stored in the output
folder, under ``OUT/.kxsj-cache/html/<renderer key>/``, and the next build
looks it up by a hash of the Markdown text instead of rendering it again.
The cache lives inside the output, so it travels with it (CI keeps the
output between runs): it is read from the current output and written into
the new one before the swap (``RenderCache.save_into``).

Why a stale entry can never be served:

* The lookup key is the SHA-256 of the *renderer key* and the text.  The
  renderer key (``renderer_key``) hashes kxsj's version, the source code of
  the renderer and every kxsj module it imports (``renderer_sources``), the versions of Python,
  Markdown, pymdown-extensions and Pygments, and any renderer options the
  caller names.  Changing any of them gives other keys (and another folder),
  so old entries are simply never found, and are not carried into the next output.
* Entries live in 256 shard files (by the first byte of their key), each
  written whole to a temporary file and renamed into place, so a crash
  leaves the old shard or the new one, never half of one.  A shard is
  plain records sealed with a keyed MAC (``kxsj.sealed_cache``; the key is
  not in the output): a truncated, edited, forged or moved shard fails the
  check and is ignored (its posts are rendered again and the shard
  rewritten), never half-read, and nothing in it is ever run.
* Drafts are never kept (``leave_out``): a cache holds no text the site
  does not publish.

Beside the HTML, ``OUT/.kxsj-cache/facts/`` keeps each text's *facts*
(``html_facts``: the HTML's SHA-256 and the titles it may cite), so that a
build after one edit can key its pages without reading every body's HTML
(``CachedRenderer``).

The cache only ever saves work; deleting ``.kxsj-cache/`` is always safe.
"""

from __future__ import annotations

import functools
import hashlib
import os
import re
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Callable, Iterable, Mapping, Optional, Union

from kxsj.render.settings import render_settings
from kxsj.sealed_cache import pack_records, seal, unpack_records, unseal
from kxsj.write.output import try_link

CACHE_DIR = ".kxsj-cache"
"""The cache folder inside the site root (git-ignored)."""
_PACKAGE_DIR = Path(__file__).resolve().parents[1]
_LIBRARIES = ("markdown", "pymdown-extensions", "pygments")


def _normalised(name: str) -> str:
    """A distribution's name as its ``.dist-info`` folder spells it (PEP 503, with ``_``)."""
    return re.sub(r"[-_.]+", "_", name).lower()


@functools.lru_cache(maxsize=None)
def _installed() -> dict[str, Optional[str]]:
    """Distributions on ``sys.path``: normalised name -> version, from their ``NAME-VERSION.dist-info`` folders.

    One pass over ``sys.path`` answers every library the cache keys name,
    where ``importlib.metadata`` costs 25 ms to import and 2 ms a name (a
    build after an edit takes 0.75 s).  As there, the first entry on the
    path wins; a name first found as an ``.egg-info`` maps to None, for
    ``importlib.metadata`` to answer.
    """
    found: dict[str, Optional[str]] = {}
    for entry in sys.path:
        try:
            with os.scandir(entry or os.curdir) as entries:
                names = [e.name for e in entries if e.name.endswith((".dist-info", ".egg-info"))]
        except OSError:  # a zip file, a missing folder
            continue
        for folder in names:
            stem, _, kind = folder.rpartition(".")
            name, _, version = stem.partition("-")
            found.setdefault(_normalised(name), version if kind == "dist-info" and version else None)
    return found


@functools.lru_cache(maxsize=None)
def _library_version(name: str) -> str:
    """``name=version`` of an installed distribution, looked up once per process.

    A build asks for the same few libraries in every cache key; the
    libraries a running process has imported cannot change under it.
    """
    version = _installed().get(_normalised(name))
    if version is None:  # not installed as a wheel here: the standard, slower way
        from importlib import metadata

        try:
            version = metadata.version(name)
        except metadata.PackageNotFoundError:
            version = "?"
    return f"{name}={version}"


def _library_versions(names: Iterable[str] = _LIBRARIES) -> list[str]:
    return [_library_version(name) for name in names]


_RUNNING_CODE: dict[str, str] = {}
"""Digests of this process's own kxsj sources, by what they cover: each computed once.

The code a process runs cannot change under it, so its digest need not
either (a source edited while ``kxsj serve`` runs is not the code that
renders).  Digests of another folder (tests copy the package) are never kept.
"""


def _running_code_digest(kind: str, package_dir: Path, make: Callable[[], str]) -> str:
    if package_dir != _PACKAGE_DIR:
        return make()
    digest = _RUNNING_CODE.get(kind)
    if digest is None:
        digest = _RUNNING_CODE[kind] = make()
    return digest


_IMPORT = re.compile(r"^\s*(?:from\s+(\.+|kxsj)([\w.]*)\s+import\s+([\w, ()]+)|import\s+(kxsj[\w.]*))", re.M)
RENDERER_MODULE = "render/markdown.py"
"""Where the body renderer starts; it and every kxsj module it imports, however indirectly, make its source."""


def _module_files(package_dir: Path, dotted: str) -> list[Path]:
    """``kxsj.a.b`` -> ``a/b.py`` or ``a/b/__init__.py`` inside ``package_dir`` (what exists)."""
    rel = Path(*dotted.split(".")[1:]) if "." in dotted else Path()
    return [p for p in (package_dir / rel.with_suffix(".py"), package_dir / rel / "__init__.py") if p.is_file()]


def renderer_sources(package_dir: Path = _PACKAGE_DIR, start: str = RENDERER_MODULE) -> list[Path]:
    """The renderer's module and every kxsj module it imports, followed through their imports.

    Only these decide the HTML, so editing the loader or the dev server
    keeps the cache, while editing the math extension (or anything it
    uses) empties it.  ``kxsj/__init__.py`` (the version) is always in.
    """
    todo = [package_dir / start, package_dir / "__init__.py"]
    seen: set[Path] = set()
    while todo:
        path = todo.pop()
        if path in seen or not path.is_file():
            continue
        seen.add(path)
        here = ".".join(("kxsj", *path.relative_to(package_dir).with_suffix("").parts))
        if path.name == "__init__.py":
            here = here.rsplit(".", 1)[0] + ".__init__"
        for m in _IMPORT.finditer(path.read_text(encoding="utf-8")):
            if m.group(4):
                bases = [m.group(4)]
            else:
                dots, rest = m.group(1), m.group(2)
                if dots.startswith("."):  # relative: up len(dots) levels from this module
                    base = ".".join(here.split(".")[: -len(dots)]) + rest
                else:
                    base = "kxsj" + rest
                names = [n.strip(" ()") for n in m.group(3).split(",")]
                bases = [base] + [f"{base}.{n}" for n in names if n]
            for dotted in bases:
                for part in range(2, dotted.count(".") + 2):  # packages on the way run their __init__
                    todo.extend(_module_files(package_dir, ".".join(dotted.split(".")[:part])))
    return sorted(seen)


def _source_digest(package_dir: Path = _PACKAGE_DIR, start: str = RENDERER_MODULE) -> str:
    """SHA-256 over the renderer's source files (``renderer_sources``): a code change is a new renderer."""
    return _running_code_digest(f"source:{start}", package_dir, lambda: _hash_sources(package_dir, start))


def _hash_sources(package_dir: Path, start: str) -> str:
    h = hashlib.sha256()
    for path in renderer_sources(package_dir, start):
        h.update(path.relative_to(package_dir).as_posix().encode())
        h.update(b"\0")
        h.update(path.read_bytes())
        h.update(b"\0")
    return h.hexdigest()


def renderer_key(options: Optional[Mapping[str, object]] = None) -> str:
    """A short hex key naming everything that decides what HTML a Markdown text gives.

    ``options`` are renderer settings (name -> value with a stable ``repr``);
    a new option value is a new key, so results made with another value
    are never used.
    """
    from kxsj import __version__

    parts = [
        f"kxsj={__version__}",
        f"python={sys.version_info.major}.{sys.version_info.minor}",
        *_library_versions(),
        f"source={_source_digest()}",
    ]
    parts += [f"option:{k}={v!r}" for k, v in sorted({**render_settings(), **(options or {})}.items())]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:24]


def _decode_shard(data: bytes, label: str, lazy: bool = False) -> Optional[dict[bytes, Union[str, memoryview]]]:
    """The entries of one shard file, or None unless ``_encode_shard`` wrote it, as ``label``, with this cache key.

    ``lazy`` leaves each value as a view of its UTF-8 (``_text`` decodes
    it): a build reads whole shards but uses few of their entries.
    """
    payload = unseal(label, data)
    records = unpack_records(payload) if payload is not None else None
    if records is None or lazy:
        return records
    try:
        return {k: _text(v) for k, v in records.items()}
    except UnicodeDecodeError:
        return None


def _text(value: Union[str, memoryview]) -> str:
    return value if isinstance(value, str) else str(value, "utf-8", "surrogatepass")


def _encode_shard(entries: Mapping[bytes, Union[str, memoryview]], label: str) -> bytes:
    return seal(label, pack_records({k: v.encode("utf-8", "surrogatepass") if isinstance(v, str) else v for k, v in entries.items()}))


class TextDigests:
    """Each text's SHA-256 (of its UTF-8), computed once however many times a build asks.

    The build hands the same body string to the reading counts, the facts
    and HTML caches and the page keys; each used to hash all 1,400 bodies
    again (about 16 MB at this archive's size).  Kept by the text object,
    which is held so its ``id`` cannot be reused, for one build's life.
    """

    def __init__(self) -> None:
        self._kept: dict[int, tuple[str, bytes]] = {}

    def __call__(self, text: str) -> bytes:
        kept = self._kept.get(id(text))
        if kept is not None and kept[0] is text:
            return kept[1]
        digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).digest()
        self._kept[id(text)] = (text, digest)
        return digest

    def seed(self, text: str, digest: bytes) -> None:
        """``text``'s digest as computed earlier, in a build that stored it with the text (the parse cache)."""
        self._kept[id(text)] = (text, digest)


class RenderCache:
    """Markdown text -> HTML for one renderer key, in ``folder/<key>/``.

    ``get`` and ``put`` work in memory; ``save`` writes the shards that
    changed.  Not shared between processes: the build's main process owns
    it, and workers only render.
    """

    def __init__(
        self, folder: Path, key: str, name: Optional[str] = None, shards: int = 256, digests: Optional[TextDigests] = None
    ):
        self.folder = Path(folder)
        self._key = key.encode() + b"\0"
        """Hashed with each text's digest: entries made under another key are never found."""
        self._digests = digests or TextDigests()
        self.dir = self.folder / (name or key)
        self.shards = shards
        """Entries are spread over this many files (at most 256) by their hash's first byte."""
        self._shards: dict[int, dict[bytes, Union[str, memoryview]]] = {}
        self._dirty: set[int] = set()
        self._used: dict[int, set[bytes]] = {}
        self.hits = 0
        self.misses = 0

    def _label(self, n: int) -> str:
        """What a shard file is sealed as: cache, key folder and shard (``html/<key>/0a``), so it verifies nowhere else."""
        return f"{self.folder.name}/{self.dir.name}/{n:02x}"

    def _id(self, text: str) -> bytes:
        return hashlib.sha256(self._key + self._digests(text)).digest()

    def _shard(self, n: int) -> dict[bytes, Union[str, memoryview]]:
        shard = self._shards.get(n)
        if shard is None:
            try:
                data = (self.dir / f"{n:02x}.bin").read_bytes()
            except OSError:
                data = b""
            shard = _decode_shard(data, self._label(n), lazy=True) if data else None
            if shard is None:
                shard = {}
                if data:  # corrupt: rewrite it at the next save
                    self._dirty.add(n)
            self._shards[n] = shard
        return shard

    def get(self, text: str) -> Optional[str]:
        ident = self._id(text)
        n = ident[0] % self.shards
        kept = self._shard(n).get(ident)
        self._used.setdefault(n, set()).add(ident)
        html = None
        if kept is not None:
            try:
                html = self._shards[n][ident] = _text(kept)
            except UnicodeDecodeError:  # not what this cache writes: made again
                del self._shards[n][ident]
        if html is None:
            self.misses += 1
        else:
            self.hits += 1
        return html

    def touch(self, text: str) -> None:
        """Count ``text`` as used by this build (``save_into`` keeps it) without reading its shard."""
        ident = self._id(text)
        self._used.setdefault(ident[0] % self.shards, set()).add(ident)

    def put(self, text: str, html: str) -> None:
        ident = self._id(text)
        n = ident[0] % self.shards
        shard = self._shard(n)
        self._used.setdefault(n, set()).add(ident)
        kept = shard.get(ident)  # a str, or the UTF-8 view of an entry read and not yet used
        if kept is None or kept != (html if isinstance(kept, str) else html.encode("utf-8", "surrogatepass")):
            shard[ident] = html
            self._dirty.add(n)

    def leave_out(self, texts: Iterable[str]) -> None:
        """Keep none of ``texts`` (a ``--drafts`` build's drafts): they are not saved, and their shards are rewritten."""
        for text in texts:
            ident = self._id(text)
            n = ident[0] % self.shards
            self._used.get(n, set()).discard(ident)
            if self._shard(n).pop(ident, None) is not None:
                self._dirty.add(n)

    def save(self, drop_unused: bool = True) -> None:
        """Write every changed shard atomically; with ``drop_unused``, entries this build never asked for go.

        Dropping them keeps the cache the size of the site: an edited post's
        old HTML is not kept forever.  Errors writing are ignored: the cache
        only saves time, and the site was already built.
        """
        todo = set(self._dirty)
        if drop_unused:
            for path in self.dir.glob("*.bin") if self.dir.is_dir() else ():
                if len(path.stem) == 2 and all(c in "0123456789abcdef" for c in path.stem) and int(path.stem, 16) < self.shards:
                    self._shard(int(path.stem, 16))  # a shard this build never read may hold only stale entries
            for n, shard in self._shards.items():
                used = self._used.get(n, set())
                stale = [k for k in shard if k not in used]
                for k in stale:
                    del shard[k]
                if stale:
                    todo.add(n)
        if not todo:
            return
        try:
            self.dir.mkdir(parents=True, exist_ok=True)
            for n in sorted(todo):
                _write_atomic(self.dir / f"{n:02x}.bin", _encode_shard(self._shards[n], self._label(n)))
        except OSError:
            return
        self._dirty.clear()

    def save_into(self, folder: Path) -> None:
        """Write the entries this build used into ``folder/<key>/`` (the new output's cache).

        The build writes its output into a fresh folder and swaps it in, so
        the cache travels with it: read from the old output, written into the
        new one.
        Entries the build did not use, and other renderer keys, are left behind,
        except in a shard this build never read (its entries were only
        ``touch``-ed): that one is carried over whole, as reading it just to
        drop an edited post's old HTML would cost more than keeping it.
        """
        target = Path(folder) / self.dir.name
        try:
            target.mkdir(parents=True, exist_ok=True)
            for n, used in sorted(self._used.items()):
                name = f"{n:02x}.bin"
                if n not in self._shards and try_link(self.dir / name, target / name):
                    continue
                whole = self._shard(n)
                if n not in self._dirty and whole and whole.keys() <= used and try_link(self.dir / name, target / name):
                    continue  # every entry of the old shard used, none added: the same bytes
                shard = {k: v for k, v in whole.items() if k in used}
                if shard:
                    _write_atomic(target / name, _encode_shard(shard, self._label(n)))
        except OSError:
            return


    def prune(self) -> None:
        """Remove the folders of other renderer keys: their entries can never be used again."""
        if not self.folder.is_dir():
            return
        for child in self.folder.iterdir():
            if child.is_dir() and child.name != self.dir.name:
                shutil.rmtree(child, ignore_errors=True)


def _write_atomic(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def html_facts(html: str, mention_keys: Callable[[str], Iterable[str]]) -> str:
    """What pages need to know of a body's HTML without reading it: its SHA-256 and the titles it may cite.

    ``mention_keys`` is ``kxsj.enrich.links.html_mention_keys``: the only
    titles the linker can look up in this HTML.  One string, the digest
    then one key per line (keys hold no whitespace).
    """
    return "\n".join([hashlib.sha256(html.encode("utf-8", "surrogatepass")).hexdigest(), *sorted(mention_keys(html))])


class CachedRenderer:
    """A Markdown -> HTML function answering from ``cache``; misses among ``texts`` rendered up front.

    ``render_many`` starts rendering the misses in one go
    (``kxsj.render.parallel.start_render_many``) and returns a function that
    waits for the result, called at the first lookup; the result may leave
    out a text it failed on; ``render_one`` renders anything
    not yet known, and its exception reaches the caller, which reports the
    post.  Every new result goes into the cache.

    With ``facts`` (a second cache: ``html_facts`` of each text's HTML,
    under a key of the renderer and of the linker's code), a text whose
    facts are known is not read at all up front: ``facts(text)`` answers
    for it, which is all a page key needs, and its HTML is read from
    ``cache`` only if a page showing it is rendered.  Facts are stored only
    for HTML that rendered without error, so a text with facts is known to
    render.  Should its HTML, read or rendered again, not match its facts
    (a damaged cache), ``mismatched`` is set: page keys made from those
    facts must not be kept.
    """

    def __init__(
        self,
        cache: RenderCache,
        texts: Iterable[str],
        render_many: Callable[[list[str]], Callable[[], dict[str, str]]],
        render_one: Callable[[str], str],
        facts: Optional[RenderCache] = None,
        facts_of: Optional[Callable[[str], str]] = None,
    ):
        self.cache, self._facts, self._facts_of, self._render_one = cache, facts, facts_of, render_one
        self.mismatched = False
        self._owner = os.getpid()
        self._known: dict[str, str] = {}
        self._facts_known: dict[str, str] = {}
        missing: list[str] = []
        trust = facts is not None and cache.dir.is_dir()  # no HTML cache at all: every body would render in turn
        for text in dict.fromkeys(texts):
            kept = facts.get(text) if trust else None
            if kept is not None:
                self._facts_known[text] = kept
                cache.touch(text)
                continue
            html = cache.get(text)
            if html is None:
                missing.append(text)
            else:
                self._learn(text, html)
        self._pending = [render_many(missing)] if missing else []

    def _learn(self, text: str, html: str) -> None:
        self._known[text] = html
        if self._facts is not None and self._facts_of is not None:
            fact = self._facts_of(html)
            if self._facts_known.get(text, fact) != fact:
                if os.getpid() != self._owner:  # a page worker: the build process renders this page again and sees it
                    raise LookupError("body HTML does not match its cached facts")
                self.mismatched = True
            self._facts_known[text] = fact
            self._facts.put(text, fact)

    def facts(self, text: str) -> Optional[str]:
        """``html_facts`` of ``text``'s HTML when known without rendering it, else None."""
        return self._facts_known.get(text)

    def __call__(self, text: str) -> str:
        if self._pending:  # the misses, rendered in the background since this was made
            for rendered, html in self._pending.pop()().items():
                self.cache.put(rendered, html)
                self._learn(rendered, html)
        html = self._known.get(text)
        if html is not None:
            return html
        html = self.cache.get(text) if text in self._facts_known else None
        if html is None:
            if os.getpid() != self._owner:
                # A forked page worker: the page is rendered again by the build
                # process, which keeps what it renders and checks it against the facts.
                raise LookupError("body HTML not in the render cache")
            html = self._render_one(text)
            self.cache.put(text, html)
        self._learn(text, html)
        return html


READING_MODULE = "enrich/reading.py"


def reading_counter(
    out_dir: Path, digests: Optional[TextDigests] = None
) -> tuple[Callable[[str], tuple[int, int]], RenderCache]:
    """``kxsj.enrich.reading.chars_and_minutes`` answered from the output's cache where it can be.

    Counting a body's characters and reading time means scanning it for
    math and markup: most of the enrich stage's time, for numbers that only
    change with the body.  They are kept like rendered HTML, by a hash of
    the body under a key of the counting code (``enrich/reading.py`` and
    what it imports), in ``OUT/.kxsj-cache/reading/``.
    """
    from kxsj import __version__
    from kxsj.enrich.reading import chars_and_minutes

    key = hashlib.sha256(f"kxsj={__version__}\0{_source_digest(start=READING_MODULE)}".encode()).hexdigest()[:16]
    cache = RenderCache(Path(out_dir) / CACHE_DIR / "reading", key, shards=16, digests=digests)  # a few bytes an entry

    def counts(text: str) -> tuple[int, int]:
        kept = cache.get(text)
        if kept is not None:
            chars, minutes = kept.split()
            return int(chars), int(minutes)
        chars, minutes = chars_and_minutes(text)
        cache.put(text, f"{chars} {minutes}")
        return chars, minutes

    return counts, cache


def cache_home(out_dir: Path) -> Path:
    """Where the render cache of an output folder lives: inside it."""
    return Path(out_dir) / CACHE_DIR / "html"


LINKER_MODULE = "enrich/links.py"


def facts_key() -> str:
    """The facts cache's key: the renderer's, and the code that finds the titles an HTML may cite."""
    return hashlib.sha256(f"{renderer_key()}\0{_source_digest(start=LINKER_MODULE)}".encode()).hexdigest()[:24]


def facts_home(out_dir: Path) -> Path:
    return Path(out_dir) / CACHE_DIR / "facts"


def site_renderer(
    out_dir: Path, texts: Iterable[str], digests: Optional[TextDigests] = None
) -> tuple[CachedRenderer, RenderCache, RenderCache]:
    """The build's Markdown -> HTML: the cache of the current output, misses rendered on every core.

    The misses start rendering in worker processes at once and are waited
    for at the first lookup, so the caller can do other work meanwhile.
    Texts whose facts the output's cache holds are not read until a page
    needs them (``CachedRenderer``).  Call ``cache.save_into(cache_home(new_output))``
    and ``facts.save_into(facts_home(new_output))`` once the build has used them.
    """
    from kxsj.render.parallel import default_render, start_render_many

    cache = RenderCache(cache_home(out_dir), renderer_key(), digests=digests)
    one: list[Callable[[str], str]] = []

    def render_one(text: str) -> str:
        if not one:  # only a warm build with a new or failing text needs one in this process
            one.append(default_render())
        return one[0](text)

    from kxsj.enrich.links import html_mention_keys

    # Under the renderer's key, so a text's facts and HTML share one hash; in a folder of their own key.
    facts = RenderCache(facts_home(out_dir), renderer_key(), name=facts_key(), shards=16, digests=digests)
    renderer = CachedRenderer(
        cache, texts, start_render_many, render_one, facts, lambda html: html_facts(html, html_mention_keys)
    )
    return renderer, cache, facts


# --------------------------------------------------------------------------
# All of kxsj's code, for the caches whose results any module may change


def _package_digest(package_dir: Path = _PACKAGE_DIR) -> str:
    """Every ``.py`` of kxsj: any code change may change any page, so it means a full build."""
    return _running_code_digest("package", package_dir, lambda: _hash_package(package_dir))


def _hash_package(package_dir: Path) -> str:
    h = hashlib.sha256()
    for path in sorted(package_dir.rglob("*.py")):
        h.update(path.relative_to(package_dir).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()
