// The topology bundle (frontend/dist/topology.js, built apart from aviary.js so that only the
// flow's Topology tab downloads Cytoscape.js and ELK). Loaded by templates/flows/topology.html.
//
// window.aviary.topologies = Map(section element -> Cytoscape instance)

import { mountTopology } from "./topology/graph.js";

const topologies = new Map();
window.aviary = Object.assign(window.aviary || {}, { topologies });

function mountAll(root) {
  for (const section of (root || document).querySelectorAll("[data-topology]")) {
    mountTopology(section)
      .then((cy) => cy && topologies.set(section, cy))
      .catch((error) => {
        section.dataset.error = String(error);
        const message = section.querySelector("[data-topology-error]");
        if (message) {
          message.hidden = false;
          message.textContent = `The graph could not be drawn: ${error}`;
        }
      });
  }
}

document.addEventListener("htmx:load", (event) => mountAll(event.detail && event.detail.elt));

if (document.readyState === "loading") {
  document.addEventListener("DOMContentLoaded", () => mountAll(document));
} else {
  mountAll(document);
}
