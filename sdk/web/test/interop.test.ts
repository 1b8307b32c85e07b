// gRPC-Web as clients that are not Switchboard's speak it, in Chromium against the
// relay: Google's `grpc-web` runtime in its text and binary formats, and Connect's
// gRPC-Web transport, each making a unary call (ListHistory) and following a realtime
// stream (RealtimeWeb.Subscribe). See test/interop/main.ts for the clients.

import type { Server } from "node:http";
import { resolve } from "node:path";

import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, expect, inject, it } from "vitest";

import { createClient } from "@connectrpc/connect";
import { createGrpcWebTransport } from "@connectrpc/connect-web";

import { Admin, SwitchboardClient } from "../src/index.js";
import { buildAndServe, launchChromium } from "./chromium.js";
import { mint, unique } from "./token.js";

const relay = inject("relay");
const secret = inject("secret");

let server: Server;
let browser: Browser;
let tab: Page;

beforeAll(async () => {
  const built = await buildAndServe(resolve(import.meta.dirname, "interop"));
  server = built.server;
  browser = await launchChromium();
  tab = await browser.newPage();
  await tab.goto(built.url);
  await tab.waitForFunction(() => document.title === "ready");
});

afterAll(async () => {
  await browser?.close();
  server?.close();
});

/** A team of `alice` and `reader` with one message in it, and alice's client to send more. */
async function conversation(reader: string): Promise<{ alice: SwitchboardClient; team: bigint }> {
  const alice = SwitchboardClient.connect({ url: relay, token: mint(unique("alice"), "acme", secret) });
  const team = (await alice.api.createTeam({ name: "Interop", members: [reader] })).id;
  await alice.send(team, "sent before");
  return { alice, team };
}

/** The frames the page's stream `name` got so far. */
function frames(name: string): Promise<string[]> {
  return tab.evaluate((name) => window.interop.streams[name] ?? [], name);
}

/** Waits until stream `name` got a frame `frame`. */
async function until(name: string, frame: string): Promise<void> {
  await tab.waitForFunction(([name, frame]) => window.interop.streams[name]?.includes(frame), [name, frame], {
    timeout: 15_000,
  });
}

for (const format of ["text", "binary"] as const) {
  it(`Google's grpc-web runtime (${format}) makes a unary call`, async () => {
    const reader = unique("reader");
    const { alice, team } = await conversation(reader);
    const token = mint(reader, "acme", secret);
    const texts = await tab.evaluate(
      ([format, relay, token, team]) => window.interop.google.history(format, relay, token, team),
      [format, relay, token, team.toString()] as const,
    );
    expect(texts).toEqual(["sent before"]);
    alice.close();
  });
}

it("Google's grpc-web runtime (text) follows a realtime stream live", async () => {
  const reader = unique("reader");
  const { alice, team } = await conversation(reader);
  const token = mint(reader, "acme", secret);
  await tab.evaluate(
    ([relay, token, team]) => window.interop.google.subscribe("google-text", "text", relay, token, team),
    [relay, token, team.toString()] as const,
  );
  await until("google-text", "live");
  await alice.send(team, "sent live");
  await until("google-text", "message:sent live");
  expect(await frames("google-text")).toEqual(["welcome", "message:sent before", "live", "message:sent live"]);
  alice.close();
});

// The runtime's binary format reads a response only once it is complete (the grpc-web
// project supports server streaming in the text format only), so this stream is ended by
// the server: the reader is suspended, which ends their streams at once.
it("Google's grpc-web runtime (binary) reads a realtime stream's frames and its ending status", async () => {
  const reader = unique("reader");
  const { alice, team } = await conversation(reader);
  const adminToken = mint(unique("root"), "acme", secret, 3600, undefined, "chat.read chat.admin");
  const admin = SwitchboardClient.connect({ url: relay, token: adminToken });
  const connections = createClient(
    Admin,
    createGrpcWebTransport({
      baseUrl: relay,
      interceptors: [(next) => (request) => {
        request.header.set("authorization", `Bearer ${adminToken}`);
        return next(request);
      }],
    }),
  );
  const token = mint(reader, "acme", secret);
  await tab.evaluate(
    ([relay, token, team]) => window.interop.google.subscribe("google-binary", "binary", relay, token, team),
    [relay, token, team.toString()] as const,
  );
  await alice.send(team, "sent while open");
  // The stream is open once the relay shows the reader connected.
  const deadline = Date.now() + 15_000;
  while (!(await connections.connections({ userId: reader })).connections.length) {
    if (Date.now() > deadline) throw new Error("the binary stream never connected");
    await new Promise((r) => setTimeout(r, 50));
  }
  await admin.suspend(reader, "ending the stream");
  await until("google-binary", "error:7");
  const got = await frames("google-binary");
  // The message sent while the stream opened came in its replay or live, once either way.
  const [before, ending] = [got.slice(0, got.indexOf("error:7")), got.slice(got.indexOf("error:7"))];
  expect(before.filter((f) => f !== "message:sent while open")).toEqual(["welcome", "message:sent before", "live"]);
  expect(before.filter((f) => f === "message:sent while open")).toHaveLength(1);
  expect(ending[0]).toBe("error:7");
  await admin.unsuspend(reader);
  admin.close();
  alice.close();
});

it("Connect's gRPC-Web transport makes a unary call and follows a realtime stream live", async () => {
  const reader = unique("reader");
  const { alice, team } = await conversation(reader);
  const token = mint(reader, "acme", secret);
  const texts = await tab.evaluate(
    ([relay, token, team]) => window.interop.connect.history(relay, token, team),
    [relay, token, team.toString()] as const,
  );
  expect(texts).toEqual(["sent before"]);
  await tab.evaluate(
    ([relay, token, team]) => window.interop.connect.subscribe("connect", relay, token, team),
    [relay, token, team.toString()] as const,
  );
  await until("connect", "live");
  await alice.send(team, "sent live");
  await until("connect", "message:sent live");
  expect(await frames("connect")).toEqual(["welcome", "message:sent before", "live", "message:sent live"]);
  alice.close();
});
