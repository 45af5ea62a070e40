"""The ``kxsj`` command: parses options and wires the stages together, nothing more.

``list`` and ``check`` run load -> enrich; ``build`` runs the whole pipeline
(``kxsj.build``); ``serve`` runs the build under the dev server
(``kxsj.serve``).  Every command takes ``--root DIR`` (the site: ``posts/``,
``templates/``, ``static/``, ``kxsj.yml``) and ``--posts DIR``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import unicodedata
from pathlib import Path

from kxsj import __version__

EXIT_OK, EXIT_FAIL, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


def _port(text: str) -> int:
    """``--port``: a TCP port, 0 (any free one) to 65535."""
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number from 0 to 65535, got {text!r}") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"must be from 0 to 65535, got {port}")
    return port


def _base_url(text: str) -> str:
    """``--base-url``: checked as ``base_url`` in kxsj.yml is (``kxsj.config.normalise_base_url``)."""
    from kxsj.config import normalise_base_url

    try:
        return normalise_base_url(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _site_options() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--root", type=Path, default=argparse.SUPPRESS, help="site folder (default: current folder)")
    common.add_argument("--posts", type=Path, default=argparse.SUPPRESS, help="posts folder (default: ROOT/posts)")
    return common


def build_parser() -> argparse.ArgumentParser:
    common = _site_options()
    parser = argparse.ArgumentParser(
        prog="kxsj",
        description="Static site generator for math-heavy Chinese blog archives.",
        parents=[common],
    )
    parser.add_argument("--version", action="version", version=f"kxsj {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("list", parents=[common], help="list the posts the loader finds")
    p.add_argument("--json", action="store_true", help="print a JSON array, one object per post, newest first")

    p = sub.add_parser("check", parents=[common], help="print every diagnostic as path:line: level: message")
    p.add_argument("--drafts", action="store_true", help="include posts marked draft, as `build --drafts` does")
    p.add_argument("--strict", action="store_true", help="exit non-zero on warnings too")

    p = sub.add_parser("build", parents=[common], help="write the site to the output folder")
    p.add_argument("--out", type=Path, default=None, help="output folder (default: ROOT/public)")
    p.add_argument("--base-url", type=_base_url, default=None, help="absolute address the site is served from, e.g. https://user.github.io/repo/")
    p.add_argument("--drafts", action="store_true", help="include posts marked draft")
    p.add_argument("--strict", action="store_true", help="fail the build on any warning")
    p.add_argument("--no-cache", dest="cache", action="store_false",
                   help="neither read nor write the output's .kxsj-cache: make everything again (same output)")

    p = sub.add_parser("new", parents=[common], help="write a new post with its front matter into the posts folder")
    p.add_argument("title", help="the post's title")
    p.add_argument("--slug", default=None, help="file name and address (/posts/SLUG/); default: the title's ASCII words, else YYYY-MM-DD-N")
    p.add_argument("--tags", default="", help="comma-separated tags, e.g. 概率,生成模型")
    p.add_argument("--categories", default="", help="comma-separated categories")

    p = sub.add_parser("init", help="make a new site in DIR that builds at once")
    p.add_argument("dir", type=Path, help="folder for the new site (new or empty)")
    p.add_argument("--title", default=None, help="site title (default: the folder's name)")
    p.add_argument("--install", default=None, help="what the Pages workflow installs, e.g. 'kxsj @ git+https://github.com/you/kxsj' (default: where this kxsj came from)")

    p = sub.add_parser("serve", parents=[common], help="build, serve and rebuild on every save")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1)")
    p.add_argument("--port", type=_port, default=8000, help="port (default: 8000; the next free one is used if taken)")
    p.add_argument("--drafts", action="store_true", help="include posts marked draft")
    p.add_argument("--out", type=Path, default=None, help=argparse.SUPPRESS)
    return parser


def _paths(args: argparse.Namespace) -> tuple[Path, Path]:
    root = Path(getattr(args, "root", None) or Path.cwd())
    posts = Path(getattr(args, "posts", None) or root / "posts")
    return root, posts


def _load_enriched(args: argparse.Namespace):
    """Load -> enrich, with the config's diagnostics first."""
    from kxsj.config import load_config
    from kxsj.enrich import enrich
    from kxsj.load import load_posts

    root, posts_dir = _paths(args)
    config, diags = load_config(root)
    result = load_posts(posts_dir, config, root=root)
    diags.extend(result.diagnostics)
    posts = enrich(result.posts, config, diags)
    return config, posts, diags


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _cut(text: str, width: int) -> str:
    out, w = [], 0
    for ch in text:
        cw = 2 if unicodedata.east_asian_width(ch) in "WF" else 1
        if w + cw > width:
            return "".join(out)[:-1] + "…" if out else ""
        out.append(ch)
        w += cw
    return "".join(out) + " " * (width - w)


