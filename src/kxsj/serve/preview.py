"""The site in memory, rebuilt from the stages of ``kxsj build`` after every save.

``PreviewSite.build(changed)`` runs the same load -> enrich -> render as
``kxsj build`` (``kxsj.posts.load_site_posts``, ``render_site``), with the
memos of ``kxsj.incremental.serve_memo`` plugged into their hooks, so a save re-parses
one file, renders one body and the few pages that show it.  Nothing is
written: the pages stay in ``pages`` (site path -> bytes) for the server,
and static files are served from where they are.

It never raises for bad input: a broken post keeps its last good version
in the site, a broken template keeps the last good pages, and either is
reported in ``Rebuild.diagnostics`` (and ``problems`` for the overlay).
"""

from __future__ import annotations

import contextlib
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import ContextManager, Iterable, Optional

import jinja2

from kxsj.assets import asset_dirs
from kxsj.write.post_assets import asset_pages
from kxsj.build import BuildOptions, markdown_renderer, post_html
from kxsj.posts import load_site_posts
from kxsj.config import CONFIG_NAME, Config, load_config
from kxsj.render.budget import set_budget
from kxsj.load.files import display_path
from kxsj.model import Diagnostic, Post
from kxsj.render.pages import render_site
from kxsj.render.templates import make_environment
from kxsj.incremental.serve_quick import LoadedPosts
from kxsj.incremental.serve_pages import QuickPages
from kxsj.incremental.bodies import html_key, reading_counter
from kxsj.incremental.feed_bodies import FeedBodies
from kxsj.incremental.serve_memo import AttachMemo, FileMemo, HtmlMemo, PageMemo
from kxsj.incremental.store import Store
from kxsj.render.context import RenderContext


@dataclass
class Rebuild:
    """What one build changed: the served pages that differ, and what went wrong."""

    changed_pages: list[str]
    diagnostics: list[Diagnostic]
    seconds: float
    posts: int
    pages: int
    rendered_pages: int
    parsed_files: int
    full: bool
    """All pages must reload (template, static or config change)."""
    problems: list[Diagnostic] = field(default_factory=list)
    """To show over the page: errors and lint findings in the files saved this session, errors in templates or config."""


def _abs(path) -> Path:
    return Path(os.path.abspath(path))


