"""``build_site``: load -> enrich -> render -> write, for the CLI and the dev server.

Each stage gets plain data and hands plain data on; this module only wires
them, times the build and collects every diagnostic.  Problems with single
posts never stop the others: the post is reported (``path:line: level:
message``) and the rest of the site is built.  ``strict`` turns any warning
or error into a failed build whose output is *not* swapped in, so CI can
keep the last good site.
"""

from __future__ import annotations

import contextlib
import gc
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Optional

import jinja2

from kxsj.assets import asset_dirs
from kxsj.config import Config, load_config, normalise_base_url
from kxsj.render.settings import use_config
from kxsj.model import Diagnostic, Post
from kxsj.progress import Progress

if TYPE_CHECKING:
    from kxsj.render.cache import TextDigests
    from kxsj.render.pagestore import PageStore

EARLY_WORKERS_FILES = 24
"""A build from nothing over at least this many source files starts its Markdown workers before loading.

Below it a site may have fewer texts than are worth two workers
(``kxsj.render.parallel.MIN_PARALLEL``); the posts are counted only later.
"""

RELATED_FILE = "related.json"
"""``assign_related``'s memo in the output's cache: it holds until a post's URL, title, date or tags change."""


@dataclass
class BuildOptions:
    root: Path
    posts_dir: Path
    out_dir: Path
    base_url: Optional[str] = None
    """Overrides ``base_url`` from ``kxsj.yml`` (``--base-url``)."""
    drafts: bool = False
    strict: bool = False
    progress: bool = False
    """Show ``rendered N/M posts`` on stderr once the build has run over a second."""


@dataclass
class BuildReport:
    posts: int
    pages: int
    seconds: float
    diagnostics: list[Diagnostic] = field(default_factory=list)
    ok: bool = True
    out_dir: Path = Path("public")
    written: bool = False
    """Whether the new output was swapped in (False on a failed or strict build)."""

    def count(self, level: str) -> int:
        return sum(1 for d in self.diagnostics if d.level == level)

    def summary(self) -> str:
        """``built 36 posts, 112 pages, 0 warnings in 0.84 s -> public/``"""
        warnings, errors = self.count("warning"), self.count("error")
        problems = f"{warnings} warning{'s' if warnings != 1 else ''}"
        if errors:
            problems += f", {errors} error{'s' if errors != 1 else ''}"
        out = f"{self.out_dir}/" if not str(self.out_dir).endswith("/") else str(self.out_dir)
        verb = "built" if self.written else "FAILED, kept the previous output; rendered"
        return f"{verb} {self.posts} posts, {self.pages} pages, {problems} in {self.seconds:.2f} s -> {out}"


def markdown_renderer() -> Callable[[str], str]:
    """The body renderer's Markdown -> HTML, one instance for the whole build."""
    from kxsj.render.markdown import configured_renderer

    renderer = configured_renderer()
    return lambda text: renderer.render(text).html


def post_html(to_html: Callable[[str], str], posts: list[Post], config: Config) -> Callable[[str], str]:
    """Body Markdown -> HTML as pages show it: rendered, then 《title》 mentions
    of archive posts linked.  The build and the dev server both go through here."""
    from kxsj.enrich.links import link_titles
    from kxsj.render.templates import href

    return link_titles(to_html, posts, lambda url: href(config, url), config.original_url)


def load_site_posts(
    options: BuildOptions, config: Config, parse=None, reading=None, loaded: Optional[Callable[[list[Post]], None]] = None,
    related=None, lint: bool = True,
) -> tuple[list[Post], list[Diagnostic]]:
    """Load -> drafts left out unless asked for -> enrich -> math lint: the posts a build renders.

    ``kxsj check`` and ``kxsj build`` both come through here, so they report
    the same diagnostics and ``--strict`` fails both on the same ones.
    ``parse`` is ``load_posts``' per-file hook; ``kxsj serve`` passes one that
    reuses the files a save did not touch, and ``lint=False``: it lints only
    the files saved.  ``reading`` and ``related`` are ``enrich``'s.
    ``loaded(posts)`` is called between the two stages: ``kxsj build`` starts
    rendering the bodies there, which enrich does not change.
    """
    from kxsj.enrich import enrich
    from kxsj.lint import linted_late, lint_posts, parse_and_lint_post_file
    from kxsj.load import load_posts

    result = load_posts(options.posts_dir, config, parse=parse, parse_file=parse_and_lint_post_file if lint else None)
    diags = list(result.diagnostics)
    posts = [p for p in result.posts if options.drafts or not p.draft]
    if loaded is not None:
        loaded(posts)
    posts = enrich(posts, config, diags, reading, related)
    if lint:  # Markdown posts were linted as they were parsed
        diags.extend(lint_posts(p for p in posts if linted_late(p)))
    return posts, diags


