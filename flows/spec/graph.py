"""A flow's topology as a graph, in the shape of Kestra's `GET /flows/{namespace}/{id}/graph`
(`FlowGraph`, built by Kestra's `GraphUtils`): `nodes`, `edges` and `clusters`.

- A plain task is a node (`GraphTask`; a Subflow or ForEachItem is a `SubflowGraphTask`).
- A flowable is a cluster: its own node, a start and an end node (`GraphClusterRoot`,
  `GraphClusterEnd`), its children, and its nested clusters. Every list of the flow has a
  relation: SEQUENTIAL (Sequential, the flow itself, WorkingDirectory, Pause, WaitFor...),
  PARALLEL (Parallel), CHOICE (If's `then`/`else`, Switch's cases: the edge's `value` names
  the branch), DYNAMIC (ForEach and the legacy Each*: its children run once per value; a
  Dag's edges follow `dependsOn`), ERROR (every `errors` list; its nodes have `error`).
- Edges into a cluster reach its start node, edges out of it leave from its end node.
- Triggers form a cluster `Triggers` whose end leads to the flow's start, as in Kestra.

Node uids are the task's path from `root` (`root.parallel.t1`); a cluster's uid is
`cluster_` + its flowable's uid; start and end nodes are `<path>._root` and `<path>._end`
(a task id cannot start with `_`, so they never meet a task's uid). Pure: it reads the
validated flow document and the task-type registry, nothing else.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from flows.tasktypes import registry
from flows.tasktypes.common import DAG, TASK_MAP, TASKS

_H = "io.kestra.core.models.hierarchies."
ROOT, END, TASK, SUBFLOW, TRIGGER, CLUSTER = (
    _H + name
    for name in (
        "GraphClusterRoot",
        "GraphClusterEnd",
        "GraphTask",
        "SubflowGraphTask",
        "GraphTrigger",
        "GraphCluster",
    )
)
SEQUENTIAL, PARALLEL, CHOICE, DYNAMIC, ERROR = (
    "SEQUENTIAL",
    "PARALLEL",
    "CHOICE",
    "DYNAMIC",
    "ERROR",
)

_FLOW = "io.kestra.plugin.core.flow."
_SUBFLOWS = frozenset({_FLOW + "Subflow", _FLOW + "ForEachItem"})
_CLUSTER_RELATION = {
    _FLOW + "Parallel": PARALLEL,
    _FLOW + "If": CHOICE,
    _FLOW + "Switch": CHOICE,
    _FLOW + "ForEach": DYNAMIC,
    _FLOW + "EachSequential": DYNAMIC,
    _FLOW + "EachParallel": DYNAMIC,
    _FLOW + "Dag": DYNAMIC,
}
_PARALLEL_CHILDREN = frozenset({_FLOW + "Parallel", _FLOW + "EachParallel"})


@dataclass
class _Cluster:
    path: str  # "root", "root.parallel"
    relation: str | None
    task_node: str | None = None  # the flowable's own node
    nodes: list[str] = field(default_factory=list)

    @property
    def start(self) -> str:
        return f"{self.path}._root"

    @property
    def end(self) -> str:
        return f"{self.path}._end"

    @property
    def uid(self) -> str:
        return f"cluster_{self.path}"


@dataclass(frozen=True)
class _Placed:
    """A task placed in the graph: where edges enter it and where they leave it."""

    entry: str
    exit: str


def _canonical(task: Mapping[str, Any]) -> tuple[str, str]:
    """(canonical type, kind) of a task; an unknown type is a plain task."""
    found = registry.get(str(task.get("type", "")))
    return (found.name, found.kind) if found else (str(task.get("type", "")), "task")


def _shapes(task_type: str) -> Mapping[str, str]:
    found = registry.get(task_type)
    return found.children if found else {}


def task_summary(task: Mapping[str, Any]) -> dict[str, Any]:
    """The task as the graph shows it: its properties without its child task lists, its
    type canonical (a legacy alias is named as the type it stands for)."""
    task_type, _ = _canonical(task)
    children = {p for p, shape in _shapes(task_type).items() if shape in (TASKS, TASK_MAP, DAG)}
    summary = {k: v for k, v in task.items() if k not in children}
    summary["type"] = task_type
    return summary


class _Builder:
    def __init__(self) -> None:
        self.nodes: list[dict[str, Any]] = []
        self.edges: list[dict[str, Any]] = []
        self.clusters: list[dict[str, Any]] = []

    def node(self, cluster: _Cluster, uid: str, kind: str, **extra: Any) -> str:
        self.nodes.append({"uid": uid, "type": kind, **extra})
        cluster.nodes.append(uid)
        return uid

    def edge(self, source: str, target: str, relation: str | None = None, value: Any = None):
        found = {"relationType": relation, "value": value}
        self.edges.append(
            {
                "source": source,
                "target": target,
                "relation": {k: v for k, v in found.items() if v is not None},
            }
        )

    # --- lists --------------------------------------------------------------------------
    def fill(
        self,
        cluster: _Cluster,
        tasks: Any,
        relation: str,
        value: str | None = None,
        error: bool = False,
    ) -> None:
        """Kestra's `GraphUtils.fillGraph`: link the list from the cluster's own node (its
        start for an `errors` list), one after the other, or each on its own for PARALLEL and
        CHOICE, and to the cluster's end."""
        items = [t for t in tasks if isinstance(t, Mapping)] if isinstance(tasks, list) else []
        previous = cluster.task_node or cluster.start
        if relation == ERROR:
            previous, error = cluster.start, True
        for index, task in enumerate(items):
            edge_relation = cluster.relation
            if relation == ERROR:
                edge_relation = ERROR
            elif index > 0 and relation != PARALLEL and cluster.relation != DYNAMIC:
                edge_relation = relation
            placed = self.task(cluster, task, relation, error)
            self.edge(previous, placed.entry, edge_relation, value)
            if relation != PARALLEL:
                previous = placed.exit
            if relation in (PARALLEL, CHOICE) or index == len(items) - 1:
                self.edge(placed.exit, cluster.end)

    def dag(self, cluster: _Cluster, items: Any, error: bool) -> None:
        """Kestra's `fillGraphDag`: a task without `dependsOn` starts from the Dag's node, a
        task with some from each of them; a task nobody depends on leads to the end."""
        nodes = [n for n in items if isinstance(n, Mapping)] if isinstance(items, list) else []
        entries = [
            (n["task"], [str(d) for d in n.get("dependsOn") or ()])
            for n in nodes
            if isinstance(n.get("task"), Mapping)
        ]
        needed = {dep for _, deps in entries for dep in deps}
        placed: dict[str, _Placed] = {}
        pending = list(entries)
        while pending:
            ready = [(t, deps) for t, deps in pending if all(d in placed for d in deps)]
            if not ready:  # a cycle or an unknown id (refused by validation): show them all
                ready = pending
            for task, deps in ready:
                pending.remove((task, deps))
                here = self.task(cluster, task, SEQUENTIAL, error)
                placed[str(task.get("id"))] = here
                sources = [placed[d].exit for d in deps if d in placed] or (
                    [] if deps else [cluster.task_node or cluster.start]
                )
                for source in sources:
                    self.edge(source, here.entry, PARALLEL)
                if str(task.get("id")) not in needed:
                    self.edge(here.exit, cluster.end)

    # --- one task -----------------------------------------------------------------------
    def task(self, parent: _Cluster, task: Mapping[str, Any], relation: str, error: bool):
        task_type, kind = _canonical(task)
        uid = f"{parent.path}.{task.get('id')}"
        summary = task_summary(task)
        if kind != "flowable" or task_type in _SUBFLOWS:
            node_type = SUBFLOW if task_type in _SUBFLOWS else TASK
            self.node(parent, uid, node_type, task=summary, relationType=relation, error=error)
            return _Placed(uid, uid)
        cluster = _Cluster(uid, _CLUSTER_RELATION.get(task_type, SEQUENTIAL))
        parent.nodes.append(cluster.uid)
        entry = {"uid": cluster.uid, "type": CLUSTER, "relationType": cluster.relation}
        self.clusters.append(
            {
                "cluster": {**entry, "task": summary, "error": error},
                "nodes": cluster.nodes,
                "parents": self._parents(parent),
                "start": cluster.start,
                "end": cluster.end,
            }
        )
        self.node(cluster, cluster.start, ROOT, error=error)
        self.node(cluster, cluster.end, END, error=error)
        cluster.task_node = self.node(
            cluster, uid, TASK, task=summary, relationType=relation, error=error
        )
        self.edge(cluster.start, uid)
        self.children(cluster, task, task_type, error)
        return _Placed(cluster.start, cluster.end)

    def _parents(self, cluster: _Cluster) -> list[str]:
        """The uids of the clusters enclosing `cluster` and `cluster` itself, outermost
        first (the flow's own `root` is none)."""
        parts = cluster.path.split(".")
        return [f"cluster_{'.'.join(parts[: i + 1])}" for i in range(1, len(parts))]

    def children(self, cluster: _Cluster, task: Mapping[str, Any], task_type: str, error: bool):
        shapes = _shapes(task_type)
        if task_type == _FLOW + "If":
            self.fill(cluster, task.get("then"), SEQUENTIAL, "then", error)
            if task.get("else"):
                self.fill(cluster, task.get("else"), SEQUENTIAL, "else", error)
        elif task_type == _FLOW + "Switch":
            cases = task.get("cases")
            for name, items in cases.items() if isinstance(cases, Mapping) else ():
                self.fill(cluster, items, SEQUENTIAL, str(name), error)
            if task.get("defaults"):
                self.fill(cluster, task.get("defaults"), SEQUENTIAL, "defaults", error)
        elif shapes.get("tasks") == DAG:
            self.dag(cluster, task.get("tasks"), error)
        else:
            limit = task.get("concurrencyLimit", 1)
            parallel = task_type in _PARALLEL_CHILDREN or (
                task_type == _FLOW + "ForEach" and limit != 1
            )
            for prop, shape in shapes.items():
                if shape == TASKS and prop != "errors":
                    relation = PARALLEL if parallel else SEQUENTIAL
                    self.fill(cluster, task.get(prop), relation, None, error)
        if task.get("errors"):
            self.fill(cluster, task.get("errors"), ERROR)


