// The topology of a flow: Kestra's FlowGraph JSON (GET /api/v1/{tenant}/flows/{ns}/{id}/graph,
// flows/spec/graph.py) drawn with Cytoscape.js, laid out by ELK (elkjs, layered, left to
// right, nested groups kept as groups).
//
//   <section data-topology>
//     <div data-topology-canvas></div>       the drawing
//     <aside data-topology-details></aside>  the task a click selected
//     <button data-topology-fit>             fit the whole graph
//     <script type="application/json">{"nodes": [...], "edges": [...], "clusters": [...]}</script>
//   </section>
//
// A flowable (Sequential, Parallel, If, Switch, ForEach, Dag, errors branches...) is a group
// (a Cytoscape compound node) holding its own task node, its start and end dots and its
// children; each list is a chain or a fan of edges, a Dag's edges follow `dependsOn`.

import cytoscape from "cytoscape";
import ELK from "elkjs/lib/elk.bundled.js";

const TERMINAL = 10; // start and end dots
const TASK_HEIGHT = 44;
const CHAR_WIDTH = 7.2;
const GROUP_PADDING = 12;

const kind = (type) => (type || "").split(".").pop();

function label(node) {
  const task = node.task || node.triggerDeclaration || {};
  return task.id || node.uid.split(".").pop();
}

function taskWidth(text, sub) {
  return Math.max(96, Math.ceil(Math.max(text.length, sub.length) * CHAR_WIDTH) + 28);
}

// FlowGraph JSON -> Cytoscape elements (and each element's parent group).
export function elementsOf(graph) {
  const parentOf = new Map();
  for (const entry of graph.clusters || []) {
    for (const uid of entry.nodes) parentOf.set(uid, entry.cluster.uid);
  }
  const elements = [];
  for (const entry of graph.clusters || []) {
    const cluster = entry.cluster;
    const task = cluster.task || {};
    elements.push({
      group: "nodes",
      classes: ["cluster", `rel-${(cluster.relationType || "none").toLowerCase()}`, cluster.error ? "error" : ""].join(" "),
      data: {
        id: cluster.uid,
        parent: parentOf.get(cluster.uid),
        label: task.id ? `${task.id} · ${kind(task.type)}` : cluster.uid.replace(/^cluster_root\./, ""),
        relation: cluster.relationType || "",
      },
    });
  }
  for (const node of graph.nodes || []) {
    const type = kind(node.type);
    const terminal = type === "GraphClusterRoot" || type === "GraphClusterEnd";
    const text = label(node);
    const sub = terminal ? "" : kind((node.task || node.triggerDeclaration || {}).type);
    const classes = [terminal ? "terminal" : "task", type, node.error ? "error" : ""];
    if ((node.task || {}).disabled) classes.push("disabled");
    elements.push({
      group: "nodes",
      classes: classes.join(" "),
      data: {
        id: node.uid,
        parent: parentOf.get(node.uid),
        label: terminal ? "" : `${text}\n${sub}`,
        width: terminal ? TERMINAL : taskWidth(text, sub),
        height: terminal ? TERMINAL : TASK_HEIGHT,
        task: node.task || node.triggerDeclaration || null,
        relation: node.relationType || "",
      },
    });
  }
  (graph.edges || []).forEach((edge, index) => {
    const relation = edge.relation || {};
    elements.push({
      group: "edges",
      classes: `rel-${(relation.relationType || "none").toLowerCase()}`,
      data: {
        id: `e${index}`,
        source: edge.source,
        target: edge.target,
        label: relation.relationType === "CHOICE" || relation.relationType === "ERROR" ? relation.value || "" : "",
      },
    });
  });
  return elements;
}

// ELK's hierarchical graph from the elements: groups hold their children, every edge sits
// at the top with hierarchy handling INCLUDE_CHILDREN, so edges may cross group borders.
export function elkGraphOf(elements) {
  const byId = new Map();
  const top = [];
  for (const element of elements) {
    if (element.group !== "nodes") continue;
    const isGroup = element.classes.split(" ").includes("cluster");
    const node = isGroup
      ? {
          id: element.data.id,
          children: [],
          // room above the group for its label (drawn outside, on top of the box)
          layoutOptions: { "elk.padding": `[top=${GROUP_PADDING + 22},left=${GROUP_PADDING},bottom=${GROUP_PADDING},right=${GROUP_PADDING}]` },
        }
      : { id: element.data.id, width: element.data.width, height: element.data.height };
    byId.set(node.id, { node, parent: element.data.parent });
  }
  for (const { node, parent } of byId.values()) {
    const holder = parent && byId.get(parent);
    (holder ? holder.node.children : top).push(node);
  }
  const edges = elements
    .filter((e) => e.group === "edges" && byId.has(e.data.source) && byId.has(e.data.target))
    .map((e) => ({ id: e.data.id, sources: [e.data.source], targets: [e.data.target] }));
  return {
    id: "flow",
    layoutOptions: {
      "elk.algorithm": "layered",
      "elk.direction": "RIGHT",
      "elk.hierarchyHandling": "INCLUDE_CHILDREN",
      "elk.layered.spacing.nodeNodeBetweenLayers": "36",
      "elk.spacing.nodeNode": "24",
      "elk.edgeRouting": "ORTHOGONAL",
    },
    children: top,
    edges,
  };
}

