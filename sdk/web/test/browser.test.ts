// The demo chat in real Chromium (Debian's, driven by playwright-core): two browser
// contexts as two users, plus a native Rust client (sbctl) in the same conversation.
// Messages, typing and presence cross between them; a reload resumes without losing what
// was sent meanwhile. A screenshot of the page is kept in test-results/.

import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdirSync } from "node:fs";
import type { Server } from "node:http";
import { join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { crc32, deflateSync } from "node:zlib";

import type { Browser, BrowserContext, Page, Route } from "playwright-core";
import { afterAll, beforeAll, expect, inject, it } from "vitest";

import { SwitchboardClient } from "../src/index.js";
import { buildAndServe, launchChromium } from "./chromium.js";
import { mint, unique } from "./token.js";

const relay = inject("relay");
const secret = inject("secret");
const sbctl = inject("sbctl");
const http = inject("http");
const demo = resolve(import.meta.dirname, "../examples/chat");
const results = resolve(import.meta.dirname, "../test-results");

let server: Server;
let page: string;
let browser: Browser;

beforeAll(async () => {
  ({ url: page, server } = await buildAndServe(demo, join(demo, "vite.config.ts")));
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  server?.close();
});

async function signIn(context: BrowserContext, user: string): Promise<Page> {
  const tab = await context.newPage();
  await tab.goto(page);
  await tab.fill("input[name=url]", relay);
  await tab.fill("textarea[name=token]", mint(user, "acme", secret));
  await tab.click("#sign-in button[type=submit]");
  await tab.waitForSelector("#state:text('live')");
  return tab;
}

async function openConversation(tab: Page, id: bigint): Promise<void> {
  await tab.click(`#conversations li[data-id='${id}']`);
  await tab.waitForSelector("#text:not([disabled])");
}

/** The message rows whose text is exactly `text`. */
function messageRow(tab: Page, text: string) {
  const exactly = new RegExp(`^${text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}$`);
  return tab.locator("#messages li .text").filter({ hasText: exactly });
}

/** `sbctl tail --json` for `user`: the lines it prints, as they arrive. */
function tail(user: string): { events: string[]; process: ChildProcess } {
  const events: string[] = [];
  const child = spawn(sbctl, ["--addr", relay, "--json", "tail"], {
    env: { ...process.env, SWITCHBOARD_TOKEN: mint(user, "acme", secret) },
    stdio: ["ignore", "pipe", "inherit"],
  });
  createInterface({ input: child.stdout! }).on("line", (line) => events.push(line));
  return { events, process: child };
}

async function until(what: string, check: () => boolean): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

it("two browsers and a native client chat, type, see presence, and resume after a reload", async () => {
  const [alice, bob, carol] = [unique("alice"), unique("bob"), unique("carol")];
  const setup = SwitchboardClient.connect({ url: relay, token: mint(alice, "acme", secret) });
  const team = (await setup.api.createTeam({ name: "Launch", members: [bob, carol] })).id;
  setup.close();
  const native = tail(carol);

  const alicePage = await signIn(await browser.newContext(), alice);
  const bobContext = await browser.newContext();
  const bobPage = await signIn(bobContext, bob);
  await openConversation(alicePage, team);
  await openConversation(bobPage, team);

  // Presence: each page shows the other online.
  await alicePage.waitForSelector(`#online:has-text('${bob}')`);
  await bobPage.waitForSelector(`#online:has-text('${alice}')`);

  // Typing, then a message, from alice's page to bob's.
  await alicePage.type("#text", "hello bob");
  await bobPage.waitForSelector(`#typing:has-text('${alice} is typing')`);
  await alicePage.press("#text", "Enter");
  await messageRow(bobPage, "hello bob").waitFor();
  // And the other way: bob starts typing, alice's page says so.
  await bobPage.type("#text", "typing back");
  await alicePage.waitForSelector(`#typing:has-text('${bob} is typing')`);
  await bobPage.fill("#text", "");
  await until("the native client to get the web message", () =>
    native.events.some((line) => line.includes('"hello bob"')),
  );

  // The native client's message reaches both pages.
  execFileSync(sbctl, ["--addr", relay, "send", team.toString(), "hi from native"], {
    env: { ...process.env, SWITCHBOARD_TOKEN: mint(carol, "acme", secret) },
  });
  await messageRow(alicePage, "hi from native").waitFor();
  await messageRow(bobPage, "hi from native").waitFor();

  // bob's page reloads while two messages are sent: after it, both are there, once.
  const reloading = bobPage.reload();
  await alicePage.fill("#text", "sent during the reload 1");
  await alicePage.press("#text", "Enter");
  // Shown once the server took it: the second is sent after, so it comes after.
  await messageRow(alicePage, "sent during the reload 1").waitFor();
  execFileSync(sbctl, ["--addr", relay, "send", team.toString(), "sent during the reload 2"], {
    env: { ...process.env, SWITCHBOARD_TOKEN: mint(carol, "acme", secret) },
  });
  await reloading;
  await bobPage.waitForSelector("#state:text('live')");
  // The reload returns to the conversation bob was in, without a click (#27, defect 5).
  await bobPage.waitForSelector(`#conversations li.selected[data-id='${team}']`);
  await bobPage.waitForSelector("#text:not([disabled])");
  await messageRow(bobPage, "sent during the reload 1").waitFor();
  await messageRow(bobPage, "sent during the reload 2").waitFor();
  for (const text of ["hello bob", "hi from native", "sent during the reload 1", "sent during the reload 2"]) {
    expect(await messageRow(bobPage, text).count(), text).toBe(1);
  }
  const texts = await bobPage.locator("#messages li .text").allTextContents();
  expect(texts.slice(-4)).toEqual(["hello bob", "hi from native", "sent during the reload 1", "sent during the reload 2"]);

  // Live again after the reload: bob answers, alice sees it.
  await bobPage.fill("#text", "back");
  await bobPage.press("#text", "Enter");
  await messageRow(alicePage, "back").waitFor();

  // An image from alice's page (PUT straight to the blob store), shown on bob's.
  await alicePage.setInputFiles("#file", { name: "dot.png", mimeType: "image/png", buffer: tinyPng() });
  await messageRow(bobPage, "dot.png").waitFor();
  const image = bobPage.locator("#messages img.attachment[alt='dot.png']");
  await image.waitFor();
  await bobPage.waitForFunction(() => {
    const img = document.querySelector<HTMLImageElement>("#messages img.attachment[alt='dot.png']");
    return img !== null && img.complete && img.naturalWidth === 1;
  });

  mkdirSync(results, { recursive: true });
  await bobPage.screenshot({ path: join(results, "chat.png") });
  native.process.kill();
});

it("is one URL away: switchboard dev serves the page, and a name is enough to sign in (#27)", async () => {
  const [alice, bob] = [unique("alice"), unique("bob")];
  const writer = SwitchboardClient.connect({ url: relay, token: mint(alice, "acme", secret) });
  const team = (await writer.api.createTeam({ name: "Newcomers", members: [bob] })).id;
  await writer.send(team, "welcome aboard");
  writer.close();

  const tab = await (await browser.newContext()).newPage();
  await tab.goto(`${http}/`);
  await tab.waitForSelector("#dev-sign-in:not([hidden])");
  expect(await tab.isHidden("#sign-in")).toBe(true);
  // A name the server does not take is refused where it was typed.
  await tab.fill("#dev-sign-in input[name=user]", "bob smith");
  await tab.click("#dev-sign-in button[type=submit]");
  await tab.waitForSelector("#dev-sign-in-error:not([hidden])");
  expect(await tab.textContent("#dev-sign-in-error")).toContain("user");
  await tab.fill("#dev-sign-in input[name=user]", bob);
  await tab.click("#dev-sign-in button[type=submit]");
  await tab.waitForSelector("#state:text('live')");
  await openConversation(tab, team);
  await messageRow(tab, "welcome aboard").waitFor();
  await tab.fill("#text", "glad to be here");
  await tab.press("#text", "Enter");
  await messageRow(tab, "glad to be here").waitFor();

  // Only this machine signs in, and only for users: the endpoint never takes scopes.
  const minted = await fetch(`${http}/dev/token`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ user: "carol", org: "acme" }),
  });
  const { token } = (await minted.json()) as { token: string };
  const claims = JSON.parse(Buffer.from(token.split(".")[1], "base64url").toString());
  expect(claims.scope).not.toContain("chat.admin");
});

