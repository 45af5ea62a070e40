"""Links the listing dumps lost, found again through the titles they name.

A dump keeps only text, but that text still names other posts the way the
author wrote them: ``在文章《生成扩散模型漫谈(一):DDPM = 拆楼 + 建楼》中``.
When the text between 《 and 》 is the title of a post in the archive, it is
a citation: ``restore_citations`` records it on both posts (``cites`` and
``cited_by``, from the Markdown, before anything is rendered, so every post
page can list who cites it), and ``TitleLinker`` turns it into a link in the
rendered HTML.

Titles are compared after NFKC normalisation with all spaces removed, since
the dumps write ``(一):`` and ``DDPM = 拆楼`` where the titles have ``（一）：``
and other spacing.  A mention is never linked inside math, code or an
existing link: the Markdown scan skips math (``kxsj.mathscan``, the one
definition of math) and code; the HTML pass touches only text outside
``<a>``, ``<code>``, ``<pre>``, ``<script>`` and the renderer's math elements,
so formulas are never rewritten.
"""

from __future__ import annotations

import functools
import hashlib
import html
import re
import unicodedata
from typing import Callable, Iterable, Optional

from kxsj.codescan import code_regions, mask_code
from kxsj.mathscan import scan
from kxsj.model import Post, PostRef

MENTION = re.compile(r"《([^《》\n]{1,200})》")
"""A title named in 《…》 (no nesting, one line)."""

_SPACES = re.compile(r"\s+")
_MD_ESCAPE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!<>$|~^&])")


@functools.lru_cache(maxsize=65536)  # the same titles are named thousands of times across the archive
def title_key(text: str) -> str:
    """The form titles are compared in: NFKC, no whitespace at all."""
    return _SPACES.sub("", unicodedata.normalize("NFKC", text))


def ref(post: Post) -> PostRef:
    return PostRef(post.url, post.title)


def title_index(posts: Iterable[Post]) -> dict[str, Post]:
    """Normalised title -> post; when two posts share a title the older one wins.

    The older one is the original; a later post of the same name is more
    likely a repost, and a mention in an old text cannot mean a newer post.
    """
    index: dict[str, Post] = {}
    for post in sorted(posts, key=lambda p: (p.date.sort_key(), p.url)):
        index.setdefault(title_key(post.title), post)
    return index


def _blank(text: str, spans: Iterable[tuple[int, int]]) -> str:
    """``text`` with each span replaced by one newline, so no 《…》 crosses it."""
    out, pos = [], 0
    for start, end in sorted(spans):
        if start < pos:
            continue
        out.append(text[pos:start])
        out.append("\n")
        pos = end
    out.append(text[pos:])
    return "".join(out)


def prose(markdown_text: str) -> str:
    """The Markdown without code and math: the text a reader reads as words."""
    code = code_regions(markdown_text)
    masked = mask_code(markdown_text) if code else markdown_text
    return _blank(markdown_text, [*code, *((m.start, m.end) for m in scan(masked))])


def mentions(markdown_text: str) -> list[str]:
    """Texts named in 《…》 in a post's Markdown, outside math and code, in order."""
    return list(_mentions(markdown_text))


@functools.lru_cache(maxsize=8192)  # kxsj serve enriches the same bodies after every save
def _mentions(markdown_text: str) -> tuple[str, ...]:
    if "《" not in markdown_text:
        return ()  # ``prose`` only takes text out, so it cannot make a 《 either
    return tuple(_mention_name(m) for m in MENTION.finditer(prose(markdown_text)))


def _mention_name(m: re.Match) -> str:
    name = m.group(1)
    return _MD_ESCAPE.sub(r"\1", name) if "\\" in name else name  # every escape starts with a backslash


def _mention_keys(text: str, name: Callable[[re.Match], str]) -> frozenset[str]:
    """``title_key`` of the ``name`` of every ``MENTION`` match of ``text``.

    When none of them is in the title index, a careful pass over pieces of
    ``text`` can find nothing to do, so this cheap test skips it exactly.
    Those passes look for mentions in runs of the text: ``prose`` replaces
    math and code by ``\\n`` and keeps the rest in order, ``TitleLinker``
    takes the text between tags, cut at math.  A match holds no ``\\n`` (and
    the replacements are never empty), so a match in a piece is a run of
    ``text`` itself, and ``finditer`` over ``text`` finds it with the same
    group: no match can start earlier and run over its 《 (matches hold no
    《), and from its 《 the greedy ``[^《》\\n]`` stops at the same 》.  So
    the keys here include those of every match the careful pass sees (and
    perhaps more, from math and code).
    """
    return frozenset(title_key(name(m)) for m in MENTION.finditer(text))


@functools.lru_cache(maxsize=8192)  # kxsj serve enriches the same bodies after every save
def _markdown_mention_keys(markdown_text: str) -> frozenset[str]:
    return _mention_keys(markdown_text, _mention_name)


