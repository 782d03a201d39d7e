"""Private keys: generating, PEM formats out, PKCS#1 / SEC1 / PKCS#8 in, and safe errors."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa, x25519

from tfext import keys
from tfext.errors import Code, TfextError

from ._pki import digest, key_fingerprint, leaked_lines, pem_block_count, pem_footer, pem_header, redact, spki

ALL_ALGORITHMS = tuple(keys.KEY_ALGORITHMS)
FAST_ALGORITHMS = ("RSA-2048", "ECDSA-P256", "ECDSA-P384", "ED25519")
PRIVATE = serialization.PrivateFormat
NO_ENCRYPTION = serialization.NoEncryption()


@pytest.fixture(scope="module")
def generated(large_rsa_leaves) -> dict:
    """One key per algorithm; RSA-3072/4096 are the keys keys.generate drew for the session's large leaves."""
    fast = {name: keys.generate(name) for name in FAST_ALGORITHMS}
    return fast | {alg: leaf.key for alg, (_, leaf) in large_rsa_leaves.items()}


def _pem(key, fmt, encryption=NO_ENCRYPTION) -> str:
    return key.private_bytes(serialization.Encoding.PEM, fmt, encryption).decode("ascii")


def _same_key(a, b) -> None:
    assert spki(a) == spki(b), f"key {key_fingerprint(a)} != {key_fingerprint(b)}"


def test_the_default_algorithm_is_tectonics_rsa_2048_and_the_default_format_traditional():
    assert keys.DEFAULT_KEY_ALGORITHM == "RSA-2048"
    assert keys.DEFAULT_KEY_FORMAT == "traditional"
    assert set(keys.KEY_FORMATS) == {"traditional", "pkcs8"}
    assert set(ALL_ALGORITHMS) == {"RSA-2048", "RSA-3072", "RSA-4096", "ECDSA-P256", "ECDSA-P384", "ED25519"}


@pytest.mark.parametrize("algorithm", ALL_ALGORITHMS)
def test_generate_gives_a_key_of_the_named_algorithm(generated, algorithm):
    key = generated[algorithm]
    spec = keys.KEY_ALGORITHMS[algorithm]
    if spec.family == "RSA":
        assert isinstance(key, rsa.RSAPrivateKey)
        assert key.key_size == spec.size
        assert key.public_key().public_numbers().e == 65537
    elif spec.family == "ECDSA":
        assert isinstance(key, ec.EllipticCurvePrivateKey)
        assert key.curve.name == {"ECDSA-P256": "secp256r1", "ECDSA-P384": "secp384r1"}[algorithm]
    else:
        assert isinstance(key, ed25519.Ed25519PrivateKey)
    assert keys.family(key) == spec.family
    assert keys.family(key.public_key()) == spec.family


def test_generate_draws_a_fresh_key_each_time():
    assert spki(keys.generate("ECDSA-P256")) != spki(keys.generate("ECDSA-P256"))


@pytest.mark.parametrize(
    ("algorithm", "description"),
    [
        ("RSA-2048", "RSA-2048"),
        ("RSA-4096", "RSA-4096"),
        ("ECDSA-P256", "ECDSA-secp256r1"),
        ("ECDSA-P384", "ECDSA-secp384r1"),
        ("ED25519", "ED25519"),
    ],
)
def test_describe_names_the_algorithm_and_size_without_secrets(generated, algorithm, description):
    assert keys.describe(generated[algorithm]) == description
    assert keys.describe(generated[algorithm].public_key()) == description


@pytest.mark.parametrize(
    ("algorithm", "header"),
    [
        ("RSA-2048", "-----BEGIN RSA PRIVATE KEY-----"),  # PKCS#1, as Tectonic wrote them
        ("RSA-3072", "-----BEGIN RSA PRIVATE KEY-----"),
        ("RSA-4096", "-----BEGIN RSA PRIVATE KEY-----"),
        ("ECDSA-P256", "-----BEGIN EC PRIVATE KEY-----"),  # SEC1
        ("ECDSA-P384", "-----BEGIN EC PRIVATE KEY-----"),
        ("ED25519", "-----BEGIN PRIVATE KEY-----"),  # Ed25519 has only PKCS#8
    ],
)
def test_traditional_format_is_pkcs1_for_rsa_sec1_for_ec_and_pkcs8_for_ed25519(generated, algorithm, header):
    pem = keys.to_pem(generated[algorithm], "traditional")
    assert pem_header(pem) == header
    assert pem_footer(pem) == header.replace("BEGIN", "END")
    assert pem_block_count(pem) == 1
    encrypted = "ENCRYPTED" in pem
    assert not encrypted


@pytest.mark.parametrize("algorithm", ALL_ALGORITHMS)
def test_pkcs8_format_is_begin_private_key_for_every_algorithm(generated, algorithm):
    pem = keys.to_pem(generated[algorithm], "pkcs8")
    assert pem_header(pem) == "-----BEGIN PRIVATE KEY-----"
    assert pem_block_count(pem) == 1


def test_the_default_format_is_traditional(generated):
    assert digest(keys.to_pem(generated["RSA-2048"])) == digest(
        keys.to_pem(generated["RSA-2048"], "traditional")
    )


@pytest.mark.parametrize("algorithm", FAST_ALGORITHMS)
@pytest.mark.parametrize("key_format", keys.KEY_FORMATS)
def test_serialized_keys_load_back_as_the_same_key(generated, algorithm, key_format):
    key = generated[algorithm]
    loaded = keys.load_private_key(keys.to_pem(key, key_format), "test key")
    _same_key(loaded, key)
    assert keys.family(loaded) == keys.family(key)


