// What the browser test files share: a page built with Vite and served from its dist/
// folder, and Debian's Chromium driven by playwright-core.

import { createReadStream, existsSync, statSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { extname, join } from "node:path";

import { type Browser, chromium } from "playwright-core";
import { build } from "vite";

/** The page in `root` built to `root/dist` and served on a loopback port: its URL. */
export async function buildAndServe(root: string, configFile?: string): Promise<{ url: string; server: Server }> {
  await build({ root, logLevel: "warn", configFile: configFile ?? false, build: { outDir: "dist", emptyOutDir: true, target: "es2022" } });
  const dir = join(root, "dist");
  const types: Record<string, string> = { ".html": "text/html", ".js": "text/javascript", ".css": "text/css" };
  const server = createServer((request, response) => {
    const asked = (request.url ?? "/").split("?")[0];
    const path = join(dir, asked === "/" ? "index.html" : asked);
    if (!path.startsWith(dir) || !existsSync(path) || !statSync(path).isFile()) {
      response.writeHead(404).end();
      return;
    }
    response.writeHead(200, { "content-type": types[extname(path)] ?? "application/octet-stream" });
    createReadStream(path).pipe(response);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, server };
}

/** Chromium (`$CHROMIUM`, else Debian's), headless, without the background traffic. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}
