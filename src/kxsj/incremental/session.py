"""``Incremental``: everything one ``kxsj build`` does only to be fast, behind one object.

``kxsj.build`` runs load -> enrich -> render -> write and asks this object
at each step for the hooks that make the step cheap:

* ``unchanged()``: the build stamp says nothing changed since the last
  build -> its report, and nothing else runs (``kxsj.incremental.stamp``);
* ``parse``, ``reading``, ``related``: the load and enrich stages' memos
  (parse results, reading counts, related posts);
* ``loaded(posts)``: between load and enrich, the bodies start rendering
  on every core while this process links the posts;
* ``renderer()``: body Markdown -> HTML from the store's ``html``
  namespace, misses rendered by the workers (``kxsj.incremental.bodies``);
* ``page_memo(posts, config)`` and ``render_pages``: pages whose key did
  not change are linked from the current output, the rest rendered on
  every core (``kxsj.incremental.pages``, ``page_workers``);
  ``feed_bodies()``: the feed's MathML bodies kept (``feed_bodies``);
* ``save_into(new_output)`` and ``record(...)``: one save path for every
  cache, written into the new output before it is committed.

With ``enabled=False`` (``kxsj build --no-cache``) nothing is read from or
written to ``.kxsj-cache`` and every result is made again; the output is
the same byte for byte (``tests/test_no_cache.py``).
"""

from __future__ import annotations

import contextlib
import gc
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterator, Optional

from kxsj.config import Config
from kxsj.incremental.store import CACHE_DIR, Store, TextDigests
from kxsj.model import Diagnostic, Post
from kxsj.render.context import RenderContext

if TYPE_CHECKING:
    from kxsj.incremental.bodies import CachedRenderer
    from kxsj.incremental.feed_bodies import FeedBodies
    from kxsj.incremental.pages import PageStore

EARLY_WORKERS_FILES = 24
"""A build from nothing over at least this many source files starts its Markdown workers before loading.

Below it a site may have fewer texts than are worth two workers
(``kxsj.incremental.workers.MIN_PARALLEL``); the posts are counted only later.
"""

RELATED_FILE = "related.json"
"""``assign_related``'s memo in the output's cache: it holds until a post's URL, title, date or tags change."""


