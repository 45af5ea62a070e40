"""Render stage: posts -> HTML pages (Markdown + math + Pygments through Jinja templates)."""
