//! Builds the console into dist/ (or `--out DIR`): src/ bundled by esbuild into one classic
//! script, beside the page and its stylesheet. A classic script, not a module, so that the
//! page also works opened from disk (file://), where browsers refuse module scripts.
//! Deterministic: the same sources give the same bytes, which tests/e2e/console.rs checks
//! against the committed dist/.

import { build } from "esbuild";
import { copyFileSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const at = process.argv.indexOf("--out");
const out = at > 0 ? process.argv[at + 1] : join(root, "dist");
mkdirSync(out, { recursive: true });
await build({
  absWorkingDir: root,
  entryPoints: ["src/main.js"],
  bundle: true,
  format: "iife",
  target: "es2022",
  legalComments: "none",
  charset: "utf8",
  outfile: join(out, "console.js"),
  logLevel: "warning",
});
for (const f of ["index.html", "console.css"]) copyFileSync(join(root, "static", f), join(out, f));
