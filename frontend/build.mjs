// Builds the Aviary front-end bundle with esbuild:
//   frontend/src/aviary.js  -> frontend/dist/aviary.js  (IIFE, minified, es2020)
//   frontend/src/charts.js  -> frontend/dist/charts.js  (IIFE, Chart.js: only the pages
//                              with a chart load it)
//   frontend/src/topology.js -> frontend/dist/topology.js (IIFE, Cytoscape.js and ELK: only
//                              a flow's Topology tab loads it)
//   frontend/src/aviary.css -> frontend/dist/aviary.css (minified)
// Usage: npm ci && npm run build   (frontend/dist is served by Django's
// STATICFILES_DIRS and is git-ignored).
import { build } from "esbuild";
import { mkdir, rm, stat } from "node:fs/promises";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const root = dirname(here);
const outdir = join(here, "dist");
const started = performance.now();

await rm(outdir, { recursive: true, force: true });
await mkdir(outdir, { recursive: true });

const common = {
  bundle: true,
  minify: true,
  sourcemap: false,
  target: "es2020",
  logLevel: "warning",
  legalComments: "none",
  absWorkingDir: root,
};

const script = (name) =>
  build({
    ...common,
    entryPoints: [join(here, "src", name)],
    outfile: join(outdir, name),
    format: "iife",
    platform: "browser",
    define: { "process.env.NODE_ENV": '"production"' },
  });

await Promise.all([
  script("aviary.js"),
  script("charts.js"),
  script("topology.js"),
  build({
    ...common,
    entryPoints: [join(here, "src", "aviary.css")],
    outfile: join(outdir, "aviary.css"),
  }),
]);

for (const name of ["aviary.js", "charts.js", "topology.js", "aviary.css"]) {
  const file = join(outdir, name);
  const { size } = await stat(file);
  console.log(`${relative(root, file)}  ${(size / 1024).toFixed(1)} KiB`);
}
console.log(`built in ${Math.round(performance.now() - started)} ms`);
