"""Load stage: files in ``posts/`` -> ``LoadResult`` of ``Post`` objects."""