it("shows unread and mention badges in the conversation list, cleared by reading (#27, defect 6)", async () => {
  const [alice, bob] = [unique("alice"), unique("bob")];
  const writer = SwitchboardClient.connect({ url: relay, token: mint(alice, "acme", secret) });
  const quiet = (await writer.api.createTeam({ name: "Quiet", members: [bob] })).id;
  const busy = (await writer.api.createTeam({ name: "Busy", members: [bob] })).id;
  for (let i = 1; i <= 3; i++) await writer.send(busy, `busy ${i}`);

  const tab = await signIn(await browser.newContext(), bob);
  const badge = (id: bigint) => tab.locator(`#conversations li[data-id='${id}'] .badge`);
  await badge(busy).waitFor();
  expect(await badge(busy).textContent()).toBe("3");
  expect(await badge(quiet).count()).toBe(0);
  // Opening it reads it; the keyboard opens it as a click does.
  await tab.focus(`#conversations li[data-id='${busy}']`);
  await tab.keyboard.press("Enter");
  await tab.waitForSelector(`#conversations li[data-id='${busy}'][aria-current='true']`);
  await tab.waitForSelector("#text:not([disabled])");
  expect(await tab.getAttribute("#messages", "role")).toBe("log");
  await badge(busy).waitFor({ state: "detached" });
  // Live: a message elsewhere counts; one that mentions Bob is marked as for him.
  await writer.send(quiet, "anyone?");
  await tab.waitForSelector(`#conversations li[data-id='${quiet}'] .badge:text('1')`);
  expect(await badge(quiet).getAttribute("class")).toBe("badge");
  await writer.send(quiet, `@${bob} are you there?`);
  await tab.waitForSelector(`#conversations li[data-id='${quiet}'] .badge.mention:text('2')`);
  // A message in the open conversation is read as it arrives.
  await writer.send(busy, "busy 4");
  await messageRow(tab, "busy 4").waitFor();
  expect(await badge(busy).count()).toBe(0);
  // After a reload the counts come from the server: still 2 here, none there. (Its
  // mention count counts notifications, which Bob, live then, was not sent.)
  await tab.reload();
  await tab.waitForSelector(`#conversations li[data-id='${quiet}'] .badge:text('2')`);
  expect(await badge(busy).count()).toBe(0);
  mkdirSync(results, { recursive: true });
  await tab.screenshot({ path: join(results, "badges.png") });
  writer.close();
});

