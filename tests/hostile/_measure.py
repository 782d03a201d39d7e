"""Worst-case times of the tools and the chain checks on hostile inputs at the size limits.

Not collected by pytest (its name starts with `_`). Run: `.venv/bin/python -m tests.hostile._measure`.
Each case runs the installed `tfext` as a process (interpreter start included) and prints its wall time.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric import ec, rsa

from tests.hostile import _gen

TFEXT = str(Path(sys.executable).parent / "tfext")
LIMIT = 1 << 20


def fill(make_one, limit: int = LIMIT) -> str:
    """Certificates from `make_one()` until the next would pass `limit` bytes."""
    out, size = [], 0
    while True:
        pem = make_one()
        if size + len(pem) > limit:
            return "".join(out)
        out.append(pem)
        size += len(pem)


def timed(label: str, *args: str, stdin: bytes = b"") -> float:
    start = time.perf_counter()
    proc = subprocess.run([TFEXT, *args], input=stdin, capture_output=True, timeout=120)
    seconds = time.perf_counter() - start
    tail = proc.stderr.decode().strip().splitlines()[-1:] or [""]
    print(f"{seconds:6.2f} s  exit {proc.returncode}  {label}  | {tail[0][:90]}")
    return seconds


def main() -> int:
    work = Path(tempfile.mkdtemp(prefix="tfext-measure-"))
    now = ["env"]
    del now
    p521 = ec.generate_private_key(ec.SECP521R1())
    signer = _gen.ec_key()
    twin_keys = [_gen.ec_key() for _ in range(8)]
    cases = {
        "twins-p256.pem": lambda: _gen.cert_pem(
            _gen.build(_gen.name("twin"), twin_keys[0].public_key(), signer, ca=True, ski=False)
        ),
        "twins-p521-selfnamed.pem": lambda: _gen.cert_pem(
            _gen.build(_gen.name("p521"), p521.public_key(), p521, ca=True, ski=False)
        ),
    }
    big = rsa.generate_private_key(65537, 8192)
    e_max = rsa.RSAPublicNumbers((1 << 31) - 1, big.public_key().public_numbers().n).public_key()
    cases["twins-rsa8192-emax.pem"] = lambda: _gen.cert_pem(
        _gen.build(_gen.name("r"), e_max, signer, ca=True, ski=False)
    )
    huge_e = _gen.huge_exponent_rsa_public_key(rsa.generate_private_key(65537, 3072), 3071)
    cases["huge-exponent-cas.pem"] = lambda: _gen.cert_pem(
        _gen.build(_gen.name("h"), huge_e, signer, ca=True, ski=False)
    )
    worst = 0.0
    for name, make in cases.items():
        path = work / name
        path.write_text(fill(make))
        for command in ("inspect", "check-expiration"):
            worst = max(worst, timed(f"{command} {name} ({path.stat().st_size} B)", command, str(path)))
    (work / "unterminated.pem").write_bytes(b"-----BEGIN CERTIFICATE-----\n" * (LIMIT // 28))
    worst = max(worst, timed("inspect 1 MiB of BEGIN lines", "inspect", str(work / "unterminated.pem")))
    many = work / "many"
    many.mkdir()
    twins = (work / "twins-p256.pem").read_text()
    for i in range(20):
        (many / f"f{i}.pem").write_text(twins)
    worst = max(worst, timed("check-expiration DIR of 20 x 1 MiB twins", "check-expiration", str(many)))
    cert = _gen.cert_pem(_gen.build(_gen.name("s"), signer.public_key(), signer, ca=True))
    resources = []
    size = 0
    while size < (15 << 20):
        resources.append(
            {
                "mode": "data",
                "type": "x",
                "name": f"r{len(resources)}",
                "instances": [{"attributes": {"result": {"ca_cert_pem": cert + " " * 2000}}}],
            }
        )
        size += len(cert) + 2100
    state = json.dumps({"version": 4, "resources": resources}).encode()
    worst = max(
        worst,
        timed(f"check-expiration - ({len(state) >> 20} MiB state)", "check-expiration", "-", stdin=state),
    )
    deep = b"[" * (16 << 20 - 1)
    for command in ("summary", "topology", "write-assets"):
        args = (command, str(work / "out")) if command == "write-assets" else (command,)
        worst = max(worst, timed(f"{command} < 16 MiB of [", *args, stdin=deep))

    # The programs' chain check: the longest chain allowed, every intermediate with a huge exponent.
    from tfext.verify import parse_certificates

    modulus = rsa.generate_private_key(65537, 3072)
    for count in (9, 500):
        chain, _ = _gen.huge_exponent_chain(modulus, count)
        start = time.perf_counter()
        try:
            parse_certificates(chain.encode(), "apiserver", chain_allowed=True)
        except Exception as exc:  # noqa: BLE001
            outcome = str(exc)[:60]
        else:
            outcome = "parsed"
        seconds = time.perf_counter() - start
        print(f"{seconds:6.2f} s  in-process  parse chain of {count} huge-exponent intermediates | {outcome}")
        worst = max(worst, seconds)
    print(f"worst: {worst:.2f} s (goal: under 2 s)")
    return 0 if worst < 2 else 1


if __name__ == "__main__":
    sys.exit(main())