def cited_posts(post: Post, index: dict[str, Post]) -> list[Post]:
    """The archive posts (``index``: ``title_index``) that ``post``'s body names, in order of first mention, itself left out."""
    if index.keys().isdisjoint(_markdown_mention_keys(post.body)):  # walks the smaller set
        return []  # no mention names an archive post: skip the math scan
    seen: set[int] = {id(post)}
    targets = []
    for name in mentions(post.body):
        target = index.get(title_key(name))
        if target is not None and id(target) not in seen:
            seen.add(id(target))
            targets.append(target)
    return targets


def restore_citations(posts: list[Post]) -> None:
    """Fill ``cites`` (order of first mention) and ``cited_by`` (newest first) on every post.

    A post naming its own title is not a citation.
    """
    index = title_index(posts)
    citing: dict[int, list[Post]] = {id(p): [] for p in posts}
    for post in posts:
        targets = cited_posts(post, index)
        post.cites = [ref(target) for target in targets]
        for target in targets:
            citing[id(target)].append(post)
    for post in posts:
        cited_by = sorted(citing[id(post)], key=lambda p: (p.date.sort_key(), p.url), reverse=True)
        post.cited_by = [ref(p) for p in cited_by]


# --------------------------------------------------------------------------
# The rendered HTML

_TAG = re.compile(
    r"<!--.*?-->"
    r"|<!\[CDATA\[.*?\]\]>"
    r"|<[!?][^>]*>"
    r"|<(/?)([A-Za-z][^\s/>]*)((?:[^>\"']|\"[^\"]*\"|'[^']*')*)>",
    re.S,
)
_VOID = frozenset(
    "area base br col embed hr img input link meta param source track wbr".split()
)
_SKIP = frozenset("a code pre script style textarea kbd samp svg math title".split())
_CLASS = re.compile(r"""\bclass\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))""", re.I)
MATH_CLASSES = frozenset({"arithmatex", "math"})
"""Elements with one of these classes hold TeX (``kxsj.render.math`` uses ``arithmatex``)."""


def _skips(name: str, attrs: str) -> bool:
    if name in _SKIP:
        return True
    m = _CLASS.search(attrs)
    if not m:
        return False
    classes = set((m.group(1) or m.group(2) or m.group(3) or "").split())
    return bool(classes & MATH_CLASSES)


def _html_mention_name(m: re.Match) -> str:
    return html.unescape(m.group(1))


# A link to a post of a site, as Python-Markdown writes it: ``href="https://kexue.fm/archives/8265"``,
# perhaps with a trailing slash, a query or a fragment.  Keys name it ``@https://kexue.fm/archives/8265``.
# The pattern starts with its literal, which lets the regex engine skip to
# each "href=" (a leading \b would make it try every position of a long
# body): that it starts a word is checked by ``_archive_href``.
_ARCHIVE_HREF = re.compile(r'(href=")(https?://[^"/\s]+)/archives/(\d+)/?([?#][^"\s]*)?"')


def _archive_href(m: re.Match) -> bool:
    """Whether the match of ``_ARCHIVE_HREF`` is an attribute: ``href`` not inside a longer word."""
    before = m.string[m.start() - 1] if m.start() else " "
    return not (before.isalnum() or before == "_")


def _archive_key(m: re.Match) -> str:
    return f"@{m.group(2)}/archives/{m.group(3)}"


def site_address(url: str) -> str:
    """``original_url`` as links are compared with it: no trailing slash, ``http`` for ``https``, no ``www.``."""
    url = url.strip().rstrip("/")
    if url.startswith("https://"):
        url = "http://" + url[len("https://") :]
    return url.replace("http://www.", "http://", 1)


def html_mention_keys(rendered: str) -> frozenset[str]:
    """Every title ``TitleLinker.link`` could look up in ``rendered`` (and perhaps more; see ``_mention_keys``),
    and every link to a site's post it could rewrite (``@<site>/archives/<id>``)."""
    keys = _mention_keys(rendered, _html_mention_name)
    if "/archives/" in rendered:
        keys |= {_archive_key(m) for m in _ARCHIVE_HREF.finditer(rendered) if _archive_href(m)}
    return keys