it("groups messages by sender and day, each with its time (#27, defect 6)", async () => {
  const [alice, bob] = [unique("alice"), unique("bob")];
  const writer = SwitchboardClient.connect({ url: relay, token: mint(alice, "acme", secret) });
  const answerer = SwitchboardClient.connect({ url: relay, token: mint(bob, "acme", secret) });
  const team = (await writer.api.createTeam({ name: "Runs", members: [bob] })).id;
  for (const text of ["one", "two", "three"]) await writer.send(team, text);
  await answerer.send(team, "bob here");
  const last = await writer.send(team, "alice again");
  answerer.close();

  const tab = await signIn(await browser.newContext(), bob);
  await openConversation(tab, team);
  await messageRow(tab, "alice again").waitFor();
  const rows = await tab.locator("#messages > li").evaluateAll((items) =>
    items.map((item) => (item.classList.contains("day") ? "day" : item.classList.contains("continued") ? "same" : "new")),
  );
  expect(rows).toEqual(["day", "new", "same", "same", "new", "new"]);
  expect(await tab.locator("#messages li.day").getAttribute("role")).toBe("separator");
  // Each message says when; a live one joins the run before it.
  const at = new Date(Number(last.tsMs)).toISOString();
  expect(await tab.locator(`#messages li[data-id='${last.id}'] time`).getAttribute("datetime")).toBe(at);
  await writer.send(team, "and more");
  await messageRow(tab, "and more").waitFor();
  expect(await tab.locator("#messages > li").last().getAttribute("class")).toContain("continued");
  mkdirSync(results, { recursive: true });
  await tab.screenshot({ path: join(results, "grouped.png") });
  writer.close();
});

