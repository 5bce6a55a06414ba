"""`deploy/helm/temporal-values.yaml` against the Temporal Helm chart it is written for (the
chart's own files, vendored in tests/vendor/temporal-helm-chart): the pinned version is that
chart's, every key exists in the chart's `values.yaml`, and none is refused by the chart's
`_deprecations.tpl` (its conditions evaluated here, as Helm's template engine would). The
values file used to set `cassandra`, `mysql`, `postgresql`, `elasticsearch`, `prometheus` and
`grafana`, which every stable chart (1.0.0-1.6.0) refuses: `helm install` failed."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
CHART = ROOT / "tests" / "vendor" / "temporal-helm-chart"
VALUES = ROOT / "deploy" / "helm" / "temporal-values.yaml"


def _load(path: Path) -> Any:
    return yaml.safe_load(path.read_text())


def _get(values: Any, path: str) -> Any:
    node = values
    for part in path.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def _truthy(value: Any) -> bool:
    """Go template truth: false, 0, nil, and empty strings, maps and lists are false."""
    return bool(value)


def test_the_values_pin_the_vendored_chart_version() -> None:
    chart = _load(CHART / "Chart.yaml")
    text = VALUES.read_text()
    assert f"# chart-version: {chart['version']}" in text
    assert f"--version {chart['version']}" in text


def _unknown_keys(ours: Any, theirs: Any, where: str = "") -> list[str]:
    """Keys of `ours` the chart does not have. Below a chart key whose default is empty or a
    list (free-form maps such as a datastore, or lists such as `additionalEnv`) anything goes;
    the datastore fields are checked against the chart's documented example separately."""
    if not isinstance(ours, dict):
        return []
    if not isinstance(theirs, dict) or not theirs:
        return []
    unknown = []
    for key, value in ours.items():
        path = f"{where}.{key}" if where else str(key)
        if key not in theirs:
            unknown.append(path)
        else:
            unknown += _unknown_keys(value, theirs[key], path)
    return unknown


def test_every_key_exists_in_the_charts_values() -> None:
    assert _unknown_keys(_load(VALUES), _load(CHART / "values.yaml")) == []


def test_every_datastore_field_is_one_the_chart_documents() -> None:
    """The datastores are free-form in the chart's values (`default:` is empty); its comments
    document the SQL fields, which are what the chart renders into the server's config."""
    documented = set(re.findall(r"^\s*#\s{1,3}(\w+):", (CHART / "values.yaml").read_text(),
                                re.MULTILINE))
    stores = _get(_load(VALUES), "server.config.persistence.datastores")
    assert stores
    for name, store in stores.items():
        for field in store["sql"]:
            assert field in documented, f"datastores.{name}.sql.{field}"
        assert "password" not in store["sql"], "the password comes from existingSecret"
        assert store["sql"]["existingSecret"] and store["sql"]["secretKey"]


IF_FAIL = re.compile(r"\{\{-\s*if\s+(?P<cond>[^}]+?)\s*-\}\}\s*\{\{-\s*fail")
ASSIGN = re.compile(r"\{\{-\s*\$(?P<var>\w+)\s*:=\s*\.Values\.(?P<path>[\w.-]+)\s*-\}\}")


def _refusals(values: Any) -> list[str]:
    """Evaluate every `if ... fail` of the chart's `_deprecations.tpl` against `values`; a
    condition of a form this does not know fails the test (a newer chart must be read again)."""
    tpl = (CHART / "_deprecations.tpl").read_text()
    variables = {m["var"]: _get(values, m["path"]) for m in ASSIGN.finditer(tpl)}
    assert len(IF_FAIL.findall(tpl)) == tpl.count("fail "), "a refusal this test does not see"
    refused = []
    for m in IF_FAIL.finditer(tpl):
        cond = m["cond"].strip()
        if plain := re.fullmatch(r"\.Values\.([\w.-]+)", cond):
            hit = _truthy(_get(values, plain[1]))
        elif legacy := re.fullmatch(r'and \$(\w+) \(kindIs "map" \$\1\)', cond):
            hit = isinstance(variables[legacy[1]], dict) and _truthy(variables[legacy[1]])
        elif kind := re.fullmatch(r'kindIs "map" \.Values\.([\w.-]+)', cond):
            hit = isinstance(_get(values, kind[1]), dict)
        elif cond == 'hasKey $visibilityDatastore "cassandra"':
            store = _get(values, "server.config.persistence.visibilityStore") or ""
            datastore = (_get(values, "server.config.persistence.datastores") or {}).get(store)
            hit = isinstance(datastore, dict) and "cassandra" in datastore
        else:
            raise AssertionError(f"a refusal of a form this test does not evaluate: {cond}")
        if hit:
            refused.append(cond)
    return refused


def test_no_key_is_refused_by_the_charts_deprecations() -> None:
    assert _refusals(_load(VALUES)) == []


def test_the_deprecation_check_catches_what_the_chart_refuses() -> None:
    """The evaluator itself: the old values (the bundled sub-charts as maps) are refused."""
    old = _load(VALUES) | {"cassandra": {"enabled": False}, "grafana": {"enabled": False},
                           "imagePullSecrets": {}}
    refused = _refusals(old)
    assert ".Values.cassandra" in refused and ".Values.grafana" in refused
    assert 'kindIs "map" .Values.imagePullSecrets' in refused
    legacy = _load(VALUES)
    legacy["server"]["config"]["persistence"]["default"] = {"sql": {}}
    assert any("legacyDefault" in r for r in _refusals(legacy))


def test_the_values_file_is_not_among_the_kubernetes_manifests() -> None:
    """`kubectl apply -f deploy/k8s/` and kubeconform read every file there as an object."""
    assert not (ROOT / "deploy" / "k8s" / "temporal-values.yaml").exists()
