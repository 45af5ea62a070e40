"""The cache key and the sealed file format (``kxsj.incremental.sealed``)."""

from __future__ import annotations

import os
import stat

import pytest

from kxsj.incremental import sealed as sealed_cache
from kxsj.incremental.sealed import KEY_ENV, cache_key, pack_records, seal, unpack_records, unseal, user_cache_dir


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv(KEY_ENV, raising=False)
    sealed_cache._key_from_file.cache_clear()
    yield tmp_path / "xdg" / "kxsj"
    sealed_cache._key_from_file.cache_clear()


def test_the_key_is_made_once_private_and_kept(home):
    assert user_cache_dir() == home
    key = cache_key()
    path = home / "key"
    assert len(key) == 32 and bytes.fromhex(path.read_text().strip()) == key
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    sealed_cache._key_from_file.cache_clear()
    assert cache_key() == key, "another process reads the same key"
    assert [p.name for p in home.iterdir()] == ["key"], "no temporary file is left"


def test_an_empty_environment_variable_means_the_key_file(home, monkeypatch):
    """The workflow passes an empty KXSJ_CACHE_KEY when the repository has no such secret."""
    from_file = cache_key()
    monkeypatch.setenv(KEY_ENV, "")
    assert cache_key() == from_file
    monkeypatch.setenv(KEY_ENV, "ci secret")
    assert cache_key() not in (from_file, b"ci secret") and len(cache_key()) == 32
    monkeypatch.setenv(KEY_ENV, "another secret")
    sealed = seal("x", b"payload")
    monkeypatch.setenv(KEY_ENV, "ci secret")
    assert unseal("x", sealed) is None


@pytest.mark.skipif(not hasattr(os, "getuid"), reason="POSIX permissions")
def test_a_key_file_others_can_write_or_a_symlink_is_not_trusted(home, tmp_path):
    home.mkdir(parents=True)
    planted = "ab" * 32
    (home / "key").write_text(planted + "\n")
    os.chmod(home / "key", 0o666)
    assert cache_key() != bytes.fromhex(planted)
    sealed_cache._key_from_file.cache_clear()
    (home / "key").unlink()
    (tmp_path / "elsewhere").write_text(planted + "\n")
    os.chmod(tmp_path / "elsewhere", 0o600)
    (home / "key").symlink_to(tmp_path / "elsewhere")
    assert cache_key() != bytes.fromhex(planted)


def test_an_unwritable_cache_folder_gives_a_key_for_this_process_only(home):
    home.parent.mkdir()
    home.write_text("a file where the folder should be")
    one = cache_key()
    sealed_cache._key_from_file.cache_clear()
    assert len(one) == 32 and cache_key() != one, "nothing to share: each process has its own, and trusts no old cache"


def test_a_sealed_file_opens_only_under_its_own_label_and_whole(home):
    data = seal("html/k/0a", b"payload")
    assert unseal("html/k/0a", data) == b"payload"
    assert unseal("facts/k/0a", data) is None
    assert unseal("html/k/0a", data[:-1]) is None
    assert unseal("html/k/0a", data + b"x") is None
    assert unseal("html/k/0a", b"") is None


def test_records_round_trip_and_a_cut_payload_is_refused():
    records = {b"k" * 32: "<p>一</p>".encode(), b"": b"", b"\xff": b"\x00" * 300}
    payload = pack_records(records)
    assert unpack_records(payload) == records
    for end in range(len(payload)):
        cut = unpack_records(payload[:end])  # whole records, or nothing: never a record cut short
        assert cut is None or all(records[k] == v for k, v in cut.items()), end
    assert unpack_records(payload[:-1]) is None