it("writes several lines with Shift+Enter and sends with Enter (#27)", async () => {
  const alice = unique("alice");
  const reader = SwitchboardClient.connect({ url: relay, token: mint(alice, "acme", secret) });
  const team = (await reader.api.createTeam({ name: "Lines", members: [] })).id;
  const tab = await signIn(await browser.newContext(), alice);
  await openConversation(tab, team);
  const height = () => tab.locator("#text").evaluate((box) => box.getBoundingClientRect().height);
  const oneLine = await height();
  await tab.focus("#text");
  await tab.keyboard.type("first line");
  await tab.keyboard.press("Shift+Enter");
  await tab.keyboard.type("second line");
  expect(await tab.inputValue("#text")).toBe("first line\nsecond line");
  expect(await height()).toBeGreaterThan(oneLine);
  await tab.keyboard.press("Enter");
  const row = tab.locator("#messages li .text").filter({ hasText: "second line" });
  await row.waitFor();
  expect(await row.innerText()).toBe("first line\nsecond line");
  expect((await reader.history(team)).messages.map((m) => m.data)).toEqual(["first line\nsecond line"]);
  // Sent: the composer is empty, one line high again, and keeps the focus for the next.
  expect(await tab.inputValue("#text")).toBe("");
  expect(await height()).toBe(oneLine);
  expect(await tab.evaluate(() => document.activeElement?.id)).toBe("text");
  reader.close();
});

it("shows who has seen the sender's newest message, live and after a reload (#27)", async () => {
  const [alice, bob, carol] = [unique("alice"), unique("bob"), unique("carol")];
  const owner = SwitchboardClient.connect({ url: relay, token: mint(alice, "acme", secret) });
  const team = (await owner.api.createTeam({ name: "Receipts", members: [bob, carol] })).id;
  owner.close();
  const bobReads = SwitchboardClient.connect({ url: relay, token: mint(bob, "acme", secret) });
  const tab = await signIn(await browser.newContext(), alice);
  await openConversation(tab, team);
  await tab.fill("#text", "did you see this?");
  await tab.press("#text", "Enter");
  await messageRow(tab, "did you see this?").waitFor();
  expect(await tab.locator("#seen").innerText()).toBe("");
  const sent = (await bobReads.history(team)).messages[0];
  await bobReads.markRead(team, sent.id);
  await tab.waitForSelector(`#seen:text-is("Seen by ${bob}")`);
  await tab.reload();
  await tab.waitForSelector("#state:text('live')");
  await messageRow(tab, "did you see this?").waitFor();
  await tab.waitForSelector(`#seen:text-is("Seen by ${bob}")`);
  // A newer message of hers is not seen yet.
  await tab.fill("#text", "and this?");
  await tab.press("#text", "Enter");
  await messageRow(tab, "and this?").waitFor();
  await tab.waitForSelector(`#seen:text-is("")`);
  bobReads.close();
});

it("shows an upload's progress until it is sent (#27)", async () => {
  const alice = unique("alice");
  const owner = SwitchboardClient.connect({ url: relay, token: mint(alice, "acme", secret) });
  const team = (await owner.api.createTeam({ name: "Uploads", members: [] })).id;
  owner.close();
  const tab = await signIn(await browser.newContext(), alice);
  await openConversation(tab, team);
  // Hold the bytes on their way to the blob store, to see the upload while it runs.
  const held: Route[] = [];
  await tab.route("**/*", (route) => (route.request().method() === "PUT" ? held.push(route) : route.continue()));
  await tab.setInputFiles("#file", { name: "notes.txt", mimeType: "text/plain", buffer: Buffer.from("hello") });
  const uploading = tab.locator("#uploads li", { hasText: "notes.txt" });
  await uploading.waitFor();
  expect(await uploading.locator("progress").getAttribute("max")).toBe("5");
  expect(await uploading.locator("progress").getAttribute("aria-label")).toBe("Uploading notes.txt");
  await until("the PUT to be held", () => held.length === 1);
  await held[0].continue();
  await messageRow(tab, "notes.txt").waitFor();
  await uploading.waitFor({ state: "detached" });
  await tab.unroute("**/*");
});

