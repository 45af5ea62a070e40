"""``kxsj serve``: the build, served over HTTP, rebuilt on every save."""
