"""The Topology tab of a flow: its tasks as a graph, flowables as groups (flows/spec/graph.py),
drawn in the browser by the `topology.js` bundle."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from flows import selectors
from flows.spec.graph import flow_graph
from tenants.views_base import tenant_page


@tenant_page
def flow_topology(request: HttpRequest, namespace: str, flow_id: str) -> HttpResponse:
    tenant = request.tenant  # type: ignore[attr-defined]
    flow = selectors.flow_get(tenant=tenant, namespace=namespace, flow_id=flow_id)
    graph = flow_graph(flow.spec)
    tasks = [node for node in graph["nodes"] if "task" in node and node["type"].endswith("Task")]
    context = {
        "flow": flow,
        "graph": graph,
        "task_count": len({node["task"].get("id") for node in tasks}),
        "group_count": sum(1 for c in graph["clusters"] if "task" in c["cluster"]),
        "tab": "topology",
    }
    return render(request, "flows/topology.html", context)