it("creates a team from the page, which its members see and open (#27)", async () => {
  const [alice, bob] = [unique("alice"), unique("bob")];
  const tab = await signIn(await browser.newContext(), alice);
  const bobTab = await signIn(await browser.newContext(), bob);
  await tab.click("#new-team-toggle");
  await tab.fill("#new-team input[name=name]", "Launch");
  await tab.fill("#new-team input[name=members]", `${bob}, not a user id!`);
  await tab.click("#new-team button[type=submit]");
  // A bad member id is refused where it was typed, and nothing is created.
  await tab.waitForSelector("#new-team .error:not([hidden])");
  expect(await tab.inputValue("#new-team input[name=name]")).toBe("Launch");
  await tab.fill("#new-team input[name=members]", bob);
  await tab.click("#new-team button[type=submit]");
  await tab.waitForSelector("#title:text-is('Launch')");
  expect(await tab.locator("#new-team").isHidden()).toBe(true);
  await tab.fill("#text", "welcome aboard");
  await tab.press("#text", "Enter");
  // bob's list shows the new team live, with the message unread.
  const item = bobTab.locator("#conversations li", { hasText: "Launch" });
  await item.waitFor();
  await item.click();
  await messageRow(bobTab, "welcome aboard").waitFor();
});

it("works at phone width: a colleague on a desktop, the other on a phone, in a thread and back (#27)", async () => {
  const [alice, bob] = [unique("alice"), unique("bob")];
  const desk = await signIn(await browser.newContext({ viewport: { width: 1200, height: 800 } }), alice);
  const phone = await signIn(await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true }), bob);
  const noSidewaysScroll = () => phone.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth);
  await desk.click("#new-team-toggle");
  await desk.fill("#new-team input[name=name]", "Field");
  await desk.fill("#new-team input[name=members]", bob);
  await desk.click("#new-team button[type=submit]");
  await desk.fill("#text", "where are you?");
  await desk.press("#text", "Enter");

  // On the phone: the team turns up in the list above the messages; open it with a tap.
  const team = phone.locator("#conversations li", { hasText: "Field" });
  await team.waitFor();
  await team.tap();
  await messageRow(phone, "where are you?").waitFor();
  expect(await noSidewaysScroll()).toBe(true);
  // Answer in a thread: it covers the screen, and closing it comes back to the messages.
  await phone.locator("#messages li", { hasText: "where are you?" }).locator("button.replies").tap();
  await phone.waitForSelector("#thread:not([hidden])");
  const thread = await phone.locator("#thread").boundingBox();
  expect([thread!.x, thread!.width]).toEqual([0, 390]);
  await phone.fill("#thread-text", "on site, back at 5");
  await phone.press("#thread-text", "Enter");
  await phone.locator("#replies li", { hasText: "on site, back at 5" }).waitFor();
  await phone.tap("#close-thread");
  await phone.waitForSelector("#thread", { state: "hidden" });
  await phone.waitForSelector(`#messages li:has-text("where are you?") button.replies:text-is("1 reply")`);
  expect(await noSidewaysScroll()).toBe(true);
  mkdirSync(results, { recursive: true });
  await phone.screenshot({ path: join(results, "phone.png") });
  // The desk sees the reply counted on its message.
  await desk.waitForSelector(`#messages li:has-text("where are you?") button.replies:text-is("1 reply")`);
});

it("edits and deletes one's own messages, which the others see change (#27)", async () => {
  const [alice, bob] = [unique("alice"), unique("bob")];
  const owner = SwitchboardClient.connect({ url: relay, token: mint(alice, "acme", secret) });
  const team = (await owner.api.createTeam({ name: "Edits", members: [bob] })).id;
  owner.close();
  const tab = await signIn(await browser.newContext(), alice);
  const other = await signIn(await browser.newContext(), bob);
  await openConversation(tab, team);
  await openConversation(other, team);
  for (const text of ["teh plan", "a mistake"]) {
    await tab.fill("#text", text);
    await tab.press("#text", "Enter");
    await messageRow(other, text).waitFor();
  }
  // Only one's own messages offer it.
  expect(await other.locator("#messages li", { hasText: "teh plan" }).locator("button.edit").count()).toBe(0);
  await tab.locator("#messages li", { hasText: "teh plan" }).locator("button.edit").click();
  expect(await tab.inputValue("#text")).toBe("teh plan");
  await tab.fill("#text", "the plan");
  await tab.press("#text", "Enter");
  await messageRow(other, "the plan").waitFor();
  expect(await other.locator("#messages li", { hasText: "the plan" }).innerText()).toContain("(edited)");
  expect(await tab.inputValue("#text")).toBe("");
  // Escape leaves an edit without changing anything.
  await tab.locator("#messages li", { hasText: "the plan" }).locator("button.edit").click();
  await tab.press("#text", "Escape");
  expect(await tab.inputValue("#text")).toBe("");
  await tab.locator("#messages li", { hasText: "a mistake" }).locator("button.delete").click();
  await other.locator("#messages li .text", { hasText: "(deleted)" }).waitFor();
  expect(await messageRow(other, "a mistake").count()).toBe(0);
});