def page_store(
    out_dir: Path, config: Config, root: Path, posts: list[Post], digests: Optional["TextDigests"] = None
) -> "PageStore":
    """The previous output's pages, for ``render_site`` to reuse where nothing they show changed.

    ``digests`` are the build's text digests, shared with its caches.
    """
    from kxsj.render.pagestore import PageStore, site_key

    names = ([t for p in posts for t in p.tags], [c for p in posts for c in p.categories],
             [p.series.name for p in posts if p.series])
    return PageStore(out_dir, site_key(config, root, names), digests)


def _finish_output(folder: Path, saves: list[Callable[[Path], None]], indexer, diags: list[Diagnostic]) -> None:
    """Last steps inside the new output before it is committed: the caches
    (``saves``) travel with the output, and the search index is built over it."""
    for save in saves:
        save(folder)
    if indexer is not None:
        diags.extend(indexer(folder))


def build_site(
    options: BuildOptions,
    to_html: Optional[Callable[[str], str]] = None,
    posts: Optional[list[Post]] = None,
) -> BuildReport:
    """Build the site described by ``options``; never raises for bad input.

    ``posts`` (already enriched) and ``to_html`` replace the load stage and
    the body renderer, for tests and tools that make posts themselves.
    """
    from kxsj.render.parallel import stop_workers

    from kxsj.write.output import sigterm_as_interrupt

    with contextlib.ExitStack() as cleanup:
        cleanup.enter_context(sigterm_as_interrupt())  # `kill` cleans up like Ctrl-C
        try:
            return _build(options, to_html, posts, cleanup)
        finally:  # an interrupted build leaves no Markdown worker behind
            stop_workers()
            gc.unfreeze()  # what the build froze is the caller's to collect again


