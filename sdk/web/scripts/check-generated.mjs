// Fails when src/gen is not what `npm run generate` makes from ../../proto today: generates
// into a temporary directory and compares file by file.

import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";

function files(dir) {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => relative(dir, join(entry.parentPath, entry.name)))
    .sort();
}

const out = mkdtempSync(join(tmpdir(), "switchboard-gen-"));
try {
  execFileSync("npx", ["buf", "generate", "--output", out], { stdio: "inherit" });
  const fresh = join(out, "src/gen");
  const committed = "src/gen";
  const stale = [];
  const [want, have] = [files(fresh), files(committed)];
  for (const file of new Set([...want, ...have])) {
    const a = want.includes(file) ? readFileSync(join(fresh, file), "utf8") : undefined;
    const b = have.includes(file) ? readFileSync(join(committed, file), "utf8") : undefined;
    if (a !== b) stale.push(file);
  }
  if (stale.length > 0) {
    console.error(`src/gen is stale (${stale.join(", ")}): run \`npm run generate\` in sdk/web and commit`);
    process.exit(1);
  }
  console.log(`src/gen matches the protos (${want.length} files)`);
} finally {
  rmSync(out, { recursive: true, force: true });
}