it("drops a message from the page once its retention has run out (#26)", async () => {
  const [alice, root] = [unique("alice"), unique("root")];
  const owner = SwitchboardClient.connect({ url: relay, token: mint(alice, "acme", secret) });
  const team = (await owner.api.createTeam({ name: "Short-lived", members: [] })).id;
  owner.close();
  const admin = SwitchboardClient.connect({ url: relay, token: mint(root, "acme", secret, 3600, undefined, "chat.read chat.admin") });
  await admin.setRetention(1, team);
  admin.close();
  const context = await browser.newContext();
  await context.clock.install();
  const tab = await signIn(context, alice);
  await openConversation(tab, team);
  await tab.fill("#text", "gone tomorrow");
  await tab.press("#text", "Enter");
  await messageRow(tab, "gone tomorrow").waitFor();
  await tab.clock.fastForward("23:00:00");
  expect(await messageRow(tab, "gone tomorrow").count()).toBe(1);
  await tab.clock.fastForward("01:01:00");
  await messageRow(tab, "gone tomorrow").waitFor({ state: "detached" });
  await context.close();
});

it("loads older history as the reader scrolls up", async () => {
  const [alice, bob] = [unique("alice"), unique("bob")];
  const writer = SwitchboardClient.connect({ url: relay, token: mint(alice, "acme", secret) });
  const team = (await writer.api.createTeam({ name: "Archive", members: [bob] })).id;
  for (let i = 1; i <= 75; i++) await writer.send(team, `note ${i}`);
  writer.close();

  const tab = await signIn(await browser.newContext(), bob);
  await openConversation(tab, team);
  await messageRow(tab, "note 75").waitFor();
  const rows = tab.locator("#messages li");
  const first = await rows.count();
  expect(first).toBeLessThan(75);
  // Scrolling to the top pulls in the older pages, until the very first note.
  const deadline = Date.now() + 10_000;
  while ((await messageRow(tab, "note 1").count()) === 0) {
    expect(Date.now() < deadline, "older pages never loaded").toBe(true);
    await tab.locator("#messages").evaluate((list) => list.scrollTo(0, 0));
    await tab.waitForTimeout(50);
  }
  const texts = await tab.locator("#messages li .text").allTextContents();
  expect(texts).toEqual(Array.from({ length: 75 }, (_, i) => `note ${i + 1}`));
});

it("keeps a refused draft with the error beside it, and fits a phone with a long unbroken word (#27, defects 3 and 4)", async () => {
  const [alice, bob] = [unique("alice"), unique("bob")];
  const writer = SwitchboardClient.connect({ url: relay, token: mint(alice, "acme", secret) });
  const team = (await writer.api.createTeam({ name: "Narrow", members: [bob] })).id;
  writer.close();
  const phone = await browser.newContext({ viewport: { width: 390, height: 800 } });
  const tab = await signIn(phone, bob);
  await openConversation(tab, team);
  // Too long: refused, said where it happened, and the text stays to be fixed.
  const tooLong = "x".repeat(20_000);
  await tab.fill("#text", tooLong);
  await tab.press("#text", "Enter");
  await tab.waitForSelector("#composer-error:not([hidden])");
  expect(await tab.textContent("#composer-error")).toContain("data");
  expect(await tab.inputValue("#text")).toBe(tooLong);
  // A file of a type the server does not take: said where it happened, too.
  await tab.setInputFiles("#file", { name: "tool.exe", mimeType: "application/x-msdownload", buffer: Buffer.from("MZ") });
  await tab.waitForFunction(() => document.querySelector("#composer-error")?.textContent?.includes("tool.exe"));
  expect(await tab.textContent("#composer-error")).toContain("not allowed");
  // A long unbroken word: the page does not scroll sideways, Send stays on screen.
  const url = `https://example.com/${"a".repeat(300)}`;
  await tab.fill("#text", url);
  await tab.press("#text", "Enter");
  await messageRow(tab, url).waitFor();
  expect(await tab.isHidden("#composer-error")).toBe(true);
  const wide = await tab.evaluate(() => document.documentElement.scrollWidth > window.innerWidth);
  expect(wide).toBe(false);
  const send = await tab.locator("#composer button[type=submit]").boundingBox();
  expect(send!.x + send!.width).toBeLessThanOrEqual(390);
  mkdirSync(results, { recursive: true });
  await tab.screenshot({ path: join(results, "phone.png") });
});