def _under(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


class PreviewSite:
    """One site held in memory between saves; ``build()`` first, then ``build(changed_paths)``."""

    def __init__(self, root: Path, posts_dir: Path, drafts: bool = False):
        self.root = _abs(root)
        self.posts_dir = _abs(posts_dir)
        # out_dir is never written: the preview serves from memory.
        self.options = BuildOptions(root=self.root, posts_dir=self.posts_dir, out_dir=self.root / "public", drafts=drafts)
        self.files = FileMemo(check=self._lint_markdown)
        self.loaded = LoadedPosts()
        self.store = Store(None)
        """The build's store, held in memory: bodies' HTML under the key of the site's render settings."""
        self.linked = HtmlMemo()
        self.page_memo = PageMemo()
        self.quick_pages = QuickPages()
        self.attached = AttachMemo()
        self.feed_bodies = FeedBodies(self.store)
        """The feed's MathML bodies, kept between saves (MathJax's V8 too: nothing here forks)."""
        self._to_html = None
        self.config: Optional[Config] = None
        self._config_diags: list[Diagnostic] = []
        self.env: Optional[jinja2.Environment] = None
        self._names_key = None
        self._titles_key = None
        self.pages: dict[str, bytes] = {}
        self.problems: dict[str, list[Diagnostic]] = {}
        """Errors per file saved this session (and templates/config), for the overlay."""
        self.builds = 0
        self._linted: set[Diagnostic] = set()

    # -- what a change touches ------------------------------------------------

    def static_dirs(self) -> list[Path]:
        """Folders ``/static/`` is served from, the site's own first."""
        return asset_dirs("static", self.root)

    def kind_of(self, path: Path) -> Optional[str]:
        """``config``, ``templates``, ``static``, ``posts`` or None (a file the site does not read)."""
        path = _abs(path)
        if path == self.root / CONFIG_NAME:
            return "config"
        if _under(path, self.root / "templates"):
            return "templates"
        if _under(path, self.root / "static"):
            return "static"
        if _under(path, self.posts_dir):
            return "posts"
        return None

    # -- building ---------------------------------------------------------------

    def build(self, changed: Iterable[Path] = ()) -> Rebuild:
        start = time.monotonic()
        changed = {_abs(p) for p in changed}
        kinds = {self.kind_of(p) for p in changed}
        first = self.config is None
        if first or "config" in kinds:
            self.config, self._config_diags = load_config(self.root)
            self.config.base_url = ""  # the preview links root-relative, whatever kxsj.yml says
            set_budget(self.config.render_timeout)
            self._to_html = None
            self.linked.clear()  # bodies linked under the old settings
        if first or kinds & {"config", "templates"}:
            self.env = make_environment(self.config, self.root)
            self.page_memo.clear()
        if self._to_html is None:
            self._to_html = self._stored_html(self.config)
        self.files.forget(changed)
        self.files.parsed = 0
        self._linted: set[Diagnostic] = set()
        config = self.config
        diags = list(self._config_diags)

        quick = self.loaded.after_save(changed, self.files) if kinds == {"posts"} else None
        if quick is not None:  # only a Markdown post's text changed: every other post is last build's
            posts, load_diags = quick
            diags += load_diags
        else:
            self.files.start()
            # Reading counts from the same store namespace ``kxsj build`` keeps on disk.
            posts, load_diags = load_site_posts(
                self.options, config, parse=self.files, reading=reading_counter(self.store), lint=False, assets=False
            )
            self.files.finish()
            diags += load_diags
            if changed:  # dumps are linted once merged; Markdown posts by the file memo
                shown = {display_path(c) for c in changed}
                diags += self._lint([p for p in posts if p.kind != "markdown" and any(s.path in shown for s in p.source)])
            posts = self._same_objects(posts)
            self.loaded.remember(posts, load_diags)
            self._reset_memos_for(posts)
        posts = list(posts)  # the posts as loaded are kept for the next save; these get their files
        diags += self.attached(posts, asset_dirs("static", self.root), self.posts_dir, reuse=quick is not None)

        self.page_memo.start()
        build_errors: list[Diagnostic] = []
        try:
            site = self._render(posts, quick is not None)
        except jinja2.TemplateError as exc:  # keep the last good pages
            where = getattr(exc, "filename", None) or getattr(exc, "name", None) or "templates"
            build_errors.append(Diagnostic(where, getattr(exc, "lineno", 0) or 0, "error", f"template error: {exc}"))
            site = None
            self.page_memo.clear()
            self.quick_pages.clear()
            self.linked.finish()
        self.store.forget_unused()
        diags += build_errors

        changed_pages: list[str] = []
        if site is not None:
            diags += site.diagnostics
            site.pages.extend(asset_pages(posts, (p.path for p in site.pages), diags))  # each post's own files
            new = {p.path: p.content for p in site.pages}
            old = self.pages
            changed_pages = sorted(
                path for path in new.keys() | old.keys() if old.get(path) is not new.get(path) and old.get(path) != new.get(path)
            )
            self.pages = new
        self._note_problems(changed, diags, build_errors + [d for d in self._config_diags if d.level == "error"])
        self.builds += 1
        return Rebuild(
            changed_pages=changed_pages,
            diagnostics=diags,
            seconds=time.monotonic() - start,
            posts=len(posts),
            pages=len(self.pages),
            rendered_pages=self.page_memo.rendered,
            parsed_files=self.files.parsed,
            full=first or bool(kinds & {"config", "templates", "static"}),
            problems=self.overlay(),
        )

    def _render(self, posts: list[Post], body_only: bool):
        """Every page for ``posts``: after a body-only save, last build's with the saved post's pages made again."""
        with self._reusing_typesets(body_only):
            return self._render_pages(posts, body_only)

    def _render_pages(self, posts: list[Post], body_only: bool):
        if body_only:
            site = self.quick_pages.after_save(posts, self.page_memo)
            if site is not None:
                self.linked.finish(gone=self.quick_pages.gone_texts)
                return site
        self.quick_pages.clear()
        to_html = self.linked.wrap(post_html(self._to_html, posts, self.config))

        def keep(plan, made, result) -> None:
            self.quick_pages.remember(posts, plan, made, result, to_html)

        site = render_site(posts, self.config, to_html, self.root, env=self.env, memo=self.page_memo,
                           same=self.page_memo.same, keep=keep, to_feed=self.feed_bodies)
        self.linked.finish()
        return site

    def _reusing_typesets(self, body_only: bool) -> ContextManager[None]:
        """After a body-only save under ``math: build``: the saved post's formulas as typeset before
        (``kxsj.render.mathbuild.reused_typesets``), taken if the save left them as they were."""
        replaced = self.loaded.replaced if body_only else None
        context = RenderContext.from_config(self.config)
        if replaced is None or context.math != "build":
            return contextlib.nullcontext()
        from kxsj.incremental.typesets import typesets_of
        from kxsj.render.mathbuild import reused_typesets

        space = self.store.namespace("html", html_key(context))
        return reused_typesets(typesets_of(space, [space.digest(t) for t in (replaced.body, replaced.excerpt) if t]))

    def _stored_html(self, config: Config):
        """Markdown -> HTML through the store's ``html`` namespace: a change of render settings is another key."""
        context = RenderContext.from_config(config)
        space = self.store.namespace("html", html_key(context))
        render = markdown_renderer(config)

        def cached(text: str) -> str:
            html = space.get(text)
            if html is None:
                html = render(text)
                space.put(text, html)
            return html

        return cached

    def _same_objects(self, posts: list[Post]) -> list[Post]:
        """Each post equal to last build's post at its URL, as that very object.

        ``PageMemo`` compares page contexts with ``==``; Python compares
        identical objects without looking inside, so an unchanged post costs
        nothing to compare however long its body.
        """
        before = {p.url: p for p in self.loaded.posts or []}  # last build's, after any quick saves
        same = [before.get(p.url) for p in posts]
        return [old if old is not None and old == new else new for old, new in zip(same, posts)]

    def _reset_memos_for(self, posts: list[Post]) -> None:
        """Forget what depends on the whole archive when that changed.

        Tag, category and series names decide their pages' URLs (every page
        links them); titles and URLs decide the 《title》 links in bodies.
        """
        names = (
            frozenset(t for p in posts for t in p.tags),
            frozenset(c for p in posts for c in p.categories),
            frozenset(p.series.name for p in posts if p.series),
        )
        if names != self._names_key:
            self.page_memo.clear()
            self._names_key = names
        titles = frozenset((p.title, p.url, p.date) for p in posts)
        if titles != self._titles_key:
            self.linked.clear()
            self._titles_key = titles

    def _lint_markdown(self, parsed) -> list[Diagnostic]:
        return self._lint([parsed]) if isinstance(parsed, Post) else []

    def _lint(self, posts: list[Post]) -> list[Diagnostic]:
        """``kxsj check``'s lint on the posts just saved, when kxsj has one."""
        if not posts:
            return []
        try:
            from kxsj.lint import lint_posts
        except ImportError:
            return []
        found = list(lint_posts(posts))
        self._linted.update(found)
        return found

    def _note_problems(self, changed: set[Path], diags: list[Diagnostic], site_errors: list[Diagnostic]) -> None:
        linted = self._linted
        for path in changed:
            self.problems.pop(str(path), None)
        for d in diags:
            # ``linted and``: most saves lint nothing, and hashing thousands of diagnostics is not free.
            if (d.level == "error" or linted and d in linted) and _abs(d.path) in changed:
                self.problems.setdefault(str(_abs(d.path)), []).append(d)
        self.problems.pop("", None)
        if site_errors:
            self.problems[""] = site_errors

    def overlay(self) -> list[Diagnostic]:
        return [d for ds in self.problems.values() for d in ds]
