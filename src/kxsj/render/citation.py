"""The "how to cite this post" box, in the style the original site used.

kexue.fm ends every post with an APA-like line and a BibTeX entry; readers
copy them into papers, so the archive keeps exactly that shape::

    苏剑林. (Nov. 15, 2021). 《WGAN新方案：通过梯度归一化来实现L约束》[Blog post]. Retrieved from https://kexue.fm/archives/8757

    @online{kexuefm-8757,
            title={WGAN新方案：通过梯度归一化来实现L约束},
            author={苏剑林},
            year={2021},
            month={Nov},
            url={\\url{https://kexue.fm/archives/8757}},
    }

The address is the original one when known (citations should outlive the
archive), else this site's own.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from kxsj.config import Config
from kxsj.model import MONTH_NAMES, Post
from kxsj.render.templates import absolute


@dataclass(frozen=True)
class Citation:
    text: str
    bibtex: str
    url: str


def _cite_date(post: Post) -> str:
    """``Nov. 15, 2021`` (day zero-padded, as the original prints it); ``n.d.`` year when unknown."""
    date = post.date
    year = str(date.year) if date.year is not None else "n.d."
    return f"{MONTH_NAMES[date.month - 1]}. {date.day:02d}, {year}"


def _bibtex_key(post: Post, url: str) -> str:
    """``kexuefm-8757``: the host without dots and ``www``, then the post's id or slug."""
    host = urlsplit(url).hostname or "post"
    host = re.sub(r"^www\.", "", host).replace(".", "")
    ident = str(post.original_id) if post.original_id is not None else (post.slug or "post")
    # BibTeX keys may not contain spaces, commas or braces.
    return re.sub(r"[\s,{}%#\\]+", "-", f"{host}-{ident}")


def _braced(text: str) -> str:
    """A value safe between BibTeX braces: unbalanced braces would end the field early."""
    return text.replace("{", "(").replace("}", ")") if text.count("{") != text.count("}") else text


def cite(post: Post, config: Config) -> Citation:
    """The citation line and BibTeX entry for ``post``."""
    author = post.author or config.author or config.title
    url = post.original_url or absolute(config, post.url)
    text = f"{author}. ({_cite_date(post)}). 《{post.title}》[Blog post]. Retrieved from {url}"
    fields = [("title", _braced(post.title)), ("author", _braced(author))]
    if post.date.year is not None:
        fields.append(("year", str(post.date.year)))
    fields.append(("month", MONTH_NAMES[post.date.month - 1]))
    fields.append(("url", "\\url{" + url + "}"))
    lines = [f"@online{{{_bibtex_key(post, url)},"]
    lines += [f"        {name}={{{value}}}," for name, value in fields]
    lines.append("}")
    return Citation(text=text, bibtex="\n".join(lines), url=url)