@pytest.mark.parametrize(
    ("algorithm", "fmt", "header"),
    [
        ("RSA-2048", PRIVATE.TraditionalOpenSSL, "BEGIN RSA PRIVATE KEY"),
        ("RSA-2048", PRIVATE.PKCS8, "BEGIN PRIVATE KEY"),
        ("ECDSA-P256", PRIVATE.TraditionalOpenSSL, "BEGIN EC PRIVATE KEY"),
        ("ECDSA-P256", PRIVATE.PKCS8, "BEGIN PRIVATE KEY"),
        ("ECDSA-P384", PRIVATE.TraditionalOpenSSL, "BEGIN EC PRIVATE KEY"),
        ("ECDSA-P384", PRIVATE.PKCS8, "BEGIN PRIVATE KEY"),
        ("ED25519", PRIVATE.PKCS8, "BEGIN PRIVATE KEY"),
    ],
)
def test_load_private_key_accepts_pkcs1_sec1_and_pkcs8_written_by_others(generated, algorithm, fmt, header):
    key = generated[algorithm]
    pem = _pem(key, fmt)
    assert pem_header(pem) == f"-----{header}-----"
    _same_key(keys.load_private_key(pem, "ca_key_pem"), key)


def test_load_private_key_tolerates_surrounding_text_and_crlf(generated):
    key = generated["ECDSA-P256"]
    pem = "a comment line\r\n" + _pem(key, PRIVATE.PKCS8).replace("\n", "\r\n")
    _same_key(keys.load_private_key(pem, "ca_key_pem"), key)


@pytest.mark.parametrize(
    ("algorithm", "fmt"),
    [
        ("RSA-2048", PRIVATE.TraditionalOpenSSL),  # Proc-Type: 4,ENCRYPTED
        ("RSA-2048", PRIVATE.PKCS8),  # BEGIN ENCRYPTED PRIVATE KEY
        ("ECDSA-P256", PRIVATE.TraditionalOpenSSL),
        ("ED25519", PRIVATE.PKCS8),
    ],
)
def test_encrypted_keys_are_rejected_with_encrypted_key_and_no_key_material(generated, algorithm, fmt):
    pem = _pem(generated[algorithm], fmt, serialization.BestAvailableEncryption(b"correct horse"))
    with pytest.raises(TfextError) as info:
        keys.load_private_key(pem, "ca_key_pem")
    assert [p.code for p in info.value.problems] == [Code.ENCRYPTED_KEY]
    assert leaked_lines(pem, str(info.value)) == 0, "key material in the message"
    message = redact(str(info.value), pem)
    assert message.startswith("TFEXT-E025 ca_key_pem:")
    assert "decrypt" in message  # says what to do


def _garbage_cases(generated) -> dict[str, str]:
    pem = keys.to_pem(generated["RSA-2048"], "pkcs8")
    lines = pem.splitlines()
    corrupted = "\n".join([lines[0], *[line[::-1] for line in lines[1:-1]], lines[-1]]) + "\n"
    truncated = "\n".join(lines[: len(lines) // 2] + [lines[-1]]) + "\n"
    return {
        "plain text": "hello, I am not a key\n",
        "empty": "",
        "header only": "-----BEGIN PRIVATE KEY-----\n-----END PRIVATE KEY-----\n",
        "corrupted body": corrupted,
        "truncated body": truncated,
        "not base64": "-----BEGIN RSA PRIVATE KEY-----\n!!!!****\n-----END RSA PRIVATE KEY-----\n",
        "public key": generated["ECDSA-P256"]
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode(),
        "non-ascii": "-----BEGIN PRIVATE KEY-----\nüüüü\n-----END PRIVATE KEY-----\n",
    }


@pytest.mark.parametrize(
    "case",
    [
        "plain text",
        "empty",
        "header only",
        "corrupted body",
        "truncated body",
        "not base64",
        "public key",
        "non-ascii",
    ],
)
def test_garbage_is_rejected_with_not_pem_and_no_key_material(generated, case):
    text = _garbage_cases(generated)[case]
    with pytest.raises(TfextError) as info:
        keys.load_private_key(text, "apiserver key (/etc/k.pem)")
    assert [p.code for p in info.value.problems] == [Code.NOT_PEM]
    assert leaked_lines(text, str(info.value)) == 0, "key material in the message"
    assert "apiserver key (/etc/k.pem)" in redact(str(info.value), text)  # names where


@pytest.mark.parametrize(
    "key_type", [x25519.X25519PrivateKey, ed448.Ed448PrivateKey], ids=["x25519", "ed448"]
)
def test_a_key_type_go_cannot_use_for_tls_is_unsupported(key_type):
    # X25519 cannot sign at all; Ed448 can, but Go's crypto/x509 (etcd, Kubernetes) cannot use it
    pem = _pem(key_type.generate(), PRIVATE.PKCS8)
    with pytest.raises(TfextError) as info:
        keys.load_private_key(pem, "ca_key_pem")
    assert [p.code for p in info.value.problems] == [Code.UNSUPPORTED_KEY]
    assert leaked_lines(pem, str(info.value)) == 0, "key material in the message"


def test_public_key_matches_only_its_own_private_key(generated):
    rsa_key, ec_key = generated["RSA-2048"], generated["ECDSA-P256"]
    assert keys.public_key_matches(rsa_key, rsa_key.public_key())
    assert keys.public_key_matches(ec_key, ec_key.public_key())
    assert not keys.public_key_matches(ec_key, keys.generate("ECDSA-P256").public_key())
    assert not keys.public_key_matches(rsa_key, ec_key.public_key())
    assert not keys.public_key_matches(generated["ED25519"], generated["ECDSA-P384"].public_key())