class TitleLinker:
    """Turns 《title》 in rendered HTML into 《<a href=…>title</a>》 for archive posts,
    and links to the original site's posts (``original_url``/archives/N) into
    links to their local pages when post N is in the archive.

    ``href`` maps a post's site URL to the address to print (the templates'
    base-aware ``href``), so links work under a sub-path.
    """

    def __init__(self, posts: Iterable[Post], href: Callable[[str], str], original_url: str = ""):
        posts = list(posts)
        self._index = title_index(posts)
        self._href = href
        self._site = site_address(original_url) if original_url else ""
        self._by_id = {}
        for post in sorted(posts, key=lambda p: (p.date.sort_key(), p.url)):
            if post.original_id is not None:
                self._by_id.setdefault(post.original_id, post)

    def _archive_post(self, key: str) -> Optional[Post]:
        """The archive post a ``@<site>/archives/<id>`` key names, if it is on the original site and here."""
        if not self._site or not key.startswith("@"):
            return None
        site, _, ident = key[1:].rpartition("/archives/")
        return self._by_id.get(int(ident)) if site_address(site) == self._site else None

    def _wanted(self, keys: frozenset[str]) -> bool:
        """Whether ``link`` has anything to do in an HTML whose keys are ``keys``."""
        return not self._index.keys().isdisjoint(keys) or any(self._archive_post(k) for k in keys if k[:1] == "@")

    def _link_archive(self, tag: str) -> str:
        """An ``<a>`` start tag with its href to an archive post's original page made local."""
        def replace(m: re.Match) -> str:
            target = self._archive_post(_archive_key(m)) if _archive_href(m) else None
            if target is None:
                return m.group(0)
            return f'{m.group(1)}{html.escape(self._href(target.url), quote=True)}{m.group(4) or ""}"'

        return _ARCHIVE_HREF.sub(replace, tag)

    def _link_text(self, text: str) -> str:
        def replace(m: re.Match) -> str:
            target = self._index.get(title_key(_html_mention_name(m)))
            if target is None:
                return m.group(0)
            address = html.escape(self._href(target.url), quote=True)
            title = html.escape(target.title, quote=True)
            return f'《<a class="post-ref" href="{address}" title="{title}">{m.group(1)}</a>》'

        if "《" not in text:
            return text
        # Guard against math the renderer left as text: never link inside it.
        spans = [(s.start, s.end) for s in scan(text)]
        if not spans:
            return MENTION.sub(replace, text)
        out, pos = [], 0
        for start, end in spans:
            out.append(MENTION.sub(replace, text[pos:start]))
            out.append(text[start:end])
            pos = end
        out.append(MENTION.sub(replace, text[pos:]))
        return "".join(out)

    def link(self, rendered: str) -> str:
        """``rendered`` with every mention outside links, code and math linked."""
        if not self._wanted(html_mention_keys(rendered)):
            # Only a mention of an indexed title is ever replaced, and every one
            # the walk below could see is among these (see ``_mention_keys``).
            return rendered
        out: list[str] = []
        stack: list[tuple[str, bool]] = []  # open elements: (name, starts a skipped region)
        skipping = 0
        pos = 0
        for m in _TAG.finditer(rendered):
            text = rendered[pos : m.start()]
            out.append(text if skipping else self._link_text(text))
            name = (m.group(2) or "").lower()
            out.append(self._link_archive(m.group(0)) if name == "a" and not m.group(1) else m.group(0))
            pos = m.end()
            if not name:
                continue  # comment, doctype, CDATA
            if m.group(1):  # end tag: close up to the matching element
                for i in range(len(stack) - 1, -1, -1):
                    if stack[i][0] == name:
                        skipping -= sum(1 for _, s in stack[i:] if s)
                        del stack[i:]
                        break
            elif name not in _VOID and not m.group(3).rstrip().endswith("/"):
                skip = _skips(name, m.group(3))
                stack.append((name, skip))
                skipping += skip
        tail = rendered[pos:]
        out.append(tail if skipping else self._link_text(tail))
        return "".join(out)

    def targets(self, keys: Iterable[str]) -> list[tuple[str, str, str]]:
        """``(key, url, title)`` of each of ``keys`` that names an archive post: all ``link`` reads of the archive."""
        found = ((key, self._index.get(key) or self._archive_post(key)) for key in sorted(keys))
        return [(key, post.url, post.title) for key, post in found if post is not None]

    def wrap(self, to_html: Callable[[str], str]) -> "LinkedHtml":
        """A Markdown -> HTML function whose output has the mentions linked."""
        return LinkedHtml(to_html, self)


class LinkedHtml:
    """Markdown -> HTML with 《title》 mentions linked, and a digest of that HTML made without making it.

    ``key(text)`` answers when ``to_html`` knows the facts of ``text``'s
    HTML without rendering it (``kxsj.incremental.bodies.CachedRenderer.facts``:
    its SHA-256 and the titles it may cite).  The linked HTML follows from
    exactly these: the HTML, and for each title it may cite, the URL and
    title of the post it names (the linker's ``href`` depends on the
    configuration only, which every page key covers).  So equal keys mean
    equal linked HTML, and a page keyed on them need not read the HTML.
    """

    def __init__(self, to_html: Callable[[str], str], linker: TitleLinker):
        self._to_html = to_html
        self._linker = linker
        self._facts = getattr(to_html, "facts", None)

    def __call__(self, text: str) -> str:
        return self._linker.link(self._to_html(text))

    def key(self, text: str) -> Optional[bytes]:
        """A digest standing for ``self(text)``, or None when only rendering would tell."""
        facts = self._facts(text) if self._facts is not None else None
        if facts is None:
            return None
        digest, *keys = facts.split("\n")
        targets = self._linker.targets(keys) if keys else []
        return hashlib.sha256(repr((digest, targets)).encode("utf-8", "surrogatepass")).digest()


def link_titles(
    to_html: Callable[[str], str], posts: Iterable[Post], href: Optional[Callable[[str], str]] = None,
    original_url: str = "",
) -> LinkedHtml:
    """``to_html`` followed by ``TitleLinker.link`` over ``posts`` (``href`` defaults to the URL itself)."""
    return TitleLinker(posts, href or (lambda url: url), original_url).wrap(to_html)