def flow_graph(data: Mapping[str, Any]) -> dict[str, Any]:
    """The graph of a validated flow document (`FlowValidation.data`, `Flow.spec`)."""
    builder = _Builder()
    root = _Cluster("root", None)
    builder.node(root, root.start, ROOT)
    builder.node(root, root.end, END)
    triggers = [t for t in data.get("triggers") or () if isinstance(t, Mapping)]
    if triggers:
        cluster = _Cluster("root.Triggers", None)
        root.nodes.append(cluster.uid)
        builder.clusters.append(
            {
                "cluster": {"uid": cluster.uid, "type": CLUSTER},
                "nodes": cluster.nodes,
                "parents": [],
                "start": cluster.start,
                "end": cluster.end,
            }
        )
        builder.node(cluster, cluster.start, ROOT)
        builder.node(cluster, cluster.end, END)
        for trigger in triggers:
            uid = builder.node(
                cluster,
                f"{cluster.path}.{trigger.get('id')}",
                TRIGGER,
                triggerDeclaration=task_summary(trigger),
            )
            builder.edge(cluster.start, uid)
            builder.edge(uid, cluster.end)
        builder.edge(cluster.end, root.start)
    builder.fill(root, data.get("tasks"), SEQUENTIAL)
    if data.get("errors"):
        builder.fill(root, data.get("errors"), ERROR)
    return {"nodes": builder.nodes, "edges": builder.edges, "clusters": builder.clusters}