// Centres of the leaf nodes, in absolute coordinates (ELK gives top-left corners relative
// to the enclosing group).
export function positionsOf(laidOut) {
  const positions = {};
  const walk = (node, dx, dy) => {
    for (const child of node.children || []) {
      const x = dx + (child.x || 0);
      const y = dy + (child.y || 0);
      if (child.children && child.children.length) walk(child, x, y);
      else if (child.width !== undefined) positions[child.id] = { x: x + child.width / 2, y: y + child.height / 2 };
    }
  };
  walk(laidOut, 0, 0);
  return positions;
}

const STYLE = [
  {
    selector: "node.task",
    style: {
      shape: "round-rectangle",
      width: "data(width)",
      height: "data(height)",
      label: "data(label)",
      "text-wrap": "wrap",
      "text-valign": "center",
      "font-size": 11,
      "font-family": "system-ui, sans-serif",
      color: "#1f2333",
      "background-color": "#ffffff",
      "border-width": 1.5,
      "border-color": "#8c8fa8",
    },
  },
  { selector: "node.task.GraphTrigger", style: { "border-color": "#2f6fde", "border-style": "dashed" } },
  { selector: "node.task.SubflowGraphTask", style: { "border-color": "#6941c6", "border-width": 2.5 } },
  { selector: "node.task.error", style: { "border-color": "#d92d3a" } },
  { selector: "node.task.disabled", style: { opacity: 0.45 } },
  { selector: "node.task:selected", style: { "border-color": "#2f6fde", "border-width": 3 } },
  {
    selector: "node.terminal",
    style: { shape: "ellipse", width: TERMINAL, height: TERMINAL, "background-color": "#8c8fa8", label: "" },
  },
  {
    selector: "node.cluster",
    style: {
      shape: "round-rectangle",
      label: "data(label)",
      "text-valign": "top",
      "text-halign": "center",
      "text-margin-y": -3,
      "font-size": 11,
      "font-weight": "bold",
      color: "#4a4e69",
      "background-color": "#f3f4f8",
      "background-opacity": 0.75,
      "border-width": 1,
      "border-color": "#c3c5d4",
      "border-style": "solid",
      padding: GROUP_PADDING,
    },
  },
  { selector: "node.cluster.rel-parallel", style: { "background-color": "#eef4ff" } },
  { selector: "node.cluster.rel-choice", style: { "background-color": "#fff7e8" } },
  { selector: "node.cluster.rel-dynamic", style: { "background-color": "#f1ecfd", "border-style": "dashed" } },
  { selector: "node.cluster.error", style: { "border-color": "#d92d3a", "background-color": "#fdf0f1" } },
  {
    selector: "edge",
    style: {
      width: 1.5,
      "curve-style": "bezier",
      "line-color": "#8c8fa8",
      "target-arrow-color": "#8c8fa8",
      "target-arrow-shape": "triangle",
      "arrow-scale": 0.8,
      label: "data(label)",
      "font-size": 10,
      "text-background-color": "#ffffff",
      "text-background-opacity": 1,
      "text-background-padding": 2,
    },
  },
  { selector: "edge.rel-error", style: { "line-color": "#d92d3a", "target-arrow-color": "#d92d3a", "line-style": "dashed" } },
  { selector: "edge.rel-choice", style: { "line-color": "#c27c0e", "target-arrow-color": "#c27c0e" } },
];

function showDetails(aside, data) {
  if (!aside) return;
  aside.replaceChildren();
  if (!data || !data.task) {
    aside.hidden = true;
    return;
  }
  aside.hidden = false;
  const title = document.createElement("h3");
  title.textContent = data.task.id || data.id;
  const type = document.createElement("p");
  type.className = "muted";
  type.textContent = data.task.type || "";
  const body = document.createElement("pre");
  body.className = "topology-task";
  body.textContent = JSON.stringify(data.task, null, 2);
  aside.append(title, type, body);
}

export async function mountTopology(section) {
  const canvas = section.querySelector("[data-topology-canvas]");
  const source = section.querySelector("script[type='application/json']");
  if (!canvas || !source || section.dataset.mounted) return null;
  section.dataset.mounted = "true";
  const graph = JSON.parse(source.textContent);
  const elements = elementsOf(graph);
  const laidOut = await new ELK().layout(elkGraphOf(elements));
  const cy = cytoscape({
    container: canvas,
    elements,
    style: STYLE,
    layout: { name: "preset", positions: positionsOf(laidOut), fit: true, padding: 24 },
    minZoom: 0.2,
    maxZoom: 2.5,
    wheelSensitivity: 0.3,
    autoungrabify: true,
    boxSelectionEnabled: false,
  });
  const aside = section.querySelector("[data-topology-details]");
  cy.on("tap", "node.task", (event) => showDetails(aside, event.target.data()));
  cy.on("tap", (event) => {
    if (event.target === cy) showDetails(aside, null);
  });
  const fit = section.querySelector("[data-topology-fit]");
  if (fit) fit.addEventListener("click", () => cy.fit(undefined, 24));
  section.dataset.ready = "true";
  return cy;
}