def _build(
    options: BuildOptions, to_html: Optional[Callable[[str], str]], posts: Optional[list[Post]], cleanup: contextlib.ExitStack
) -> BuildReport:
    from kxsj.enrich.related import RelatedMemo
    from kxsj.load.parse_cache import ParseCache
    from kxsj.render.budget import set_budget
    from kxsj.render.cache import CACHE_DIR, TextDigests, cache_home, facts_home, reading_counter
    from kxsj.render.pages import render_site
    from kxsj.render.parallel import call_all, offer_texts
    from kxsj.render.template_cache import TemplateCodeCache
    from kxsj.render.templates import make_environment
    from kxsj.write.search import search_indexer
    from kxsj.write.lock import describe_os_error, output_lock
    from kxsj.write.foreign import foreign_files
    from kxsj.write.output import OutputError, check_out_dir, clean_stale, kept_files, page_spool, write_output
    from kxsj.render.site_loader import outside_templates
    from kxsj.write.static import static_files

    start = time.monotonic()
    options = replace(options, root=Path(options.root), posts_dir=Path(options.posts_dir), out_dir=Path(options.out_dir))
    config, diags = load_config(options.root)
    set_budget(config.render_timeout)  # before any worker is forked: they inherit it
    use_config(config)  # before any renderer is made, here or in a worker
    if options.base_url is not None:
        try:
            config.base_url = normalise_base_url(options.base_url)
        except ValueError as exc:
            diags.append(Diagnostic("--base-url", 0, "error", f"--base-url {exc}"))
            return BuildReport(0, 0, time.monotonic() - start, diags, False, options.out_dir, False)

    def report(n_posts: int, n_pages: int, written: bool) -> BuildReport:
        errors = any(d.level == "error" for d in diags)
        warnings = any(d.level == "warning" for d in diags)
        # A bad post is reported and left out, and the rest of the site is
        # still a good site: only --strict fails on it (issue 8).
        ok = written and not (options.strict and (errors or warnings))
        return BuildReport(n_posts, n_pages, time.monotonic() - start, diags, ok, options.out_dir, written)

    protected, inputs = [options.root, options.posts_dir], [options.posts_dir]
    problem = check_out_dir(options.out_dir, protected, inputs)
    if problem:  # before any work: a wrong --out is the commonest mistake
        diags.append(Diagnostic(str(options.out_dir), 0, "error", problem))
        return report(0, 0, written=False)
    try:  # one build at a time per output folder
        cleanup.enter_context(output_lock(options.out_dir))
    except (OutputError, OSError) as exc:
        message = str(exc) if isinstance(exc, OutputError) else describe_os_error(exc, options.out_dir)
        diags.append(Diagnostic(str(options.out_dir), 0, "error", message))
        return report(0, 0, written=False)
    # A build killed mid-write left a journal or a temporary tree: settle the
    # output before anything reads its caches.
    clean_stale(options.out_dir.resolve())
    stamp = None
    if posts is None and to_html is None:  # from files: nothing changed since the last build -> nothing to do
        from kxsj.render.stamp import build_stamp

        stamp, digest = build_stamp(options.root, options.posts_dir, options.out_dir, config, options.drafts, options.strict)
        saved = stamp.load(digest, options.out_dir)
        if saved is not None:
            diags[:] = [Diagnostic(**d) for d in saved["diagnostics"]]
            return report(saved["posts"], saved["pages"], written=True)
    counted = cache = facts = parsed = related = None
    renderer: list = []
    digests = TextDigests()  # every cache and page key names a body by one hash of it
    early = False
    if stamp is not None and (options.out_dir / CACHE_DIR).is_dir():
        # A build over a previous output's caches renders few texts: Markdown
        # gets ready for them on the other core while the posts load.
        from kxsj.render.parallel import start_helper

        start_helper()
    elif stamp is not None and len(stamp.file_digests) >= EARLY_WORKERS_FILES:
        # A build from nothing renders every text: the workers start now and
        # take each post's texts as its file is parsed.
        from kxsj.render.parallel import start_early_workers

        start_early_workers()
        early = True

    def start_rendering(posts: list[Post]) -> None:
        """Bodies from the output's .kxsj-cache; the rest start rendering on every core."""
        from kxsj.render.cache import site_renderer

        renderer.extend(site_renderer(options.out_dir, (t for p in posts for t in (p.body, p.excerpt) if t), digests))

    if posts is None:
        reading, counted = reading_counter(options.out_dir, digests)
        parsed = ParseCache(
            options.out_dir / CACHE_DIR, known=stamp.file_digests if stamp is not None else None, digests=digests
        )
        related = RelatedMemo.load(options.out_dir / CACHE_DIR / RELATED_FILE)

        collecting = gc.isenabled()

        def loaded(posts: list[Post]) -> None:
            # The posts live as long as the build: full garbage collections
            # (one costs ~25 ms at 1,400 posts) need not walk them again.
            gc.freeze()
            if collecting:
                gc.enable()
            if to_html is None:
                start_rendering(posts)

        def parse_and_offer(path: Path, parse_file, found: list[Diagnostic]):
            """``parsed``, handing each Markdown post's texts to the early workers as it comes."""
            result = parsed(path, parse_file, found)
            if isinstance(result, Post) and (options.drafts or not result.draft):
                offer_texts((result.body, result.excerpt))
            return result

        parse = parse_and_offer if early else parsed

        # Loading makes the build's long-lived objects and no garbage in
        # cycles: collecting while it runs (a young collection per 700 new
        # objects, 40 at 1,400 posts) only walks posts about to be frozen.
        gc.disable()
        try:
            # The workers render while this process links the posts (enrich).
            posts, load_diags = load_site_posts(
                options, config, parse=parse, reading=reading, loaded=loaded, related=related,
            )
        finally:  # ``loaded`` collects again after loading; this is for a load that raised
            if collecting:
                gc.enable()
        diags += load_diags
    elif to_html is None:
        start_rendering(posts)
    if renderer:
        to_html, cache, facts = renderer
    indexer, search_diags = search_indexer(config)
    diags += search_diags
    if indexer is None:  # pages then say search is unavailable instead of offering a box that fails
        config = replace(config, search=False)
    progress = Progress(options.progress, start)
    # 《title》 mentions of archive posts become links in every rendered body.
    html_of = post_html(to_html, posts, config)
    store = None
    if cache is not None:  # from files: pages whose inputs did not change are taken from the current output
        store = page_store(options.out_dir, config, options.root, posts, digests)
    templates = TemplateCodeCache(config)  # in the user's cache folder: no code is read from the output
    try:
        # Render workers write the pages into a spool beside the output, linked from there.
        spooling = cleanup.enter_context(contextlib.ExitStack())
        spool = spooling.enter_context(page_spool(options.out_dir))
        site = render_site(
            posts, config, html_of, options.root, progress, memo=store, render_pages=lambda makes: call_all(makes, spool=spool),
            env=make_environment(config, options.root, templates),
        )
    except jinja2.TemplateError as exc:  # a site's own template is broken
        where = getattr(exc, "filename", None) or getattr(exc, "name", None) or "templates"
        diags.append(Diagnostic(where, getattr(exc, "lineno", 0) or 0, "error", f"template error: {exc}"))
        return report(len(posts), 0, written=False)
    except OSError as exc:  # the page spool beside the output: a full disk
        diags.append(Diagnostic(str(options.out_dir), 0, "error", describe_os_error(exc, options.out_dir)))
        return report(len(posts), 0, written=False)
    finally:
        progress.finish()
    diags += site.diagnostics

    # Caches travel with the output: each is written into the new output folder.
    saves: list[Callable[[Path], None]] = []
    if cache is not None:
        saves.append(lambda folder: cache.save_into(cache_home(folder)))
        saves.append(lambda folder: facts.save_into(facts_home(folder)))
    if store is not None and renderer and renderer[0].mismatched:
        store = None  # a body's HTML did not match its cached facts: keep no page key made from them
    # Caches hold nothing the site does not publish without --drafts.
    drafts = [t for p in posts if p.draft for t in (p.body, p.excerpt) if t] if options.drafts else []
    if drafts:
        store = None  # its manifest names the drafts' pages
        for kept in (cache, facts, counted):
            if kept is not None:
                kept.leave_out(drafts)
    if counted is not None:
        saves.append(lambda folder: counted.save_into(folder / CACHE_DIR / "reading"))
    if parsed is not None:
        saves.append(lambda folder: parsed.save_into(folder / CACHE_DIR))
    if related is not None:
        saves.append(lambda folder: related.save(folder / CACHE_DIR / RELATED_FILE))
    skip = () if config.mathjax == "local" or config.math == "build" else ("mathjax",)  # build: its fonts
    static = static_files(reversed(asset_dirs("static", options.root)), skip, config.include_dotfiles, diags)
    diags += outside_templates(asset_dirs("templates", options.root))
    diags += foreign_files(options.out_dir, kept_files(options.out_dir, config.keep, static))
    failing = options.strict and any(d.level in ("warning", "error") for d in diags)
    listing: dict[str, list[int]] = {}

    def finish(folder: Path) -> None:
        # Every page is in the new output now: the spool goes before the
        # commit, as removing its links changes the pages' change times.
        spooling.close()
        _finish_output(folder, saves, indexer, diags)

    try:
        write_output(
            site.pages,
            options.out_dir,
            static=static,
            keep=config.keep,
            protected=protected,
            inputs=inputs,
            commit=not failing,
            finish=finish,
            # Pagefind reads the whole finished site: with search on, a new tree is swapped in.
            in_place=indexer is None,
            listing=listing,
        )
    except (OutputError, OSError) as exc:
        message = describe_os_error(exc, options.out_dir) if not isinstance(exc, OutputError) else str(exc)
        diags.append(Diagnostic(str(options.out_dir), 0, "error", message))
        return report(site.posts, len(site.pages), written=False)
    final = report(site.posts, len(site.pages), written=not failing)
    if final.written and (store is not None or stamp is not None):
        from kxsj.render.stamp import record_output

        saved = {"posts": final.posts, "pages": final.pages, "diagnostics": [vars(d) for d in diags]}
        record_output(options.out_dir, listing, store, stamp, digest if stamp is not None else "", saved, drafts)
    return final