it("stays at the newest message when pictures load and new messages arrive (#27, defect 2)", async () => {
  const [alice, bob] = [unique("alice"), unique("bob")];
  const writer = SwitchboardClient.connect({ url: relay, token: mint(alice, "acme", secret) });
  const team = (await writer.api.createTeam({ name: "Pictures", members: [bob] })).id;
  for (let i = 1; i <= 20; i++) await writer.send(team, `before ${i}`);
  for (let i = 1; i <= 3; i++) {
    const picture = new Blob([png(200, 150)], { type: "image/png" });
    const attachment = await writer.uploadFile(team, picture, { filename: `photo${i}.png` });
    await writer.sendAttachment(team, attachment);
  }
  await writer.send(team, "after the pictures");

  const tab = await signIn(await browser.newContext({ viewport: { width: 1000, height: 600 } }), bob);
  await openConversation(tab, team);
  await messageRow(tab, "after the pictures").waitFor();
  await tab.waitForFunction(() => {
    const images = [...document.querySelectorAll<HTMLImageElement>("#messages img.attachment")];
    return images.length === 3 && images.every((image) => image.complete && image.naturalWidth === 200);
  });
  const gap = () =>
    tab.locator("#messages").evaluate((list) => list.scrollHeight - list.scrollTop - list.clientHeight);
  // Space for each picture is kept before it loads, so loading moves nothing.
  const heights = await tab.locator("#messages img.attachment").evaluateAll((images) => images.map((i) => i.clientHeight));
  expect(heights).toEqual([150, 150, 150]);
  expect(await gap()).toBeLessThan(2);
  // A new message from someone else comes into view.
  await writer.send(team, "a new one");
  await messageRow(tab, "a new one").waitFor();
  await tab.waitForFunction(() => {
    const list = document.querySelector("#messages")!;
    return list.scrollHeight - list.scrollTop - list.clientHeight < 2;
  });
  writer.close();
});

