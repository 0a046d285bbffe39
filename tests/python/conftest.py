"""Shared fixtures of the Python suite: the sample engine and small generated claims."""

from __future__ import annotations

import pathlib

import pytest

import medaudit

ROOT = pathlib.Path(__file__).resolve().parents[2]
CONFORMANCE = ROOT / "tests" / "conformance"


@pytest.fixture(scope="session")
def sample_pack() -> medaudit.RulePack:
    return medaudit.RulePack.sample()


@pytest.fixture(scope="session")
def engine(sample_pack: medaudit.RulePack) -> medaudit.Engine:
    return medaudit.Engine(sample_pack)


@pytest.fixture(scope="session")
def claims() -> medaudit.synth.SynthClaims:
    return medaudit.synth.claims(encounters=3000, seed=11)


def finding_keys(table):
    """(rule_id, mdtrt_id, feedetl_sn) of each finding, in order."""
    return list(zip(table["rule_id"].to_pylist(), table["mdtrt_id"].to_pylist(), table["feedetl_sn"].to_pylist()))