def cmd_list(args: argparse.Namespace) -> int:
    _config, posts, diags = _load_enriched(args)
    if args.json:
        json.dump([p.to_json() for p in posts], sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
        return EXIT_OK
    rows = [(p.date.iso(), p.title + (" [draft]" if p.draft else ""), ", ".join(p.tags), p.url) for p in posts]
    title_w = min(48, max((_width(r[1]) for r in rows), default=5))
    tags_w = min(28, max((_width(r[2]) for r in rows), default=4))
    print(f"{'date':<10}  {_cut('title', title_w)}  {_cut('tags', tags_w)}  url")
    for date, title, tags, url in rows:
        print(f"{date:<10}  {_cut(title, title_w)}  {_cut(tags, tags_w)}  {url}")
    errors = sum(d.level == "error" for d in diags)
    warnings = sum(d.level == "warning" for d in diags)
    print(f"{len(posts)} posts; {errors} errors, {warnings} warnings (run `kxsj check` for details)", file=sys.stderr)
    return EXIT_OK


def cmd_check(args: argparse.Namespace) -> int:
    """What ``kxsj build`` would report, without rendering: the same stages, the same diagnostics."""
    from kxsj.build import BuildOptions
    from kxsj.posts import load_site_posts
    from kxsj.config import load_config
    from kxsj.write.search import search_indexer

    root, posts_dir = _paths(args)
    config, diags = load_config(root)
    options = BuildOptions(root=root, posts_dir=posts_dir, out_dir=root / "public", drafts=args.drafts)
    posts, found = load_site_posts(options, config)
    diags += found
    diags += search_indexer(config)[1]
    for d in diags:
        print(d)
    errors = sum(d.level == "error" for d in diags)
    warnings = sum(d.level == "warning" for d in diags)
    print(f"{len(posts)} posts checked: {errors} errors, {warnings} warnings", file=sys.stderr)
    if errors or (args.strict and warnings):
        return EXIT_FAIL
    return EXIT_OK


def cmd_build(args: argparse.Namespace) -> int:
    from kxsj.build import BuildOptions, build_site

    root, posts_dir = _paths(args)
    options = BuildOptions(
        root=root,
        posts_dir=posts_dir,
        out_dir=args.out or root / "public",
        base_url=args.base_url,
        drafts=args.drafts,
        strict=args.strict,
        cache=args.cache,
        progress=sys.stderr.isatty(),
    )
    report = build_site(options)
    for d in report.diagnostics:
        if d.level != "info":
            print(d, file=sys.stderr)
    print(report.summary())
    return EXIT_OK if report.ok else EXIT_FAIL


def cmd_serve(args: argparse.Namespace) -> int:
    from kxsj.serve import serve

    root, posts_dir = _paths(args)
    return serve(root=root, posts_dir=posts_dir, host=args.host, port=args.port, drafts=args.drafts, out_dir=args.out)


def _split(text: str) -> list[str]:
    return [t.strip() for t in text.replace("，", ",").split(",") if t.strip()]


def cmd_new(args: argparse.Namespace) -> int:
    from kxsj.scaffold import ScaffoldError, new_post

    _root, posts_dir = _paths(args)
    try:
        path = new_post(posts_dir, args.title, args.slug, _split(args.tags), _split(args.categories))
    except ScaffoldError as exc:
        print(f"kxsj: error: {exc}", file=sys.stderr)
        return EXIT_FAIL
    print(path)
    return EXIT_OK


def cmd_init(args: argparse.Namespace) -> int:
    from kxsj.scaffold import ScaffoldError, init_site, install_spec

    spec = args.install or install_spec()
    try:
        written = init_site(args.dir, args.title, spec)
    except ScaffoldError as exc:
        print(f"kxsj: error: {exc}", file=sys.stderr)
        return EXIT_FAIL
    for path in written:
        print(path)
    print(f"The Pages workflow installs {spec!r} (--install to change it). Next: cd {args.dir} && kxsj serve", file=sys.stderr)
    return EXIT_OK


COMMANDS = {"list": cmd_list, "check": cmd_check, "build": cmd_build, "serve": cmd_serve, "new": cmd_new, "init": cmd_init}


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not args.command:
        parser.print_help()
        return EXIT_USAGE
    root, posts_dir = _paths(args)
    if not root.is_dir():
        print(f"kxsj: error: site folder {root} does not exist; pass --root DIR", file=sys.stderr)
        return EXIT_USAGE
    try:
        return COMMANDS[args.command](args)
    except KeyboardInterrupt:
        print("kxsj: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # `kxsj list | head`: the reader left; not an error.
        sys.stderr.close()
        return EXIT_OK
    except Exception as exc:  # a bug in kxsj, not bad input: say so briefly
        if os.environ.get("KXSJ_DEBUG"):
            raise
        print(f"kxsj: internal error: {type(exc).__name__}: {exc} (set KXSJ_DEBUG=1 for the traceback, and please report it)", file=sys.stderr)
        return EXIT_FAIL


def run() -> None:
    """The process entry point (``kxsj``, ``python -m kxsj``): ``main``, then exit at once.

    Everything a command writes is flushed or closed when ``main`` returns,
    and the build stops its workers itself, so the interpreter's teardown
    (freeing a large archive's objects one by one, which a large archive
    feels: ``benchmarks/README.md``, "Measured costs") is skipped.  ``main`` itself returns normally, for callers in
    a process of their own.
    """
    code = main()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # the reader left (`kxsj list | head`), or the stream is closed
            pass
    os._exit(code)
