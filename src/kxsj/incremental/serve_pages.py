"""The pages after a save that changed only one post's text: last build's plan with that post swapped in.

After such a save (``kxsj.incremental.serve_quick``) the posts are last
build's with one replaced, and planning the 2,450 pages of a 1,400-post
site again, then comparing every page's context with the page memo's,
was most of a rebuild.  ``QuickPages`` keeps the last full render's plan
(``kxsj.render.plan``) and its pages, knows which pages' contexts hold
each post, and re-makes only those, with the new post in place of the old.

Why that gives what ``render_site`` would give:

* the new post differs from the old in ``BLIND_FIELDS`` only (checked
  here on the very objects ``render_site`` gets; every other post is
  the same object as last build's);
* ``plan_site`` and ``sidebar_data`` read none of ``BLIND_FIELDS``
  (``tests/test_serve_quick_pages.py`` plans a site whose posts raise on
  any use of them), and the order ``render_posts`` and ``_check_urls``
  give follows from date, id, title and URL; so planning again gives the
  same specs, with the new post (and its ``RenderedPost``) wherever the
  old one was;
* a page is its template rendered with its context, the URL maps of the
  names (unchanged: no name changed) and the sidebar; a page whose
  context does not hold the old post is therefore unchanged, and the
  sidebar is rendered again when its data holds the post;
* contexts are looked into down to every list, tuple, dict and dataclass;
  a ``Post`` holds other posts only as ``PostRef`` (URL and title).  A
  context holding anything else keeps this class from answering at all.

Of the pages showing the post, those that read nothing of its text when
last made (a neighbour's link to it, the year's list of titles: see
``kxsj.incremental.text_reads``) are kept as they are: their other inputs
are unchanged, and what they read of the post is too.

A new body that fails to render, or a change to anything but the text,
takes the full path, which then remembers its plan for the next save.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Callable, Optional

from kxsj.model import Post
from kxsj.render.plan import PageSpec
from kxsj.render.rendered import Page, RenderedPost, SiteRender, render_posts
from kxsj.render.sidebar import render_sidebar, sidebar_data
from kxsj.incremental.serve_quick import BODY_FIELDS
from kxsj.incremental.text_reads import Watch, not_text

BLIND_FIELDS = BODY_FIELDS + ("chars", "reading_minutes")
"""A post's fields that follow from its text: the plan of the site reads none of them."""

NOT_TEXT = not_text(BLIND_FIELDS)

_COMPARED = tuple(f.name for f in dataclasses.fields(Post) if f.compare and f.name not in BLIND_FIELDS)
_LEAVES = (str, int, float, bool, bytes, type(None))
_POSTS = (Post, RenderedPost)


def only_text_differs(old: Post, new: Post) -> bool:
    """Whether ``new`` is ``old`` with other ``BLIND_FIELDS`` at most."""
    return type(old) is type(new) and all(getattr(old, n) == getattr(new, n) for n in _COMPARED)


def held_posts(value: Any) -> Optional[list]:
    """The ``Post`` and ``RenderedPost`` objects ``value`` holds, or None when it holds a kind of value not looked into."""
    found, todo = [], [value]
    while todo:
        item = todo.pop()
        kind = type(item)
        if kind in _POSTS:
            found.append(item)
        elif kind in _LEAVES or isinstance(item, str):
            continue
        elif kind is list or kind is tuple or kind is dict:
            for inner in (item if kind is not dict else [*item.keys(), *item.values()]):
                inner_kind = type(inner)  # most items are posts or text: no trip through the stack
                if inner_kind in _POSTS:
                    found.append(inner)
                elif inner_kind not in _LEAVES:
                    todo.append(inner)
        elif dataclasses.is_dataclass(item) and not isinstance(item, type):
            todo.extend(getattr(item, f.name) for f in dataclasses.fields(item))
        else:
            return None
    return found


def _swapped(value: Any, swap: dict[int, Any]) -> Any:
    """``value`` with each object whose id is in ``swap`` replaced; containers copied only where something was."""
    kind = type(value)
    if kind in _POSTS:
        return swap.get(id(value), value)
    if kind is list or kind is tuple:  # mostly lists of rendered posts: swapped without a call each
        items = [swap.get(id(item), item) if type(item) in _POSTS else _swapped(item, swap) for item in value]
        return value if all(a is b for a, b in zip(items, value)) else kind(items)
    if kind is dict:
        items = {k: _swapped(v, swap) for k, v in value.items()}  # a key is hashable: never a post
        return value if all(items[k] is v for k, v in value.items()) else items
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        changes = {}
        for f in dataclasses.fields(value):
            old = getattr(value, f.name)
            new = _swapped(old, swap)
            if new is not old:
                changes[f.name] = new
        return dataclasses.replace(value, **changes) if changes else value
    return value


