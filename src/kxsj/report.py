"""What a build is asked to do (``BuildOptions``) and what it reports (``BuildReport``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from kxsj.model import Diagnostic


@dataclass
class BuildOptions:
    root: Path
    posts_dir: Path
    out_dir: Path
    base_url: Optional[str] = None
    """Overrides ``base_url`` from ``kxsj.yml`` (``--base-url``)."""
    drafts: bool = False
    strict: bool = False
    cache: bool = True
    """Read and write ``.kxsj-cache``; False (``--no-cache``) makes everything again, to the same output."""
    progress: bool = False
    """Show ``rendered N/M posts`` on stderr once the build has run over a second."""


@dataclass
class BuildReport:
    posts: int
    pages: int
    seconds: float
    diagnostics: list[Diagnostic] = field(default_factory=list)
    ok: bool = True
    out_dir: Path = Path("public")
    written: bool = False
    """Whether the new output was swapped in (False on a failed or strict build)."""

    def count(self, level: str) -> int:
        return sum(1 for d in self.diagnostics if d.level == level)

    def summary(self) -> str:
        """``built 36 posts, 112 pages, 0 warnings in 0.84 s -> public/``"""
        warnings, errors = self.count("warning"), self.count("error")
        problems = f"{warnings} warning{'s' if warnings != 1 else ''}"
        if errors:
            problems += f", {errors} error{'s' if errors != 1 else ''}"
        out = f"{self.out_dir}/" if not str(self.out_dir).endswith("/") else str(self.out_dir)
        verb = "built" if self.written else "FAILED, kept the previous output; rendered"
        return f"{verb} {self.posts} posts, {self.pages} pages, {problems} in {self.seconds:.2f} s -> {out}"