class Incremental:
    """The speed side of one build of ``root`` into ``out_dir``: see the module docstring."""

    def __init__(self, options, from_files: bool, enabled: bool = True):
        self.options = options
        self.config: Optional[Config] = None
        self.context: Optional[RenderContext] = None
        self.from_files, self.enabled = from_files, enabled
        self.out_dir = Path(options.out_dir)
        self.digests = TextDigests()  # every cache and page key names a body by one hash of it
        self.store = Store(self.out_dir if enabled else None, self.digests)
        self.stamp = self.digest = None
        self.parsed = self.related = self.reading = self.refs = None
        self.cached: Optional["CachedRenderer"] = None
        self.pages: Optional["PageStore"] = None
        self.feed: Optional["FeedBodies"] = None
        self._early = False
        self._held: set[str] = set()
        """Texts not rendered as first asked for: their post may get its files' context line (``renderer``)."""
        self._drafts: list[str] = []
        self._collecting = False  # whether garbage collection was on before the load
        self._spooling: Optional[contextlib.ExitStack] = None

    # -- before loading -----------------------------------------------------

    def unchanged(self) -> Optional[dict]:
        """The last build's report when nothing it was made from changed (then nothing else runs).

        Asked before the configuration is read: ``kxsj.yml`` is one of the
        inputs the stamp digests.
        """
        if not (self.enabled and self.from_files):
            return None
        from kxsj.incremental.stamp import build_stamp

        o = self.options
        self.stamp, self.digest = build_stamp(o.root, o.posts_dir, o.out_dir, o.base_url, o.drafts, o.strict)
        return self.stamp.load(self.digest, o.out_dir)

    def configure(self, config: Config) -> None:
        """The site's configuration, read once the build is known to run: its render settings key every cache."""
        self.config = config
        self.context = RenderContext.from_config(config)

    def start(self) -> None:
        """Workers and memos for a build that loads its posts from files."""
        from kxsj.incremental import workers

        files = len(self.stamp.file_digests) if self.stamp is not None else 0
        if self.enabled and (self.out_dir / CACHE_DIR).is_dir():
            # A build over a previous output's caches renders few texts: Markdown
            # gets ready for them on the other core while the posts load.
            workers.start_helper(self.context)
        elif files >= EARLY_WORKERS_FILES:
            # A build from nothing renders every text: the workers start now and
            # take each post's texts as its file is parsed.
            workers.start_early_workers(self.context)
            self._early = True
        if not self.enabled:
            return
        from kxsj.incremental.related import RelatedMemo
        from kxsj.incremental.bodies import reading_counter, reference_finder
        from kxsj.incremental.parse import ParseCache

        self.reading = reading_counter(self.store)
        self.refs = reference_finder(self.store)
        self.parsed = ParseCache(self.out_dir / CACHE_DIR, self.stamp.file_digests if self.stamp else None, self.digests)
        self.related = RelatedMemo.load(self.out_dir / CACHE_DIR / RELATED_FILE)

    def parse(self, path: Path, parse_file, found: list[Diagnostic]):
        """``load_posts``' per-file hook: the parse memo, each post's texts handed to the early workers
        (not those of a post that may get its files' context line: they would be rendered twice)."""
        from kxsj.incremental.workers import offer_texts
        from kxsj.load.assets import may_get_files

        result = self.parsed(path, parse_file, found) if self.parsed is not None else parse_file(path, found)
        if self._early and isinstance(result, Post) and (self.options.drafts or not result.draft) and not may_get_files(result):
            offer_texts((result.body, result.excerpt))
        return result

    @contextlib.contextmanager
    def loading(self) -> Iterator[None]:
        """Around the load: no garbage collection while it runs.

        Loading makes the build's long-lived objects and no garbage in
        cycles: collecting while it runs only walks posts about to be kept
        for the whole build; ``loaded`` freezes them and collects again.
        """
        self._collecting = gc.isenabled()
        gc.disable()
        try:
            yield
        finally:
            if self._collecting:
                gc.enable()

    def loaded(self, posts: list[Post]) -> None:
        """Between load and enrich: the posts live as long as the build, and their bodies start rendering."""
        gc.freeze()
        if self._collecting:
            gc.enable()
        self.start_rendering(posts)

    def start_rendering(self, posts: list[Post]) -> None:
        from kxsj.incremental.bodies import site_renderer

        texts = (t for p in posts for t in (p.body, p.excerpt) if t)
        self.cached = site_renderer(self.store, texts, self.context, posts, hold=lambda missing: self._hold(posts, missing))

    def _hold(self, posts: list[Post], missing: list[str]) -> set[str]:
        """Of the ``missing`` texts, those of posts that may get their files' context line
        (``kxsj.load.assets.may_get_files``, asked only of posts with a text to render)."""
        from kxsj.load.assets import may_get_files

        wanted = set(missing)
        for post in posts:
            if (post.body in wanted or post.excerpt in wanted) and may_get_files(post):
                self._held.update(t for t in (post.body, post.excerpt) if t)
        return self._held

    # -- rendering ------------------------------------------------------------

    def renderer(self, posts: list[Post]) -> Callable[[str], str]:
        """The body renderer ``start_rendering`` made, rendering also the ``posts``' texts that changed since
        (those with their own files' context line, ``kxsj.load.assets``) and those it held back for that."""
        held = self._held
        self.cached.prefetch((t for p in posts if p.page_context or p.body in held for t in (p.body, p.excerpt) if t), posts)
        return self.cached

    def page_memo(self, posts: list[Post], config: Config) -> Optional["PageStore"]:
        """The previous output's pages, reused where nothing they show changed (only for a build from files)."""
        if not self.enabled or self.cached is None:
            return None
        from kxsj.incremental.pages import PageStore, site_key

        names = ([t for p in posts for t in p.tags], [c for p in posts for c in p.categories],
                 [p.series.name for p in posts if p.series])
        self.pages = PageStore(self.out_dir, site_key(config, self.options.root, names), self.digests)
        return self.pages

    def template_cache(self, config: Config):
        """Compiled templates, in the user's cache folder: no code is read from the output."""
        if not self.enabled:
            return None
        from kxsj.incremental.templates import TemplateCodeCache

        return TemplateCodeCache(config)

    def feed_bodies(self) -> Optional[Callable[[str], str]]:
        """The feed's MathML bodies from the store (``kxsj.incremental.feed_bodies``)."""
        if not self.enabled:
            return None
        from kxsj.incremental.feed_bodies import FeedBodies

        self.feed = FeedBodies(self.store)
        return self.feed

    def render_pages(self, cleanup: contextlib.ExitStack) -> Callable:
        """``render_site``'s batch renderer: pages over every core, written by the workers into a
        spool beside the output and linked from there (``close_spool`` removes it)."""
        from kxsj.incremental.page_workers import call_all
        from kxsj.write.output import page_spool

        self._spooling = cleanup.enter_context(contextlib.ExitStack())
        spool = self._spooling.enter_context(page_spool(self.out_dir))
        return lambda makes: call_all(makes, spool=spool)

    def close_spool(self, folder: Path) -> None:
        """Every page is in the new output now: the spool goes before the commit,
        as removing its links changes the pages' change times."""
        if self._spooling is not None:
            self._spooling.close()

    # -- after rendering ------------------------------------------------------

    def leave_out_drafts(self, posts: list[Post]) -> None:
        """Caches hold nothing the site does not publish without ``--drafts``."""
        if self.cached is not None and self.cached.mismatched:
            self.pages = None  # a body's HTML did not match its cached facts: keep no page key made from them
        self._drafts = [t for p in posts if p.draft for t in (p.body, p.excerpt) if t] if self.options.drafts else []
        if self._drafts:
            self.pages = None  # its manifest names the drafts' pages
            self.store.leave_out(self._drafts)
            if self.feed is not None:
                self.feed.keep_none()  # the feed may show a draft, kept by its HTML, not its Markdown

    def save_into(self, folder: Path) -> None:
        """Every cache into the new output (``folder``), before it is committed."""
        if not self.enabled:
            return
        if self.feed is not None:
            self.feed.keep_unasked()
        self.store.save_into(folder)
        if self.parsed is not None:
            self.parsed.save_into(Path(folder) / CACHE_DIR)
        if self.related is not None:
            self.related.save(Path(folder) / CACHE_DIR / RELATED_FILE)

    def record(self, listing: dict[str, list[int]], report: dict, search=None) -> None:
        """The page manifest and the build stamp, made from the committed output;
        ``search``: the build's search indexer (``kxsj.write.search.search_indexer``), None without one."""
        if self.pages is None and self.stamp is None:
            return
        from kxsj.incremental.stamp import record_output

        pagefind = None
        if self.stamp is not None and self.config is not None and self.config.search:
            pagefind = str(getattr(search, "binary", None))  # the Pagefind the build found (None: not installed)
        record_output(self.out_dir, listing, self.pages, self.stamp, self.digest or "", report, bool(self._drafts), pagefind)

    @staticmethod
    def stop() -> None:
        """However the build ends (Ctrl-C, SIGTERM, an error): no Markdown worker left behind."""
        workers = sys.modules.get("kxsj.incremental.workers")
        if workers is not None:  # else no worker was ever started (a build with nothing to do)
            workers.stop_workers()
        gc.unfreeze()  # what the build froze is the caller's to collect again
