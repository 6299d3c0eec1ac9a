"""The topology graph of a flow (Kestra's FlowGraph shape): the node, edge and cluster counts
Kestra's own FlowGraphTest asserts for the same flows, the relation of each kind of edge,
and structural invariants (unique uids, edges between known nodes, one home per node)."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest

from flows.spec import parse_flow
from flows.spec.graph import (
    CLUSTER,
    END,
    ROOT,
    SUBFLOW,
    TASK,
    TRIGGER,
    flow_graph,
)

CORPUS = Path(__file__).resolve().parents[3] / "shared" / "kestra-conformance" / "flows"


def graph(source: str) -> dict:
    return flow_graph(parse_flow(textwrap.dedent(source)).data)


def corpus(name: str) -> dict:
    if not (CORPUS / name).is_file():
        pytest.skip("the Kestra conformance corpus is not here")
    return flow_graph(parse_flow((CORPUS / name).read_text()).data)


def edge(g: dict, source: str, target: str = ".*") -> dict:
    """The first edge whose source and target match (as Kestra's test helper)."""
    for found in g["edges"]:
        if re.fullmatch(source, found["source"]) and re.fullmatch(target, found["target"]):
            return found
    raise AssertionError(f"no edge {source} -> {target}")


def cluster(g: dict, uid: str) -> dict:
    return next(c for c in g["clusters"] if re.fullmatch(uid, c["cluster"]["uid"]))


def check_shape(g: dict) -> None:
    uids = [node["uid"] for node in g["nodes"]]
    assert len(uids) == len(set(uids))
    known = set(uids)
    for found in g["edges"]:
        assert {found["source"], found["target"]} <= known, found
    homes: dict[str, int] = {}
    for entry in g["clusters"]:
        for uid in entry["nodes"]:
            homes[uid] = homes.get(uid, 0) + 1
        assert {entry["start"], entry["end"]} <= set(entry["nodes"])
        for parent in entry["parents"]:
            assert any(c["cluster"]["uid"] == parent for c in g["clusters"])
    assert all(count == 1 for count in homes.values())


@pytest.mark.parametrize(
    ("name", "nodes", "edges", "clusters"),
    [
        ("return.yaml", 5, 4, 0),
        ("sequential.yaml", 19, 18, 3),
        ("errors.yaml", 17, 17, 4),
        ("parallel.yaml", 12, 16, 1),
        ("parallel-nested.yaml", 19, 23, 3),
        ("switch.yaml", 17, 20, 3),
        ("each-sequential-nested.yaml", 13, 12, 2),
    ],
)
def test_counts_match_kestras_flow_graph_test(name, nodes, edges, clusters):
    g = corpus(name)
    assert (len(g["nodes"]), len(g["edges"]), len(g["clusters"])) == (nodes, edges, clusters)
    check_shape(g)


def test_a_plain_flow_is_a_chain_from_start_to_end():
    g = corpus("return.yaml")
    assert [n["type"] for n in g["nodes"]] == [ROOT, END, TASK, TASK, TASK]
    date = g["nodes"][2]
    assert (date["uid"], date["task"]["id"], date["relationType"]) == (
        "root.date",
        "date",
        "SEQUENTIAL",
    )
    assert edge(g, "root._root")["target"] == "root.date"
    assert edge(g, "root._root")["relation"] == {}
    assert edge(g, "root.date")["relation"] == {"relationType": "SEQUENTIAL"}


def test_parallel_children_leave_from_the_flowable_and_each_reach_its_end():
    g = corpus("parallel.yaml")
    assert edge(g, ".*parent", ".*t2")["relation"]["relationType"] == "PARALLEL"
    assert edge(g, ".*parent", ".*t6")["relation"]["relationType"] == "PARALLEL"
    end = cluster(g, "cluster_root.parent")["end"]
    assert edge(g, ".*t1", end)["source"] == "root.parent.t1"
    assert edge(g, ".*t4", end)["source"] == "root.parent.t4"
    assert cluster(g, "cluster_root.parent")["cluster"]["relationType"] == "PARALLEL"


def test_nested_lists_keep_their_own_relation():
    g = corpus("sequential.yaml")
    assert re.fullmatch(".*1-3-2-2_end", edge(g, ".*1-3-2-1")["target"])
    assert edge(g, ".*1-3-2-1")["relation"]["relationType"] == "SEQUENTIAL"
    assert re.fullmatch(".*1-1", edge(g, ".*1-seq")["target"])
    nested = cluster(g, "cluster_.*1-3-2_seq")
    assert nested["parents"] == ["cluster_root.1-seq", "cluster_root.1-seq.1-3_seq"]

    g = corpus("parallel-nested.yaml")
    assert edge(g, ".*1_par", ".*1-4_end")["relation"]["relationType"] == "PARALLEL"
    inner = cluster(g, ".*1-3_par")["start"]
    assert edge(g, ".*1_par", inner)["relation"]["relationType"] == "PARALLEL"
    assert edge(g, ".*1-3-2_par", ".*1-3-2-1")["relation"]["relationType"] == "SEQUENTIAL"


def test_switch_branches_are_choices_named_by_their_case():
    g = corpus("switch.yaml")
    seq = r"root\.parent-seq"
    assert edge(g, seq, seq + r"\.t1")["relation"] == {"relationType": "CHOICE", "value": "FIRST"}
    assert edge(g, seq, seq + r"\.t3\._root")["relation"]["value"] == "THIRD"
    assert edge(g, seq, seq + r"\.default")["relation"] == {
        "relationType": "CHOICE",
        "value": "defaults",
    }
    assert edge(g, ".*t2", ".*t2_sub")["relation"]["relationType"] == "SEQUENTIAL"
    triggers = cluster(g, "cluster_root.Triggers")
    schedule = next(n for n in g["nodes"] if n["type"] == TRIGGER)
    assert schedule["uid"] in triggers["nodes"]
    assert schedule["triggerDeclaration"]["cron"] == "0 * * * *"
    assert edge(g, triggers["end"])["target"] == "root._root"


def test_errors_branches_start_from_the_list_start_and_are_marked():
    g = corpus("errors.yaml")
    assert edge(g, "root._root", ".*t2")["relation"]["relationType"] == "ERROR"
    assert edge(g, "root._root", ".*failed")["relation"] == {}
    t2 = next(n for n in g["nodes"] if n["uid"] == "root.t2")
    assert (t2["error"], t2["relationType"]) == (True, "ERROR")
    assert cluster(g, "cluster_root.t3")["cluster"]["error"] is True
    last = next(n for n in g["nodes"] if n["uid"].endswith("t3-t1-t1-t1-last"))
    assert last["error"] is True


def test_loops_are_dynamic_clusters():
    g = corpus("each-sequential-nested.yaml")
    inner = cluster(g, ".*1-2_each")["start"]
    assert edge(g, ".*1-1_return", inner)["relation"]["relationType"] == "DYNAMIC"
    assert edge(g, ".*1-2_each", ".*1-2-1_return")["relation"]["relationType"] == "DYNAMIC"
    loop = cluster(g, "cluster_root.1_each")["cluster"]
    assert (loop["type"], loop["task"]["value"]) == (CLUSTER, ["s1", "s2", "s3"])
    assert "tasks" not in loop["task"]  # children are nodes, not properties


def test_for_each_with_a_concurrency_limit_runs_its_children_side_by_side():
    source = """\
        id: loops
        namespace: company.team
        tasks:
          - id: each
            type: io.kestra.plugin.core.flow.ForEach
            values: [1, 2]
            concurrencyLimit: 0
            tasks:
              - id: a
                type: io.kestra.plugin.core.log.Log
                message: a
              - id: b
                type: io.kestra.plugin.core.log.Log
                message: b
        """
    g = graph(source)
    end = cluster(g, "cluster_root.each")["end"]
    for child in ("a", "b"):
        assert edge(g, "root.each", f"root.each.{child}")["relation"]["relationType"] == "DYNAMIC"
        assert edge(g, f"root.each.{child}", end)
    check_shape(g)


def test_if_branches_and_dag_dependencies():
    source = """\
        id: shapes
        namespace: company.team
        tasks:
          - id: check
            type: io.kestra.core.tasks.flows.If
            condition: "{{ true }}"
            then:
              - id: agree
                type: io.kestra.plugin.core.log.Log
                message: y
            else:
              - id: refuse
                type: io.kestra.plugin.core.log.Log
                message: n
          - id: dag
            type: io.kestra.plugin.core.flow.Dag
            tasks:
              - task:
                  id: extract
                  type: io.kestra.plugin.core.log.Log
                  message: e
              - task:
                  id: transform
                  type: io.kestra.plugin.core.flow.Sequential
                  tasks:
                    - id: clean
                      type: io.kestra.plugin.core.log.Log
                      message: c
                dependsOn: [extract]
              - task:
                  id: load
                  type: io.kestra.plugin.core.log.Log
                  message: l
                dependsOn: [transform, extract]
              - task:
                  id: audit
                  type: io.kestra.plugin.core.log.Log
                  message: a
            errors:
              - id: alert
                type: io.kestra.plugin.core.log.Log
                message: failed
          - id: child
            type: io.kestra.plugin.core.flow.Subflow
            namespace: company.other
            flowId: downstream
        """
    g = graph(source)
    check_shape(g)
    check = cluster(g, "cluster_root.check")["cluster"]
    assert check["task"]["type"] == "io.kestra.plugin.core.flow.If"  # the alias, canonical
    assert edge(g, "root.check", "root.check.agree")["relation"] == {
        "relationType": "CHOICE",
        "value": "then",
    }
    assert edge(g, "root.check", "root.check.refuse")["relation"]["value"] == "else"
    dag = cluster(g, "cluster_root.dag")
    transform = cluster(g, "cluster_root.dag.transform")
    assert edge(g, "root.dag", "root.dag.extract")["relation"]["relationType"] == "PARALLEL"
    assert edge(g, "root.dag.extract", transform["start"])["relation"]["relationType"] == (
        "PARALLEL"
    )
    assert edge(g, transform["end"], "root.dag.load")
    assert edge(g, "root.dag.extract", "root.dag.load")
    assert edge(g, "root.dag", "root.dag.audit")
    to_end = {e["source"] for e in g["edges"] if e["target"] == dag["end"]}
    assert to_end == {"root.dag.load", "root.dag.audit", "root.dag.alert"}
    assert edge(g, dag["start"], "root.dag.alert")["relation"]["relationType"] == "ERROR"
    assert transform["parents"] == ["cluster_root.dag"]
    child = next(n for n in g["nodes"] if n["uid"] == "root.child")
    assert (child["type"], child["task"]["flowId"]) == (SUBFLOW, "downstream")
    assert edge(g, dag["end"], "root.child")["relation"]["relationType"] == "SEQUENTIAL"
