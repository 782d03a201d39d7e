"""Fixtures of the interop suite: the PKI variants (Terraform applied once per variant and session), the
services of one test (always stopped), and their logs shown when a test fails."""

from __future__ import annotations

import pytest

from ._pki import ALGORITHMS, VARIANTS, Pki, build_generated, build_user_provided, parse_variant
from ._procs import Services

_SERVICES = pytest.StashKey[Services]()


class PkiCache:
    """Each variant is built at most once per session, whatever order the tests run in; a failed build
    is remembered and re-raised, not retried by every test."""

    def __init__(self, tmp_path_factory, tf_config):
        self._tmp = tmp_path_factory
        self._config = tf_config
        self._built: dict[str, Pki | BaseException] = {}

    def get(self, variant: str) -> Pki:
        if variant not in self._built:
            algorithm, flavor = parse_variant(variant)
            try:
                if flavor == "generated":
                    pki = build_generated(self._tmp.mktemp(f"pki-{variant}"), self._config, algorithm)
                else:
                    generated = self.get(f"{algorithm}-generated")
                    pki = build_user_provided(self._tmp.mktemp(f"pki-{variant}"), self._config, generated)
            except BaseException as exc:
                self._built[variant] = exc
                raise
            self._built[variant] = pki
        built = self._built[variant]
        if isinstance(built, BaseException):
            raise AssertionError(f"building the {variant} PKI failed earlier: {built}") from built
        return built


@pytest.fixture(scope="session")
def pki_cache(tmp_path_factory, tf_config) -> PkiCache:
    return PkiCache(tmp_path_factory, tf_config)


@pytest.fixture(params=VARIANTS)
def pki(request, pki_cache) -> Pki:
    """Every PKI variant: RSA-2048 and ECDSA-P256, generated and user-provided."""
    return pki_cache.get(request.param)


@pytest.fixture(params=ALGORITHMS)
def generated_and_user_provided(request, pki_cache) -> tuple[Pki, Pki]:
    """One algorithm's generated PKI and its user-provided round trip."""
    return pki_cache.get(f"{request.param}-generated"), pki_cache.get(f"{request.param}-user-provided")


@pytest.fixture
def services(request, tmp_path) -> Services:
    """Start long-running programs through this; they are stopped after the test, pass or fail."""
    group = Services(tmp_path)
    request.node.stash[_SERVICES] = group
    yield group
    group.stop_all()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    group = item.stash.get(_SERVICES, None)
    if report.failed and group is not None:
        for title, text in group.log_sections():
            report.sections.append((title, text))
