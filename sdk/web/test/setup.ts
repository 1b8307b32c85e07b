// Vitest global setup: a real `switchboard dev` (the workspace's debug build, built first
// if missing) on ephemeral ports, allowing any web origin. Tests get the relay's URL and
// the dev signing secret through `inject`.

import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createInterface } from "node:readline";

import type { TestProject } from "vitest/node";

declare module "vitest" {
  export interface ProvidedContext {
    relay: string;
    secret: string;
    sbctl: string;
    http: string;
  }
}

const workspace = resolve(import.meta.dirname, "../../..");

/** A binary of the workspace: `$SB_BIN_DIR/<name>`, else the cargo target dir's debug build. */
function binary(name: string): string {
  const targets = process.env.CARGO_TARGET_DIR ?? join(homedir(), ".cache/switchboard-target");
  const dir = process.env.SB_BIN_DIR ?? join(targets, "debug");
  const path = join(dir, name);
  if (!existsSync(path)) {
    const built = spawnSync("cargo", ["build", "--workspace", "--bins"], { cwd: workspace, stdio: "inherit" });
    if (built.status !== 0) throw new Error(`cannot build ${name}`);
  }
  return path;
}

let dev: ChildProcess | undefined;
let dir = "";

export default async function setup(project: TestProject): Promise<() => void> {
  dir = mkdtempSync(join(tmpdir(), "switchboard-web-"));
  const data = join(dir, "data");
  dev = spawn(
    binary("switchboard"),
    [
      "dev",
      "--data-dir",
      data,
      "--controller-listen",
      "127.0.0.1:0",
      "--relay-listen",
      "127.0.0.1:0",
      "--demo",
      join(workspace, "sdk/web/examples/chat/dist"),
    ],
    {
      env: {
        ...process.env,
        RUST_LOG: "warn",
        SWITCHBOARD_HTTP__LISTEN: "127.0.0.1:0",
        SWITCHBOARD_RELAY__WEB_ALLOWED_ORIGINS: '["*"]',
        SWITCHBOARD_RELAY__PRESENCE_DEBOUNCE_MS: "300",
        SWITCHBOARD_RELAY__CONNECT_RATE_PER_IP: "100000",
        SWITCHBOARD_RELAY__CONNECT_BURST_PER_IP: "100000",
        SWITCHBOARD_LIMITS__SEND_RATE_PER_SEC: "100000",
        SWITCHBOARD_LIMITS__SEND_BURST: "100000",
        SWITCHBOARD_LIMITS__WRITE_RATE_PER_SEC: "100000",
        SWITCHBOARD_LIMITS__WRITE_BURST: "100000",
      },
      stdio: ["ignore", "pipe", "inherit"],
    },
  );
  const { relay, http } = await new Promise<{ relay: string; http: string }>((resolve, reject) => {
    const lines = createInterface({ input: dev!.stdout! });
    const timer = setTimeout(() => reject(new Error("switchboard dev did not start in 60 s")), 60_000);
    let http = "";
    lines.on("line", (line) => {
      http = line.match(/^http listening on (.+)$/)?.[1] ?? http;
      const address = line.match(/^relay listening on (.+)$/)?.[1];
      if (address) {
        clearTimeout(timer);
        resolve({ relay: `http://${address}`, http: `http://${http}` });
      }
    });
    dev!.on("exit", (code) => reject(new Error(`switchboard dev exited (${code})`)));
  });
  project.provide("relay", relay);
  project.provide("http", http);
  project.provide("secret", readFileSync(join(data, "dev-secret"), "utf8").trim());
  project.provide("sbctl", binary("sbctl"));
  return () => {
    dev?.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  };
}