it("finds a colleague by name, starts a DM, and shows both by their names and pictures", async () => {
  const [alice, bob] = [unique("alice"), unique("bob")];
  const surname = `Zq${Date.now().toString(36)}`;
  const aliceName = `Alice ${surname}a`;
  for (const [user, name] of [[alice, aliceName], [bob, `Bob ${surname}`]]) {
    const setup = SwitchboardClient.connect({ url: relay, token: mint(user, "acme", secret) });
    await setup.updateProfile({ displayName: name, title: "Builder" });
    setup.close();
  }
  const alicePage = await signIn(await browser.newContext(), alice);
  // The page calls her by her name, not her user id.
  await alicePage.waitForSelector(`#me:has-text('${aliceName}')`);
  // Alice sets her picture from the page.
  await alicePage.setInputFiles("#picture-file", { name: "me.png", mimeType: "image/png", buffer: tinyPng() });
  await alicePage.waitForSelector("#me .avatar img");
  await alicePage.fill("#find", `bob ${surname.slice(0, 6)}`);
  // The DM opens slowly (its members load late, as on a busy server): what Alice types as
  // soon as its title shows is not lost.
  await alicePage.route("**/switchboard.v1.Chat/ListMembers", async (route) => {
    await new Promise((resolve) => setTimeout(resolve, 1500));
    await route.continue();
  });
  await alicePage.click(`#found li[data-user='${bob}']`);
  await alicePage.waitForSelector(`#title:text('Bob ${surname}')`);
  await alicePage.waitForSelector(`#conversations li:text('Bob ${surname}')`);
  await alicePage.type("#text", "found you");
  await alicePage.press("#text", "Enter");
  // Sent (shown from the answer) before Bob looks.
  await messageRow(alicePage, "found you").waitFor();

  const bobPage = await signIn(await browser.newContext(), bob);
  await bobPage.click(`#conversations li:text('${aliceName}')`);
  await messageRow(bobPage, "found you").waitFor();
  await bobPage.waitForSelector(`#messages .from:text('${aliceName}')`);
  await bobPage.waitForSelector(`#online:has-text('online: ${aliceName}')`);
  // Bob sees her picture, decoded, beside her message and her name in his list.
  const shown = (selector: string) =>
    bobPage.waitForFunction(
      (s) => [...document.querySelectorAll<HTMLImageElement>(s)].some((i) => i.complete && i.naturalWidth === 1),
      selector,
    );
  await shown(`#messages .avatar[data-user='${alice}'] img`);
  await shown(`#conversations .avatar[data-user='${alice}'] img`);
  // Bob pins her message; Alice sees it pinned without reloading.
  await messageRow(bobPage, "found you").locator("xpath=..").locator(".pin").click();
  await bobPage.waitForSelector(`#messages .pin[aria-pressed='true']`);
  await alicePage.waitForSelector(`#messages .pin[aria-pressed='true']:text('pinned by Bob ${surname}')`);
  // Alice reacts; Bob sees the count.
  await alicePage.click(`#messages .reaction[data-emoji='👍']`);
  await alicePage.waitForSelector(`#messages .reaction[data-emoji='👍'][aria-pressed='true']`);
  await bobPage.waitForSelector(`#messages .reaction[data-emoji='👍']:text('1')`);
  // Bob answers in a thread: Alice sees "1 reply" under her message, not the reply itself,
  // and opens the thread to read it.
  await messageRow(bobPage, "found you").locator("xpath=..").locator(".replies").click();
  await bobPage.fill("#thread-text", "in the thread");
  await bobPage.press("#thread-text", "Enter");
  await bobPage.waitForSelector(`#replies .text:text('in the thread')`);
  await alicePage.waitForSelector(`#messages .replies:text('1 reply')`);
  expect(await alicePage.locator(`#messages .text:text('in the thread')`).count()).toBe(0);
  await alicePage.click(`#messages .replies:text('1 reply')`);
  await alicePage.waitForSelector(`#replies .text:text('in the thread')`);
  // Signed in, the sign-in form is gone and the page fits its window: the thread's Reply
  // button is on screen without scrolling (#27, defect 1).
  expect(await alicePage.isVisible("#sign-in")).toBe(false);
  const fits = await alicePage.evaluate(() => document.documentElement.scrollHeight <= window.innerHeight);
  expect(fits).toBe(true);
  const reply = await alicePage.locator("#thread-composer button[type=submit]").boundingBox();
  expect(reply!.y + reply!.height).toBeLessThanOrEqual(alicePage.viewportSize()!.height);
  // Each part of a row stands apart, in the thread as in the conversation: the time from
  // the text, each action from the next.
  const gap = (left: string, right: string) =>
    alicePage.evaluate(
      ([left, right]) => {
        // Where the first ends and the second starts, as laid out (lines may wrap).
        const end = [...document.querySelector(left)!.getClientRects()].at(-1)!;
        const start = document.querySelector(right)!.getClientRects()[0];
        return start.top >= end.bottom ? Infinity : start.left - end.right;
      },
      [left, right],
    );
  expect(await gap("#replies li .time", "#replies li .text")).toBeGreaterThanOrEqual(4);
  expect(await gap("#thread-root li .time", "#thread-root li .text")).toBeGreaterThanOrEqual(4);
  expect(await gap("#messages li.message .pin", "#messages li.message .edit")).toBeGreaterThanOrEqual(4);
  expect(await gap("#messages li.message .edit", "#messages li.message .delete")).toBeGreaterThanOrEqual(4);
  mkdirSync(results, { recursive: true });
  await alicePage.screenshot({ path: join(results, "thread.png") });
  await bobPage.screenshot({ path: join(results, "people.png") });
});

/** A real grey PNG of `width` × `height`, so the browser decodes it to that size. */
function png(width: number, height: number): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(type, "ascii"), data]);
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));
    return Buffer.concat([length, body, crc]);
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 0, 0, 0, 0], 8); // 8-bit greyscale
  const rows = Buffer.alloc((width + 1) * height, 0x99);
  for (let y = 0; y < height; y++) rows[y * (width + 1)] = 0; // no filter
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  return Buffer.concat([signature, chunk("IHDR", header), chunk("IDAT", deflateSync(rows)), chunk("IEND", Buffer.alloc(0))]);
}

/** A real 1×1 PNG, so the browser can decode it. */
function tinyPng(): Buffer {
  return Buffer.from(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==",
    "base64",
  );
}
