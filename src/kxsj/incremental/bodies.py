"""Body Markdown -> HTML, answered from the store where it can be.

Rendering Markdown is most of a build's work (Python-Markdown with the
math, code and CJK extensions), and between two builds almost every body is
unchanged.  So each body's HTML is kept in the store's ``html`` namespace
(``kxsj.incremental.store``) by a hash of its Markdown, under a key of
kxsj's code, the Markdown libraries and the site's ``RenderContext``
(``kxsj.incremental.keys``); the misses are rendered on every core
(``kxsj.incremental.workers``).

Beside the HTML, the ``facts`` namespace keeps each text's *facts*
(``html_facts``: the HTML's SHA-256 and the titles it may cite), so that a
build after one edit can key its pages without reading every body's HTML
(``CachedRenderer``); ``reading`` keeps each body's character count and
reading time.
"""

from __future__ import annotations

import hashlib
import json
import os
from typing import Callable, Iterable, Optional

from kxsj.incremental.keys import MARKDOWN_LIBRARIES, make_key
from kxsj.incremental.store import Namespace, Store
from kxsj.render.context import RenderContext


def html_key(context: RenderContext) -> str:
    """The ``html`` namespace's key: what decides the HTML a Markdown text gives."""
    return make_key("html", libraries=MARKDOWN_LIBRARIES, settings=context)


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
    (``kxsj.incremental.workers.start_render_many``) and returns a function that
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
        cache: Namespace,
        texts: Iterable[str],
        render_many: Callable[[list[str], Optional[list]], Callable[[], dict[str, str]]],
        render_one: Callable[[str], str],
        facts: Optional[Namespace] = None,
        facts_of: Optional[Callable[[str], str]] = None,
        hold: Optional[Callable[[list[str]], set[str]]] = None,
    ):
        self.cache, self._facts, self._facts_of, self._render_one = cache, facts, facts_of, render_one
        self._render_many = render_many
        self.mismatched = False
        self._owner = os.getpid()
        self._known: dict[str, str] = {}
        self._facts_known: dict[str, str] = {}
        self._trust = facts is not None and cache.dir is not None and cache.dir.is_dir()  # no HTML cache: every body would render in turn
        self._pending: list[Callable[[], dict[str, str]]] = []
        self.prefetch(texts, hold=hold)

    def prefetch(
        self, texts: Iterable[str], posts: Optional[list] = None, hold: Optional[Callable[[list[str]], set[str]]] = None,
    ) -> None:
        """Start rendering those of ``texts`` neither known nor in the store (in the background: ``render_many``).

        Called again, with the posts as they are now, for texts that changed
        after this was made (a post's own files' context line,
        ``kxsj.load.assets``), so they render with the others rather than
        one at a time as pages ask for them.  ``hold(missing)`` names the
        missing texts not to render yet: those that may still change so.
        """
        missing: list[str] = []
        for text in dict.fromkeys(texts):
            if text in self._known or text in self._facts_known:
                continue
            kept = self._facts.get(text) if self._trust and self._facts is not None else None
            if kept is not None:
                self._facts_known[text] = kept
                self.cache.touch(text)
                continue
            html = self.cache.get(text)
            if html is None:
                missing.append(text)
            else:
                self._learn(text, html)
        if hold is not None and missing:
            held = hold(missing)
            missing = [text for text in missing if text not in held]
        if missing:
            self._pending.append(self._render_many(missing, posts))

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
        while self._pending:  # the misses, rendered in the background since they were asked for
            for rendered, html in self._pending.pop(0)().items():
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


def reading_counter(store: Store) -> Callable[[str], tuple[int, int]]:
    """``kxsj.enrich.reading.chars_and_minutes`` answered from the store's ``reading`` namespace where it can be.

    Counting a body's characters and reading time means scanning it for
    math and markup: most of the enrich stage's time, for numbers that only
    change with the body.
    """
    from kxsj.enrich.reading import chars_and_minutes

    cache = store.namespace("reading", make_key("reading", length=16), shards=16)  # a few bytes an entry

    def counts(text: str) -> tuple[int, int]:
        kept = cache.get(text)
        if kept is not None:
            chars, minutes = kept.split()
            return int(chars), int(minutes)
        chars, minutes = chars_and_minutes(text)
        cache.put(text, f"{chars} {minutes}")
        return chars, minutes

    return counts


def reference_finder(store: Store) -> Callable[[str], list[tuple[int, bool, str]]]:
    """``kxsj.load.assets.references`` answered from the store's ``refs`` namespace where it can be.

    Finding a text's links means masking its code and scanning it all: most
    of the time checking every post's local links takes, for a list that
    only changes with the text.  Kept as JSON ``[line, is image, address]``.
    """
    from kxsj.load.assets import may_reference, references

    cache = store.namespace("refs", make_key("refs", length=16), shards=16)

    def found(text: str) -> list[tuple[int, bool, str]]:
        if not may_reference(text):  # an empty excerpt, a text without links: answered faster than looked up
            return []
        kept = cache.get(text)
        if kept is not None:
            return [(int(line), bool(image), str(url)) for line, image, url in json.loads(kept)]
        refs = list(references(text))
        cache.put(text, json.dumps(refs, separators=(",", ":")))
        return refs

    return found


def site_renderer(
    store: Store, texts: Iterable[str], context: RenderContext, posts: Optional[list] = None,
    hold: Optional[Callable[[list[str]], set[str]]] = None,
) -> CachedRenderer:
    """The build's Markdown -> HTML: the store's HTML, misses rendered on every core.

    The misses start rendering in worker processes at once and are waited
    for at the first lookup, so the caller can do other work meanwhile.
    Texts whose facts the store holds are not read until a page needs them
    (``CachedRenderer``).  Given the ``posts`` under ``math: build``, an
    edited post's unchanged formulas are not typeset again
    (``kxsj.incremental.typesets``).  ``hold``: see ``CachedRenderer.prefetch``.
    """
    from kxsj.enrich.links import html_mention_keys
    from kxsj.incremental.workers import default_render, start_render_many

    key = html_key(context)
    cache = store.namespace("html", key)
    one: list[Callable[[str], str]] = []

    def render_one(text: str) -> str:
        if not one:  # only a warm build with a new or failing text needs one in this process
            one.append(default_render(context))
        return one[0](text)

    facts = store.namespace("facts", make_key("facts", key), shards=16)
    typesets = posts is not None and context.math == "build"  # an edited post's formulas: kxsj.incremental.typesets
    asked: list[bool] = []
    records: dict[str, Optional[str]] = {}  # each post text's record as the build found it (previous_typesets)

    def render_many(missing: list[str], now: Optional[list]) -> Callable[[], dict[str, str]]:
        if not typesets:
            return start_render_many(missing, context)
        from kxsj.incremental.typesets import previous_typesets

        asked.append(True)
        found = previous_typesets(store, cache, posts if now is None else now, set(missing), records)
        return start_render_many(missing, context, typesets=found)

    renderer = CachedRenderer(cache, texts, render_many, render_one, facts, lambda html: html_facts(html, html_mention_keys), hold)
    if typesets and not asked:  # nothing to render: each post's record is still kept for the next build
        from kxsj.incremental.typesets import previous_typesets

        previous_typesets(store, cache, posts, set(), records)
    return renderer
