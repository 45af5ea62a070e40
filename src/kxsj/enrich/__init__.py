"""Enrich stage: cross-post facts (URLs, series, links, related posts) added to loaded posts."""
