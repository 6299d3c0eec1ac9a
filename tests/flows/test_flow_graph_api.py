"""`GET /api/v1/{tenant}/flows/{namespace}/{id}/graph` and the flow page's Topology tab."""

from __future__ import annotations

import pytest

from flows.services import flow_create, flow_update
from tests.conftest import flow_yaml

pytestmark = pytest.mark.django_db

GRAPH = "/api/v1/acme/flows/company.team/hello/graph"
PARALLEL = flow_yaml(
    extra="""\
    errors:
      - id: alert
        type: io.kestra.plugin.core.log.Log
        message: failed
    """
).replace(
    "tasks:\n",
    """tasks:
  - id: fan
    type: io.kestra.plugin.core.flow.Parallel
    tasks:
      - id: left
        type: io.kestra.plugin.core.log.Log
        message: l
      - id: right
        type: io.kestra.plugin.core.log.Log
        message: r
""",
)


def test_it_serves_the_graph_of_the_current_revision(acme, alice, alice_api):
    flow_create(tenant=acme, user=alice, source=PARALLEL)
    response = alice_api.get(GRAPH)
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"nodes", "edges", "clusters"}
    uids = {node["uid"] for node in body["nodes"]}
    assert {"root.fan", "root.fan.left", "root.fan.right", "root.log", "root.alert"} <= uids
    (fan,) = body["clusters"]
    assert fan["cluster"]["uid"] == "cluster_root.fan"
    assert fan["cluster"]["relationType"] == "PARALLEL"
    relations = {(e["source"], e["target"]): e["relation"] for e in body["edges"]}
    assert relations[("root.fan", "root.fan.left")] == {"relationType": "PARALLEL"}
    assert relations[("root._root", "root.alert")] == {"relationType": "ERROR"}


def test_it_serves_the_graph_of_an_older_revision(acme, alice, alice_api):
    flow_create(tenant=acme, user=alice, source=flow_yaml())
    flow_update(tenant=acme, user=alice, namespace="company.team", flow_id="hello", source=PARALLEL)
    old = alice_api.get(GRAPH + "?revision=1").json()
    assert [n["uid"] for n in old["nodes"]] == ["root._root", "root._end", "root.log"]
    assert alice_api.get(GRAPH + "?revision=2").json() == alice_api.get(GRAPH).json()
    assert alice_api.get(GRAPH + "?revision=9").status_code == 404
    bad = alice_api.get(GRAPH + "?revision=two")
    assert bad.status_code == 422
    assert "revision" in str(bad.json())


def test_another_tenant_and_a_missing_flow_get_404(acme, alice, mallory_api, alice_api):
    flow_create(tenant=acme, user=alice, source=PARALLEL)
    assert mallory_api.get(GRAPH.replace("/acme/", "/globex/")).status_code == 404
    assert mallory_api.get(GRAPH).status_code in (403, 404)
    assert alice_api.get("/api/v1/acme/flows/company.team/nope/graph").status_code == 404


def test_the_topology_tab_embeds_the_graph_and_its_own_bundle(acme, alice, client):
    flow_create(tenant=acme, user=alice, source=PARALLEL)
    client.force_login(alice)
    page = client.get("/ui/acme/flows/company.team/hello/topology").content.decode()
    assert 'aria-current="page">Topology</a>' in page
    assert 'id="flow-graph-data"' in page
    assert "cluster_root.fan" in page
    assert "topology.js" in page
    assert "5 tasks, 1 group" in page
    editor = client.get("/ui/acme/flows/company.team/hello").content.decode()
    assert "/ui/acme/flows/company.team/hello/topology" in editor
    assert "topology.js" not in editor  # only the Topology tab loads the graph library
