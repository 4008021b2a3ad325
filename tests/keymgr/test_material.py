"""keymgr's checks of the files it reads, and rand_file."""

import pytest
from cryptography.hazmat.primitives import serialization

from korepyd.config import model
from korepyd.keymgr.material import MaterialError, check, load_files, refresh_rand_file
from tests.tlscerts import self_signed


def test_a_matching_pair_is_loaded(tmp_path, monkeypatch):
    cert, key = self_signed("a.test")
    (tmp_path / "a.pem").write_bytes(cert)
    (tmp_path / "a.key").write_bytes(key)
    monkeypatch.chdir(tmp_path)
    material = load_files(model.Domain("a.test", "tls", certfile="a.pem", certkey="a.key"))
    assert (material.domain, material.chain, material.key) == ("a.test", cert, key)


def test_missing_file_names_domain_and_path(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(MaterialError, match=r"domain a.test: cannot read certfile 'nope.pem' from keymgr's root"):
        load_files(model.Domain("a.test", "tls", certfile="nope.pem", certkey="a.key"))


def test_mismatches_and_garbage():
    cert, key = self_signed("a.test")
    _, other = self_signed("a.test")
    with pytest.raises(MaterialError, match="not the key of the certificate"):
        check("a.test", cert, other)
    with pytest.raises(MaterialError, match="holds no PEM certificate"):
        check("a.test", b"garbage", key)
    with pytest.raises(MaterialError, match="not an unencrypted PEM private key"):
        check("a.test", cert, b"garbage")
    private = serialization.load_pem_private_key(key, None)
    encrypted = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                      serialization.BestAvailableEncryption(b"secret"))
    with pytest.raises(MaterialError, match="not an unencrypted PEM private key"):
        check("a.test", cert, encrypted)


def test_rand_file_is_replaced_with_fresh_bytes(tmp_path):
    path = tmp_path / "rand"
    refresh_rand_file(str(path))
    first = path.read_bytes()
    refresh_rand_file(str(path))
    assert len(first) == 1024 and path.read_bytes() != first
    assert path.stat().st_mode & 0o777 == 0o600
    with pytest.raises(MaterialError, match="rand_file"):
        refresh_rand_file(str(tmp_path / "no" / "such" / "dir"))
