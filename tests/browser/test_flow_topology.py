"""A person opens a flow's Topology tab: the tasks are drawn as a graph (Cytoscape.js laid out
by ELK), each flowable a group around its children, and a click on a task shows it."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from flows.services import flow_create
from tests.conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

FLOW = """id: shapes
namespace: company.team
tasks:
  - id: fan
    type: io.kestra.plugin.core.flow.Parallel
    tasks:
      - id: left
        type: io.kestra.plugin.core.log.Log
        message: l
      - id: right
        type: io.kestra.plugin.core.flow.ForEach
        values: [1, 2, 3]
        tasks:
          - id: each
            type: io.kestra.plugin.core.log.Log
            message: "{{ taskrun.value }}"
  - id: choose
    type: io.kestra.plugin.core.flow.If
    condition: "{{ true }}"
    then:
      - id: agree
        type: io.kestra.plugin.core.log.Log
        message: y
    else:
      - id: refuse
        type: io.kestra.plugin.core.execution.Fail
  - id: dag
    type: io.kestra.plugin.core.flow.Dag
    tasks:
      - task:
          id: extract
          type: io.kestra.plugin.core.log.Log
          message: e
      - task:
          id: load
          type: io.kestra.plugin.core.log.Log
          message: l
        dependsOn: [extract]
errors:
  - id: alert
    type: io.kestra.plugin.core.log.Log
    message: failed
"""


def test_the_topology_tab_draws_the_flow_as_a_graph(page, shoot, acme, alice):
    flow_create(tenant=acme, user=alice, source=FLOW)
    page.goto("/login")
    page.get_by_label("Email").fill("alice@acme.test")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.goto("/ui/acme/flows/company.team/shapes")
    page.get_by_role("navigation", name="Flow").get_by_role("link", name="Topology").click()
    section = page.locator("[data-topology]")
    expect(section).to_have_attribute("data-ready", "true", timeout=15_000)
    expect(page.get_by_text("11 tasks, 4 groups")).to_be_visible()

    drawn = page.evaluate(
        """() => {
        const cy = [...window.aviary.topologies.values()][0];
        const box = (id) => cy.getElementById(id).boundingBox();
        const inside = (a, b) => a.x1 >= b.x1 && a.x2 <= b.x2 && a.y1 >= b.y1 && a.y2 <= b.y2;
        return {
          tasks: cy.nodes(".task").length,
          groups: cy.nodes(".cluster").map((n) => n.id()).sort(),
          edges: cy.edges().length,
          eachInLoop: cy.getElementById("root.fan.right.each").parent().id(),
          loopInFan: cy.getElementById("cluster_root.fan.right").parent().id(),
          nested: inside(box("root.fan.right.each"), box("cluster_root.fan.right"))
            && inside(box("cluster_root.fan.right"), box("cluster_root.fan")),
          leftToRight: box("root.dag.extract").x2 < box("root.dag.load").x1,
          apart: !inside(box("cluster_root.choose"), box("cluster_root.fan")),
          choice: cy.edges().filter((e) => e.data("label") === "else").length,
        };
    }"""
    )
    assert drawn["tasks"] == 11
    assert drawn["groups"] == [
        "cluster_root.choose",
        "cluster_root.dag",
        "cluster_root.fan",
        "cluster_root.fan.right",
    ]
    assert drawn["eachInLoop"] == "cluster_root.fan.right"
    assert drawn["loopInFan"] == "cluster_root.fan"
    assert drawn["nested"] is True
    assert drawn["leftToRight"] is True
    assert drawn["apart"] is True
    assert drawn["choice"] == 1
    shoot(page, "graph")

    # a click on a task shows its properties beside the graph
    point = page.evaluate(
        """() => {
        const cy = [...window.aviary.topologies.values()][0];
        const p = cy.getElementById("root.choose.refuse").renderedPosition();
        const r = cy.container().getBoundingClientRect();
        return {x: r.left + p.x, y: r.top + p.y};
    }"""
    )
    page.mouse.click(point["x"], point["y"])
    details = page.locator("[data-topology-details]")
    expect(details).to_be_visible()
    expect(details.get_by_role("heading", name="refuse")).to_be_visible()
    expect(details).to_contain_text("io.kestra.plugin.core.execution.Fail")
    page.get_by_role("button", name="Fit").click()
