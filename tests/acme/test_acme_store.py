"""Kore's layout under a root, permissions, atomic replacement and refused names."""

import datetime
import os
import stat

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from korepyd.acme import store
from tests.tlscerts import self_signed


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_layout_and_permissions(tmp_path):
    root = tmp_path / "keymgr"
    account = store.load_or_create_account_key(root)
    key = store.load_or_create_domain_key(root, "korepyd.test")
    store.write_fullchain(root, "korepyd.test", b"chain\n")
    assert sorted(str(p.relative_to(root)) for p in root.rglob("*")) == [
        "account-key.pem", "certificates", "certificates/korepyd.test",
        "certificates/korepyd.test/fullchain.pem", "certificates/korepyd.test/key.pem"]
    assert (root / "account-key.pem").read_bytes() == account
    assert (root / "certificates/korepyd.test/key.pem").read_bytes() == key
    for path in ("account-key.pem", "certificates/korepyd.test/key.pem", "certificates/korepyd.test/fullchain.pem"):
        assert mode(root / path) == 0o600, path
    for path in (root, root / "certificates", root / "certificates/korepyd.test"):
        assert mode(path) == 0o700, path


def test_keys_are_ec_p256_created_once(tmp_path):
    first = store.load_or_create_account_key(tmp_path)
    assert store.load_or_create_account_key(tmp_path) == first
    domain = store.load_or_create_domain_key(tmp_path, "korepyd.test")
    assert domain != first and store.load_or_create_domain_key(tmp_path, "korepyd.test") == domain
    assert store.load_or_create_domain_key(tmp_path, "a.korepyd.test") != domain
    for pem in (first, domain):
        key = serialization.load_pem_private_key(pem, None)
        assert isinstance(key, ec.EllipticCurvePrivateKey) and key.curve.name == "secp256r1"


def test_a_damaged_key_is_reported_not_replaced(tmp_path):
    (tmp_path / "account-key.pem").write_bytes(b"garbage")
    with pytest.raises(store.StoreError, match="account-key.pem: not an unencrypted PEM private key"):
        store.load_or_create_account_key(tmp_path)
    assert (tmp_path / "account-key.pem").read_bytes() == b"garbage"


def test_fullchain_replaced_atomically(tmp_path, monkeypatch):
    assert store.read_fullchain(tmp_path, "korepyd.test") is None
    store.write_fullchain(tmp_path, "korepyd.test", b"old\n")
    path = tmp_path / "certificates/korepyd.test/fullchain.pem"
    inode = path.stat().st_ino
    store.write_fullchain(tmp_path, "korepyd.test", b"new\n")
    assert store.read_fullchain(tmp_path, "korepyd.test") == b"new\n"
    assert path.stat().st_ino != inode      # a new file renamed into place, not rewritten
    assert mode(path) == 0o600

    def fail(*args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(store.StoreError, match="fullchain.pem: cannot write: No space left on device"):
        store.write_fullchain(tmp_path, "korepyd.test", b"newer\n")
    assert path.read_bytes() == b"new\n"
    assert os.listdir(path.parent) == ["fullchain.pem"]     # no temporary file left behind


@pytest.mark.parametrize("domain", ["", ".", "..", "../x", "a/b", "/etc", "a..b", ".hidden", "x.", "*.korepyd.test",
                                    "a\x00b", "a" * 64 + ".test", "é.test"])
def test_names_that_could_escape_are_refused(tmp_path, domain):
    for call in (lambda: store.load_or_create_domain_key(tmp_path, domain),
                 lambda: store.write_fullchain(tmp_path, domain, b"x"),
                 lambda: store.read_fullchain(tmp_path, domain)):
        with pytest.raises(ValueError, match="not a plain host name"):
            call()
    assert list(tmp_path.iterdir()) == []


def test_certificate_times():
    cert_pem, _ = self_signed("korepyd.test")
    cert = x509.load_pem_x509_certificate(cert_pem)
    not_before, not_after = store.certificate_times(cert_pem + self_signed("other.test")[0])
    assert (not_before, not_after) == (cert.not_valid_before_utc, cert.not_valid_after_utc)
    assert not_before.tzinfo == datetime.UTC
    with pytest.raises(store.StoreError):
        store.certificate_times(b"nothing")