class _Last:
    """What the last build rendered: its input posts, specs, pages and who shows which post."""

    def __init__(self, posts: list[Post], plan, site, result: SiteRender, to_html: Callable[[str], str]):
        self.posts = list(posts)
        self.specs: list[PageSpec] = list(plan.specs)
        self.pages = list(result.pages)
        self.diagnostics = list(result.diagnostics)
        self.count = result.posts
        self.site, self.to_html = site, to_html
        self.order = [rp.post for rp in plan.posts]
        """The posts the site shows, newest first (``site.posts``' posts, as this class swaps them)."""
        self.rendered = {id(rp.post): rp for rp in plan.posts}
        self.blind_to: dict[int, int] = {}
        """Spec index -> id of the post whose text its page, as last made, read nothing of (``kxsj.incremental.text_reads``)."""
        self.shown_by: dict[int, list[int]] = {}
        """id of a post or rendered post -> the indices of the specs whose context holds it."""
        self.complete = True
        for index, spec in enumerate(self.specs):
            held = held_posts(spec.context)
            if held is None:
                self.complete = False
                return
            for item in {id(x): x for x in held}:
                self.shown_by.setdefault(item, []).append(index)
        in_sidebar = held_posts(sidebar_data(self.order))
        self.in_sidebar = {id(p) for p in in_sidebar} if in_sidebar is not None else None


class QuickPages:
    """The last full render, and the pages after a save that changed one post's text."""

    def __init__(self) -> None:
        self._last: Optional[_Last] = None
        self.gone_texts: tuple[str, ...] = ()
        """Body and excerpt of the post the last quick answer replaced: no page uses them any more."""

    def clear(self) -> None:
        self._last = None

    def remember(self, posts: list[Post], plan, site, result: SiteRender, to_html: Callable[[str], str]) -> None:
        """``render_site``'s ``keep`` hook: the full render of ``posts`` (bodies made by ``to_html``)."""
        last = _Last(posts, plan, site, result, to_html)
        self._last = last if last.complete and last.in_sidebar is not None else None

    def after_save(self, posts: list[Post], memo) -> Optional[SiteRender]:
        """The site for ``posts``, or None when they are not last build's with one post's text changed.

        ``memo`` is the preview's ``PageMemo``: it learns the new rendered
        post.  The pages made again do not go through it (each is made
        with the saved post's stand-ins, ``kxsj.incremental.text_reads``);
        what it keeps for them stays true of what it was made from.
        """
        last = self._last
        if last is None or len(posts) != len(last.posts):
            return None
        changed = [i for i, (a, b) in enumerate(zip(last.posts, posts)) if a is not b]
        if len(changed) != 1:
            return None
        at = changed[0]
        old, new = last.posts[at], posts[at]
        old_rp = last.rendered.get(id(old))
        if old_rp is None or not only_text_differs(old, new):
            return None  # a post left out of the site (its body failed): the full path reports it
        done, failed = render_posts([new], last.to_html, same=memo.same)
        if failed or not done:
            return None
        new_rp = done[0]
        swap = {id(old): new, id(old_rp): new_rp}
        if id(old) in last.in_sidebar and not self._same_sidebar(last, swap):
            return None
        memo.carry()
        showing = sorted(set(last.shown_by.get(id(old), [])) | set(last.shown_by.get(id(old_rp), [])))
        specs = {i: _remade(last.specs[i], swap) for i in showing}
        pages: dict[int, Page] = {}
        blind: dict[int, bool] = {}
        for i in showing:
            if last.blind_to.get(i) == id(old):  # made reading nothing of the text, which is all that changed
                blind[i] = True
            else:
                pages[i], blind[i] = _watched_page(last.site, last.specs[i], (old, old_rp), (new, new_rp))
        memo.rendered += len(pages)
        self._commit(last, at, old, new, old_rp, new_rp, specs, pages)
        for i, reads_no_text in blind.items():
            if reads_no_text:
                last.blind_to[i] = id(new)
            else:
                last.blind_to.pop(i, None)
        return SiteRender(list(last.pages), list(last.diagnostics), posts=last.count)

    @staticmethod
    def _same_sidebar(last: _Last, swap: dict[int, Any]) -> bool:
        """Whether the sidebar, whose data holds the saved post, is unchanged with the new one."""
        site = last.site
        site.env.kxsj_site = site
        _, key = render_sidebar(site.env, [swap.get(id(post), post) for post in last.order])
        return key == site.sidebar_key

    def _commit(self, last: _Last, at: int, old: Post, new: Post, old_rp, new_rp, specs, pages) -> None:
        for i, spec in specs.items():
            last.specs[i] = spec
        for i, page in pages.items():
            last.pages[i] = page
        last.posts[at] = new
        last.order = [new if post is old else post for post in last.order]
        if new_rp is not old_rp:
            last.site.forget_card(old_rp)
        del last.rendered[id(old)]
        last.rendered[id(new)] = new_rp
        for before, after in ((old, new), (old_rp, new_rp)):
            if before is not after and id(before) in last.shown_by:
                last.shown_by[id(after)] = last.shown_by.pop(id(before))
        if id(old) in last.in_sidebar:
            last.in_sidebar.discard(id(old))
            last.in_sidebar.add(id(new))
        self.gone_texts = tuple(t for t in (old.body, old.excerpt) if t not in (new.body, new.excerpt))


def _watched_page(site, spec: PageSpec, old: tuple, new: tuple) -> tuple[Page, bool]:
    """The page of ``spec`` with ``new`` (post, rendered post) for ``old``; and whether it read none of the text."""
    watch = Watch(*new)
    try:
        page = site.page(_remade(spec, {id(old[0]): watch.post, id(old[1]): watch.rendered}))
        site.forget_card(watch.rendered)
        return page, watch.reads <= NOT_TEXT
    finally:
        watch.close()


def _remade(spec: PageSpec, swap: dict[int, Any]) -> PageSpec:
    return PageSpec(spec.path, spec.template, _swapped(spec.context, swap))
