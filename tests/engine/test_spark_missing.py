"""Without PySpark or Java, `--engine spark` says in one line how to install them."""

from __future__ import annotations

import sys

import pytest

from vaxtrust.engine import create_engine
from vaxtrust.errors import EngineError


def test_missing_pyspark_is_one_clear_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pyspark", None)  # import fails as if not installed
    with pytest.raises(EngineError) as info:
        create_engine("spark")
    message = str(info.value)
    assert "\n" not in message
    assert "pip install 'vaxtrust[spark]'" in message


def test_missing_java_is_one_clear_line(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("pyspark")
    monkeypatch.delenv("JAVA_HOME", raising=False)
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(EngineError) as info:
        create_engine("spark")
    message = str(info.value)
    assert "\n" not in message
    assert "Java 17" in message and "openjdk-17-jre-headless" in message
