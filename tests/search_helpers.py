"""Helpers for the search tests: the posts' visible text, read in the browser.

The truth a search is measured against is computed independently of the
index: each post page listed in the sitemap is fetched and parsed by the
browser (DOMParser), and the text of its article is taken, less what the
search leaves out on purpose (rendered math, the date and tag line, notes).
"""

from __future__ import annotations

ARTICLE_TEXTS_JS = """
async () => {
  const root = new URL("../", location.href);
  const sitemap = await (await fetch(new URL("sitemap.xml", root))).text();
  const pages = [...sitemap.matchAll(/<loc>([^<]+)<\\/loc>/g)]
    .map((m) => new URL(m[1], root).pathname)
    .filter((p) => /\\/archives\\/[^/]+\\/$/.test(p));
  const texts = {};
  for (const path of pages) {
    const html = await (await fetch(path)).text();
    const doc = new DOMParser().parseFromString(html, "text/html");
    const article = doc.querySelector("article.post");
    if (!article) continue;
    const tags = [...doc.querySelectorAll("article.post .post-meta a.tag")].map((a) => a.textContent.replace(/^#/, ""));
    article.querySelectorAll(".arithmatex, .post-meta, .series-note, .reading-info, .excerpt-note, .original-link, [hidden], script, style")
      .forEach((e) => e.remove());
    texts[path] = { text: article.textContent.toLowerCase(), title: doc.querySelector("h1.post-title").textContent, tags };
  }
  return texts;
}
"""


def article_texts(page) -> dict[str, dict]:
    """{site path: {text (lowercased), title, tags}} of every post; ``page`` is on a page of the site."""
    return page.evaluate(ARTICLE_TEXTS_JS)


def holding(texts: dict[str, dict], term: str) -> set[str]:
    """The posts whose visible text holds ``term`` (case-insensitive)."""
    return {path for path, post in texts.items() if term.lower() in post["text"]}
