"""Every page of the site, as (site path, bytes) pairs: the plan (``kxsj.render.plan``) made.

``render_site`` renders the posts' bodies (``render_posts``), plans every
page as data (``plan_site``: path, template, context) and makes each page
from its spec with Jinja.  A page memo (``kxsj serve``'s in-memory one,
``kxsj build``'s ``kxsj.incremental.pages.PageStore``) is given the same
spec, so a page is keyed on exactly what it is made from.  The URL scheme
is described in ``kxsj.render.plan``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Optional

import jinja2
from markupsafe import Markup

from kxsj.config import Config
from kxsj.model import Post
from kxsj.render.citation import cite
from kxsj.render.feed import atom_date, atom_id, xml_safe
from kxsj.render.mathbuild import feed_body
from kxsj.render.plan import PageSpec, month_path, plan_site, year_path
from kxsj.render.sidebar import SIDEBAR_TEMPLATES, render_sidebar
from kxsj.render.rendered import (  # noqa: F401 - the page types, importable from here as before
    MarkdownToHtml, Page, PageMemo, RenderedPost, RenderPages, Reused, SiteRender, _check_urls, newest_first, render_posts,
)
from kxsj.render.templates import make_environment


class _Site:
    """Shared state while the pages are rendered: config, templates, URL maps."""

    def __init__(self, plan, config: Config, env: jinja2.Environment, memo: Optional[PageMemo] = None,
                 later: bool = False, to_feed: Optional[Callable[[str], str]] = None):
        self.memo = memo
        self.later: Optional[list[tuple[int, Callable[[], bytes]]]] = [] if later else None
        """Pages to render once all are known (``render_site``'s ``render_pages``): (index, make)."""
        self.later_templates: set[str] = set()
        self.config = config
        self.env = env
        self.posts = plan.posts
        self.tags, self.categories, self.series = plan.tags, plan.categories, plan.series
        # The functions read the site being rendered through the environment, not
        # from a closure: Jinja keeps the module of an imported macro file
        # (``{% from "_macros.html" import … %}``) with the globals it was first
        # made with, and the dev server renders many sites with one environment.
        env.kxsj_site = self
        env.globals.update(
            tag_url=lambda name: f"/tag/{env.kxsj_site.tags[name]}/",
            category_url=lambda name: f"/category/{env.kxsj_site.categories[name]}/",
            series_url=lambda name: f"/series/{env.kxsj_site.series[name]}/",
            year_url=year_path,
            month_url=month_path,
            # A function, not a context value: the citation follows from the post
            # and the config alone, so a page memo keyed on the context stays exact
            # and a rebuild that reuses the page never computes it.
            cite=lambda post: cite(post, env.kxsj_site.config),
            post_card=lambda rp: env.kxsj_site.post_card(rp),
            atom_date=atom_date,
            atom_id=lambda path: atom_id(env.kxsj_site.config, path),
            feed_body=to_feed or feed_body,  # formulas as MathML in the feed (kxsj.render.mathbuild)
            sidebar=lambda: env.kxsj_site.sidebar,
        )
        self.pages: list[Page] = []
        self._cards: dict[int, tuple[RenderedPost, Markup]] = {}
        # Made once per build; pages showing it carry its digest in their context, so their keys cover it.
        self.sidebar, self.sidebar_key = render_sidebar(env, [rp.post for rp in self.posts])

    def post_card(self, rp: RenderedPost) -> Markup:
        """``_macros.html``'s ``post_card(rp)``, made once per post.

        A post's card is the same on every list page showing it (the home
        page, its tags', category's, month's: eight on average), and the
        cards were most of the time spent rendering list pages.  A macro
        imported without context sees only its arguments and these globals,
        so one card per post is exact.
        """
        kept = self._cards.get(id(rp))
        if kept is None:  # the post is held with its card, so its id is not reused
            kept = self._cards[id(rp)] = (rp, self.env.get_template("_macros.html").module.post_card(rp))
        return kept[1]

    def make(self, spec: PageSpec) -> None:
        """The page of ``spec``: its template rendered with its context (through the memo, when there is one)."""
        env, context = self.env, spec.context
        if spec.template in SIDEBAR_TEMPLATES and self.config.sidebar:
            context = {**context, "sidebar_key": self.sidebar_key}

        def make() -> bytes:
            text = env.get_template(spec.template).render(page_path=spec.path, **context)
            # XML 1.0 cannot hold some characters at all, even escaped: a feed or
            # sitemap with one would be unreadable to every reader.
            return (xml_safe(text) if spec.path.endswith(".xml") else text).encode("utf-8")

        self.made(spec.path, spec.template, context, make)

    def page(self, spec: PageSpec) -> Page:
        """The page of ``spec`` rendered alone, not through the memo, once the site is made
        (``kxsj serve`` makes a saved post's pages again so)."""
        self.env.kxsj_site = self
        memo, self.memo = self.memo, None
        try:
            self.make(spec)
        finally:
            self.memo = memo
        return self.pages.pop()

    def forget_card(self, rp: RenderedPost) -> None:
        """Drop ``rp``'s card: no page shows that rendered post any more."""
        self._cards.pop(id(rp), None)

    def made(self, path: str, template: str, inputs: dict, make: Callable[[], bytes]) -> None:
        """A page ``make()`` renders from ``inputs`` (through the memo, when there is one)."""
        if self.later is not None:
            now, index = make, len(self.pages)

            def make() -> bytes:  # noqa: F811 - rendered later, with the others
                self.later.append((index, now))
                self.later_templates.add(template)
                return b""

        made = self.memo(path, template, inputs, make) if self.memo else make()
        self.pages.append(Page(path, b"", made.file) if isinstance(made, Reused) else Page(path, made))

    def render_later(self, render_pages: "RenderPages") -> None:
        """Render the pages put off by ``made``, all at once, into their places."""
        later, self.later = self.later or [], None
        for name in sorted(self.later_templates):  # compiled once here, not in every worker
            self.env.get_template(name)
        for (index, _), content in zip(later, render_pages([make for _, make in later])):
            path = self.pages[index].path
            self.pages[index] = Page(path, content) if isinstance(content, bytes) else Page(path, b"", content)


def render_site(
    posts: list[Post],
    config: Config,
    to_html: MarkdownToHtml,
    root: Optional[Path] = None,
    on_post: Optional[Callable[[int, int], None]] = None,
    env: Optional[jinja2.Environment] = None,
    memo: Optional[PageMemo] = None,
    same: Optional[Callable[[RenderedPost], RenderedPost]] = None,
    render_pages: Optional["RenderPages"] = None,
    to_feed: Optional[Callable[[str], str]] = None,
    keep: Optional[Callable[..., None]] = None,
) -> SiteRender:
    """All pages of the site for ``posts`` (already enriched: ``Post.url`` set).

    ``root`` is the site root whose own ``templates/`` override the shipped ones.
    ``on_post(done, total)`` is called after each post's HTML is made.
    ``env`` (templates compiled once) and ``memo`` (see ``PageMemo``) let
    ``kxsj serve`` re-render only the pages a save changed; ``same`` is
    ``render_posts``' hook for the same purpose.  ``render_pages``, when
    given, renders the pages that need rendering in one batch once every
    page is known (``kxsj build`` spreads them over the cores with
    ``kxsj.incremental.page_workers.call_all``); a memo then sees empty content for
    those pages, so only a memo that keeps no content (``PageStore``) goes with it.
    It may give a page as the path of a file holding it (a spool file), which
    the page then carries as its ``reuse`` file.  ``to_feed`` is
    ``kxsj.render.mathbuild.feed_body`` as the caller keeps it
    (``kxsj.incremental.feed_bodies``).  The feed may start MathJax's V8
    here: a caller that forks afterwards releases it
    (``kxsj.render.mathengine.release``).  ``keep(plan, site, result)``,
    when given, is called with the plan, the ``_Site`` and the result, for
    ``kxsj serve`` to make a few pages again after a save (``kxsj.incremental.serve_pages``).
    """
    rendered, diags = render_posts(posts, to_html, on_post, same)
    rendered, url_diags = _check_urls(rendered)
    diags += url_diags
    plan = plan_site(rendered, config)
    site = _Site(plan, config, env or make_environment(config, root), memo, later=render_pages is not None, to_feed=to_feed)
    for spec in plan.specs:
        site.make(spec)
    if render_pages is not None:
        site.render_later(render_pages)
    result = SiteRender(site.pages, diags, posts=len(rendered))
    if keep is not None:
        keep(plan, site, result)
    return result
