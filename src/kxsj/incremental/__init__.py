"""Everything kxsj does only to be fast, in one place.

The stages (``kxsj.load``, ``kxsj.enrich``, ``kxsj.render``, ``kxsj.write``)
are plain functions over plain data; each takes optional hooks (a ``parse``
memo, a ``reading`` counter, a page ``memo``...).  This package supplies
them, and deleting ``OUT/.kxsj-cache`` or building with ``--no-cache``
changes no output, only the time it takes.

* ``session``: ``Incremental``, what ``kxsj build`` asks for at each stage;
* ``keys``: the one way keys are made (kxsj's code, library versions,
  ``kxsj.render.context.RenderContext``);
* ``store``: namespaces of kept results, on disk in the output for
  ``kxsj build``, in memory for ``kxsj serve``; ``sealed``: the sealed file
  format every cache file uses (nothing read back can run code);
* ``bodies``: body Markdown -> HTML, facts, reading counts and each text's
  links from the store;
* ``parse`` (+ ``parse_codec``): parse results of unchanged files;
* ``related``: the related-posts answer while titles and tags stay;
* ``pages``: pages of the previous output reused when their key is unchanged;
* ``feed_bodies``: the feed's bodies with their formulas as MathML;
* ``typesets``: an edited post's formulas typeset before, reused when its
  formulas did not change (``math: build``);
* ``templates``: compiled templates, in the user's cache folder;
* ``stamp``: nothing changed since the last build -> nothing to do;
* ``workers``, ``page_workers``: bodies and pages rendered on every core,
  by ``forked_pool``'s workers (stopped at any moment without a hang);
* ``serve_memo``, ``serve_quick``, ``serve_pages``: the dev server's memos
  and its fast path for a save that changed one Markdown body (the posts
  of the last build with that one swapped in, then only the pages showing it).
"""
