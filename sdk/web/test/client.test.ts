// SwitchboardClient against a live `switchboard dev`: live messages both ways, typing,
// presence, history paging, and resume after a disconnect without gaps or duplicates.

import { createServer, type AddressInfo, connect as connectTcp, type Socket } from "node:net";

import { afterEach, describe, expect, inject, it } from "vitest";

import { Availability, backoffDelay, JobKind, JobState, type Message, PushLevel, SwitchboardClient, type SwitchboardEvents } from "../src/index.js";
import { mint, unique } from "./token.js";

const relay = inject("relay");
const secret = inject("secret");
const open: SwitchboardClient[] = [];

function connect(user: string, options: Partial<Parameters<typeof SwitchboardClient.connect>[0]> = {}) {
  const client = SwitchboardClient.connect({ url: relay, token: mint(user, "acme", secret), ...options });
  open.push(client);
  return client;
}

afterEach(() => {
  for (const client of open.splice(0)) client.close();
});

/** Resolves with the first `kind` value that `pick` accepts (10 s at most). */
function next<K extends keyof SwitchboardEvents>(
  client: SwitchboardClient,
  kind: K,
  pick: (value: SwitchboardEvents[K]) => boolean = () => true,
): Promise<SwitchboardEvents[K]> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${kind} in time`)), 10_000);
    const stop = client.on(kind, (value) => {
      if (pick(value)) {
        clearTimeout(timer);
        stop();
        resolve(value);
      }
    });
  });
}

async function live(client: SwitchboardClient): Promise<void> {
  if (client.state !== "live") await next(client, "state", (s) => s === "live");
}

async function team(owner: SwitchboardClient, members: string[]): Promise<bigint> {
  const created = await owner.api.createTeam({ name: "Web team", members });
  return created.id;
}

/** A TCP proxy to the relay whose connections the test can cut. */
async function cuttableProxy(): Promise<{ url: string; cut: () => void; close: () => void }> {
  const sockets = new Set<Socket>();
  const proxy = createServer((client) => {
    const upstream = connectTcp(Number(new URL(relay).port), "127.0.0.1");
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on("error", () => {});
      socket.on("close", () => sockets.delete(socket));
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`,
    cut: () => {
      for (const socket of sockets) socket.destroy();
    },
    close: () => proxy.close(),
  };
}

const fastBackoff = { initialMs: 50, maxMs: 200 };

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("SwitchboardClient", () => {
  it("sends, receives live, and returns the acked message", async () => {
    const [alice, bob] = [unique("alice"), unique("bob")];
    const a = connect(alice);
    const channel = await team(a, [bob]);
    const b = connect(bob);
    await Promise.all([live(a), live(b)]);

    const arriving = next(b, "message", (m) => m.data === "hello from the web");
    const sent = await a.send(channel, "hello from the web");
    expect(sent.id).toBeGreaterThan(0n);
    expect(sent.from).toBe(alice);
    const received = await arriving;
    expect(received.id).toBe(sent.id);

    // The async iterator sees the same stream of events.
    const iterator = b.events();
    const reply = await b.send(channel, "and back");
    for await (const event of iterator) {
      if (event.kind.case === "messageCreated" && event.kind.value.message?.id === reply.id) break;
    }
  });

  it("names people by their profiles, finds them, keeps contacts and blocks", async () => {
    const [alice, bob] = [unique("alice"), unique("bob")];
    const name = `Alice Lid${Date.now().toString(36)}`;
    const a = SwitchboardClient.connect({ url: relay, token: mint(alice, "acme", secret, 3600, name) });
    open.push(a);
    const b = connect(bob);
    expect((await a.profile()).displayName).toBe(name);
    const updated = await a.updateProfile({ title: "Head of Wonder", email: "alice@acme.example" });
    expect(updated.title).toBe("Head of Wonder");
    const seen = (await b.profiles([alice, unique("nobody")]));
    expect(seen.get(alice)?.displayName).toBe(name);
    expect(seen.get(alice)?.email).toBe("");
    expect([...seen.values()].map((p) => p.exists)).toEqual([true, false]);

    const found = await b.searchUsers(name.split(" ")[1]);
    expect(found.users.map((p) => p.userId)).toEqual([alice]);
    await b.addContact(alice);
    expect((await b.contacts()).map((p) => p.profile?.displayName)).toEqual([name]);
    await a.block(bob);
    expect((await a.blocked()).map((p) => p.profile?.userId)).toEqual([bob]);
    expect(await a.unblock(bob)).toBe(true);

    // An avatar: uploaded, seen by others of the org, one URL per picture.
    const png = new Uint8Array([
      0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52, 0, 0, 0, 3, 0, 0, 0, 2, 8, 6,
      0, 0, 0, 0, 0, 0, 0,
    ]);
    const withAvatar = await a.setAvatar(new Blob([png], { type: "image/png" }), { filename: "me.png" });
    expect(withAvatar.avatarId).not.toBe(0n);
    const avatarId = (await b.profile(alice)).avatarId;
    expect(avatarId).toBe(withAvatar.avatarId);
    const url = await b.avatarUrl(avatarId);
    expect(await b.avatarUrl(avatarId)).toBe(url);
    expect(new Uint8Array(await (await fetch(url)).arrayBuffer())).toEqual(png);
    expect((await a.clearAvatar()).avatarId).toBe(0n);
    expect((await b.profile(alice)).avatarId).toBe(0n);
  });

  it("shows typing and presence", async () => {
    const [alice, bob] = [unique("alice"), unique("bob")];
    const a = connect(alice);
    const channel = await team(a, [bob]);
    await live(a);
    // alice shows bob's presence: first his state (offline), then his changes.
    const offlineFirst = next(a, "presence", (p) => p.userId === bob && !p.online);
    await a.watchPresence([bob]);
    await offlineFirst;
    const online = next(a, "presence", (p) => p.userId === bob && p.online);
    const b = connect(bob);
    await live(b);
    await online;
    expect((await a.presence([bob])).get(bob)?.online).toBe(true);

    // bob's status reaches alice as part of his presence.
    const away = next(a, "presence", (p) => p.userId === bob && p.availability === Availability.AWAY);
    await b.setStatus(Availability.AWAY, "at lunch");
    expect((await away).statusText).toBe("at lunch");

    const typing = next(b, "typing", (t) => t.userId === alice && t.typing);
    await a.typing(channel, true);
    expect((await typing).conversationId).toBe(channel);

    // Two of the team's two members online, then one.
    const both = next(a, "online", (c) => c.conversationId === channel && c.online === 2);
    await a.watchOnlineCounts([channel]);
    expect((await both).members).toBe(2);

    const offline = next(a, "presence", (p) => p.userId === bob && !p.online);
    b.close();
    await offline;
  });

  it("edits a message and lists the texts it had, then deletes it with them", async () => {
    const [alice, bob] = [unique("alice"), unique("bob")];
    const a = connect(alice);
    const b = connect(bob);
    const channel = await team(a, [bob]);
    const sent = await a.send(channel, "helo");
    expect((await a.edit(channel, sent.id, "hello")).data).toBe("hello");
    await a.edit(channel, sent.id, "hello, all");
    const first = await b.messageVersions(channel, sent.id, { limit: 1 });
    expect(first.versions.map((v) => v.data)).toEqual(["hello"]);
    expect(first.hasMore).toBe(true);
    const rest = await b.messageVersions(channel, sent.id, { beforeSeq: first.versions[0].seq });
    expect(rest.versions.map((v) => [v.data, v.writtenAtMs])).toEqual([["helo", sent.tsMs]]);
    expect((await a.delete(channel, sent.id)).deleted).toBe(true);
    expect((await b.messageVersions(channel, sent.id)).versions).toEqual([]);
  });

  it("opens the conversation about a business object, once, with its custom fields", async () => {
    const [alice, bob] = [unique("alice"), unique("bob")];
    const a = connect(alice);
    const key = `order:${unique("o")}`;
    const first = await a.openLinked(key, { team: { name: "Order", members: [bob], customFields: { stage: "new" } } });
    expect(first.created).toBe(true);
    expect(first.conversation.externalKey).toBe(key);
    expect(first.conversation.customFields).toEqual({ stage: "new" });
    const again = await connect(bob).openLinked(key);
    expect([again.conversation.id, again.created]).toEqual([first.conversation.id, false]);
    await expect(a.openLinked(`${key}-none`)).rejects.toThrow(/no conversation is linked/);
  });

  it("pins a message, lists the pins, and tells the other member", async () => {
    const [alice, bob] = [unique("alice"), unique("bob")];
    const a = connect(alice);
    const b = connect(bob);
    const channel = await team(a, [bob]);
    await live(b);
    const sent = await a.send(channel, "the plan");
    const seen = next(b, "edited", (m) => m.id === sent.id && m.pinnedBy === alice);
    expect((await a.pin(channel, sent.id)).pinnedBy).toBe(alice);
    await seen;
    expect((await b.pins(channel)).map((m) => m.id)).toEqual([sent.id]);
    expect((await a.unpin(channel, sent.id)).pinnedAtMs).toBe(0n);
    expect(await b.pins(channel)).toEqual([]);
  });

  it("reacts to a message, and the other member sees the count", async () => {
    const [alice, bob] = [unique("alice"), unique("bob")];
    const a = connect(alice);
    const b = connect(bob);
    const channel = await team(a, [bob]);
    await live(b);
    const sent = await a.send(channel, "ship it?");
    const seen = next(b, "edited", (m) => m.id === sent.id && m.reactions[0]?.count === 1);
    const reacted = await a.react(channel, sent.id, "👍");
    expect(reacted.reactions.map((r) => [r.emoji, r.count, r.mine])).toEqual([["👍", 1, true]]);
    expect((await seen).reactions[0].firstUsers).toEqual([alice]);
    expect(await b.reactors(channel, sent.id, "👍")).toEqual([alice]);
    expect((await a.unreact(channel, sent.id, "👍")).reactions).toEqual([]);
  });

  it("replies in a thread, counts it on the root, and reading on one device clears the thread's badge on the others", async () => {
    const [alice, bob] = [unique("alice"), unique("bob")];
    const a = connect(alice);
    const channel = await team(a, [bob]);
    const [phone, desktop] = [connect(bob), connect(bob)];
    await Promise.all([live(phone), live(desktop)]);
    const root = await a.send(channel, "who reviews?");
    const counted = next(desktop, "edited", (m) => m.id === root.id && m.replyCount === 1);
    const reply = await phone.reply(channel, root.id, "me");
    expect([reply.parentId, reply.threadOnly]).toEqual([root.id, true]);
    expect((await counted).lastReplyId).toBe(reply.id);
    expect((await a.history(channel)).messages.map((m) => m.data)).toEqual(["who reviews?"]);
    expect((await a.replies(channel, root.id)).messages.map((m) => m.data)).toEqual(["me"]);

    const answer = await a.reply(channel, root.id, "thanks", { alsoInConversation: true });
    expect((await a.history(channel)).messages.map((m) => m.data)).toEqual(["thanks", "who reviews?"]);
    expect((await desktop.thread(channel, root.id)).unreadCount).toBe(1);
    const cleared = next(desktop, "thread", (t) => t.root?.id === root.id);
    await phone.markThreadRead(channel, root.id, answer.id);
    const thread = await cleared;
    expect([thread.following, thread.readUpTo, thread.unreadCount]).toEqual([true, answer.id, 0]);
    const mine = await desktop.threads();
    expect(mine.threads.map((t) => t.root?.id)).toEqual([root.id]);
    expect((await desktop.unfollowThread(channel, root.id)).following).toBe(false);
    expect((await desktop.threads()).threads).toEqual([]);
  });

  it("keeps push preferences: level and quiet hours", async () => {
    const a = connect(unique("alice"));
    expect((await a.pushSettings()).level).toBe(PushLevel.ALL);
    const set = await a.setPushSettings({ level: PushLevel.MENTIONS, quietStartMinute: 1320, quietEndMinute: 420 });
    expect([set.level, set.quietStartMinute, set.quietEndMinute]).toEqual([PushLevel.MENTIONS, 1320, 420]);
    expect(await a.pushSettings()).toEqual(set);
  });

  it("registers this browser's push subscription once, and removes it", async () => {
    const a = connect(unique("alice"));
    const key = new Uint8Array(65).fill(7);
    key[0] = 4;
    const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString("base64url");
    const subscription = { endpoint: "https://push.example.org/send/1", keys: { p256dh: b64(key), auth: b64(new Uint8Array(16)) } };
    const device = await a.registerWebPush(subscription, { locale: "en-GB" });
    expect([device.hint, device.locale, device.webPush]).toEqual(["push.example.org", "en-GB", undefined]);
    expect((await a.registerWebPush(subscription, { locale: "en-GB" })).id).toBe(device.id);
    expect((await a.devices()).map((d) => d.id)).toEqual([device.id]);
    expect(await a.removeDevice(device.id)).toBe(true);
    expect(await a.devices()).toEqual([]);
  });

  it("subscribes to Web Push with the server's VAPID key and registers the subscription", async () => {
    const a = connect(unique("alice"));
    expect(await a.testPush()).toEqual([]);
    const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString("base64url");
    const p256dh = new Uint8Array(65).fill(9);
    p256dh[0] = 4;
    const asked: PushSubscriptionOptionsInit[] = [];
    // The browser's Push API: what a service worker registration's pushManager does.
    const registration = {
      pushManager: {
        subscribe: async (options: PushSubscriptionOptionsInit) => {
          asked.push(options);
          const json = { endpoint: "https://push.example.org/send/2", keys: { p256dh: b64(p256dh), auth: b64(new Uint8Array(16).fill(1)) } };
          return { toJSON: () => json };
        },
      },
    } as unknown as ServiceWorkerRegistration;
    const device = await a.subscribeWebPush(registration);
    expect(device.hint).toBe("push.example.org");
    expect(asked).toHaveLength(1);
    expect(asked[0].userVisibleOnly).toBe(true);
    const key = asked[0].applicationServerKey as Uint8Array;
    expect([key.length, key[0]]).toEqual([65, 4]);
    expect((await a.devices()).map((d) => d.id)).toEqual([device.id]);
  });

  it("bans a member, lists the ban, and lifts it", async () => {
    const alice = connect(unique("alice"));
    const bob = unique("bob");
    const channel = await team(alice, [bob]);
    const ban = await alice.ban(channel, bob, "flooding");
    expect([ban.userId, ban.reason]).toEqual([bob, "flooding"]);
    expect((await alice.bans(channel)).bans.map((b) => b.userId)).toEqual([bob]);
    expect(await alice.unban(channel, bob)).toBe(true);
    expect((await alice.bans(channel)).bans).toEqual([]);
  });

  it("times a member out, who is told until when, and sets slow mode", async () => {
    const [aliceId, bobId] = [unique("alice"), unique("bob")];
    const alice = connect(aliceId);
    const bob = connect(bobId);
    const channel = await team(alice, [bobId]);
    const member = await alice.timeout(channel, bobId, 600, "cool off");
    expect([member.userId, member.timedOutBy, member.timeoutReason]).toEqual([bobId, aliceId, "cool off"]);
    expect(Number(member.timedOutUntilMs)).toBeGreaterThan(Date.now());
    await expect(bob.send(channel, "but")).rejects.toThrow(/timed out here until .* cool off/);
    expect((await alice.timeout(channel, bobId, 0)).timedOutUntilMs).toBe(0n);
    await bob.send(channel, "sorry");
    const updated = await alice.api.updateTeam({ conversationId: channel, slowModeSeconds: 60 });
    expect(updated.slowModeSeconds).toBe(60);
    await bob.send(channel, "again");
    await expect(bob.send(channel, "and again")).rejects.toThrow(/slow mode/);
  });

  it("adds org filters that refuse or flag messages", async () => {
    const aliceId = unique("alice");
    const alice = connect(aliceId);
    const rootId = unique("root");
    const root = connect(rootId, { token: mint(rootId, "acme", secret, 3600, undefined, "chat.read chat.admin") });
    const channel = await team(alice, []);
    const word = unique("blocked");
    const filter = await root.createFilter("word", word);
    expect(filter.pattern).toBe(word);
    expect((await root.filters()).map((f) => f.id)).toContain(filter.id);
    await expect(alice.send(channel, `say ${word.toUpperCase()}`)).rejects.toThrow(/is not allowed in this organization/);
    expect(await root.deleteFilter(filter.id)).toBe(true);
    await alice.send(channel, `say ${word}`);
  });

  it("suspends a user, whose calls are refused until lifted", async () => {
    const [aliceId, rootId] = [unique("alice"), unique("root")];
    const alice = connect(aliceId);
    const root = connect(rootId, { token: mint(rootId, "acme", secret, 3600, undefined, "chat.read chat.admin") });
    const channel = await team(alice, []);
    const suspension = await root.suspend(aliceId, "testing");
    expect([suspension.userId, suspension.suspendedBy]).toEqual([aliceId, rootId]);
    expect((await root.suspensions({ limit: 1000 })).suspensions.map((s) => s.userId)).toContain(aliceId);
    await expect(alice.send(channel, "hi")).rejects.toThrow(/suspended in this organization/);
    expect(await root.unsuspend(aliceId)).toBe(true);
    await alice.send(channel, "back");
  });

  it("erases a suspended user in the background, following the job to its end", async () => {
    const [aliceId, bobId, rootId] = [unique("alice"), unique("bob"), unique("root")];
    const alice = connect(aliceId);
    const bob = connect(bobId);
    const root = connect(rootId, { token: mint(rootId, "acme", secret, 3600, undefined, "chat.read chat.admin") });
    const channel = await team(alice, [bobId]);
    await bob.send(channel, "something to forget");
    await expect(root.eraseUser(bobId)).rejects.toThrow(/suspend .* first/);
    await root.suspend(bobId);
    let job = await root.eraseUser(bobId, "asked to");
    expect([job.subject, job.requestedBy]).toEqual([bobId, rootId]);
    // It starts once the suspension has reached every controller: 15 s after it.
    const deadline = Date.now() + 40_000;
    while (job.state !== JobState.DONE && job.state !== JobState.FAILED && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      job = await root.job(job.id);
    }
    expect([job.state, job.counts["messages"]]).toEqual([JobState.DONE, 1n]);
    expect((await root.jobs({ limit: 200 })).jobs.map((j) => j.id)).toContain(job.id);
    const history = await alice.history(channel);
    expect(history.messages.map((m) => [m.deleted, m.data])).toEqual([[true, ""]]);
  });

  it("keeps messages as long as the org's and the conversation's retention say", async () => {
    const org = unique("retained");
    const [aliceId, rootId] = [unique("alice"), unique("root")];
    const alice = connect(aliceId, { token: mint(aliceId, org, secret) });
    const root = connect(rootId, { token: mint(rootId, org, secret, 3600, undefined, "chat.read chat.admin") });
    const channel = await team(alice, []);
    expect((await alice.send(channel, "kept forever")).expiresAtMs).toBe(0n);
    const set = await root.setRetention(30);
    expect(set.keepDays).toBe(30);
    // Shorter than forever: a job applies it to what was sent before.
    const applying = await root.job(set.applyingJobId);
    expect([applying.kind, applying.subject]).toEqual([JobKind.ORG_RETENTION, org]);
    const policy = await root.setRetention(7, channel);
    expect(policy.conversations.map((c) => [c.conversationId, c.keepDays])).toEqual([[channel, 7]]);
    const weekly = await alice.send(channel, "kept a week");
    expect(weekly.expiresAtMs - weekly.tsMs).toBe(7n * 86_400_000n);
    expect((await root.setRetention("org", channel)).conversations).toEqual([]);
    expect((await root.retention()).keepDays).toBe(30);
    await expect(alice.retention()).rejects.toThrow(/chat.admin/);
  });

  it("exports your own data as an archive to download", async () => {
    const aliceId = unique("alice");
    const alice = connect(aliceId);
    const channel = await team(alice, []);
    await alice.send(channel, "mine to keep");
    let job = await alice.exportMyData();
    const deadline = Date.now() + 20_000;
    while (job.state !== JobState.DONE && job.state !== JobState.FAILED && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      job = await alice.myExport(job.id);
    }
    expect([job.state, job.counts["messages"]]).toEqual([JobState.DONE, 1n]);
    const archive = new Uint8Array(await (await fetch(job.downloadUrl)).arrayBuffer());
    expect(new TextDecoder().decode(archive)).toContain("mine to keep");
  });

  it("reports a message to the admins, who resolve it", async () => {
    const [aliceId, bobId] = [unique("alice"), unique("bob")];
    const alice = connect(aliceId);
    const bob = connect(bobId);
    const channel = await team(alice, [bobId]);
    const sent = await alice.send(channel, "a rude remark");
    const report = await bob.report(channel, sent.id, "rude");
    expect([report.author, report.text, report.reason]).toEqual([aliceId, "a rude remark", "rude"]);
    expect((await alice.reports(channel, { openOnly: true })).reports.map((r) => r.id)).toEqual([report.id]);
    const resolved = await alice.resolveReport(channel, report.id, true);
    expect(resolved.handledBy).toBe(aliceId);
    expect((await alice.reports(channel, { openOnly: true })).reports).toEqual([]);
  });

  it("pages history newest first", async () => {
    const alice = unique("alice");
    const a = connect(alice);
    const channel = await team(a, []);
    const sent: Message[] = [];
    for (let i = 0; i < 5; i++) sent.push(await a.send(channel, `m${i}`));
    const first = await a.history(channel, { limit: 2 });
    expect(first.messages.map((m) => m.data)).toEqual(["m4", "m3"]);
    expect(first.hasMore).toBe(true);
    const second = await a.history(channel, { limit: 10, before: first.messages[1].id });
    expect(second.messages.map((m) => m.data)).toEqual(["m2", "m1", "m0"]);
    expect(second.hasMore).toBe(false);
  });

  it("finds a message by its words, with the match highlighted", async () => {
    const alice = unique("alice");
    const a = connect(alice);
    const channel = await team(a, []);
    const sent = await a.send(channel, "meet at the lighthouse");
    // The index follows sends within about a second: ask until it has it.
    const deadline = Date.now() + 10_000;
    let page = await a.search("lighthouse");
    while (page.hits.length === 0 && Date.now() < deadline) {
      await sleep(100);
      page = await a.search("lighthouse");
    }
    expect(page.hits.map((h) => h.message?.id)).toEqual([sent.id]);
    expect(page.hits[0].snippet.filter((p) => p.highlighted).map((p) => p.text)).toEqual(["lighthouse"]);
    expect((await a.search("lighthouse", { conversationId: channel })).hits).toHaveLength(1);
  });

  it("counts a mention of an offline user and clears it when read", async () => {
    const [alice, bob] = [unique("alice"), unique("bob")];
    const a = connect(alice);
    const channel = await team(a, [bob]);
    await a.send(channel, `@${bob} please look`);
    const b = connect(bob);
    const [notification] = await b.notifications({ unreadOnly: true });
    expect(notification.preview).toBe(`@${bob} please look`);
    const mine = (await b.conversations()).find((c) => c.id === channel);
    expect([mine?.unreadCount, mine?.mentionCount]).toEqual([1, 1]);
    expect(await b.markNotificationsRead({ conversationId: channel })).toBe(1);
    expect(await b.notifications({ unreadOnly: true })).toEqual([]);
    expect(await b.setMute(channel, true)).toBe(true);
    expect((await b.conversations()).find((c) => c.id === channel)?.muted).toBe(true);
  });

  it("reading on one device clears the badge on the others", async () => {
    const [alice, bob] = [unique("alice"), unique("bob")];
    const a = connect(alice);
    const channel = await team(a, [bob]);
    const [phone, desktop] = [connect(bob), connect(bob)];
    await Promise.all([live(phone), live(desktop)]);
    const first = await a.send(channel, "one");
    await a.send(channel, "two");
    expect((await desktop.conversations()).find((c) => c.id === channel)?.unreadCount).toBe(2);

    const cleared = next(desktop, "unread", (u) => u.conversationId === channel);
    await phone.markRead(channel, first.id);
    expect(await cleared).toEqual({ conversationId: channel, readUpTo: first.id, unreadCount: 1, mentionCount: 0 });
  });

  it("resumes after a disconnect with every missed message once, in order, and the edits and deletes made meanwhile", async () => {
    const [alice, bob] = [unique("alice"), unique("bob")];
    const a = connect(alice);
    const channel = await team(a, [bob]);
    const b = connect(bob);
    await live(b);
    const seen = next(b, "message", (m) => m.data === "to be deleted");
    const before = await a.send(channel, "before");
    const doomed = await a.send(channel, "to be deleted");
    await seen;
    const positions = b.resumePositions;
    b.close();

    for (const text of ["while away 1", "while away 2", "while away 3"]) await a.send(channel, text);
    await a.api.editMessage({ channelId: channel, messageId: before.id, data: "before, edited" });
    await a.api.deleteMessage({ channelId: channel, messageId: doomed.id });
    const back = connect(bob, { resume: positions });
    const received: string[] = [];
    const edited: string[] = [];
    const deleted: bigint[] = [];
    back.on("message", (m) => received.push(m.data));
    back.on("edited", (m) => edited.push(m.data));
    back.on("deleted", (m) => deleted.push(m.id));
    await live(back);
    expect(received).toEqual(["while away 1", "while away 2", "while away 3"]);
    expect(edited).toEqual(["before, edited"]);
    expect(deleted).toEqual([doomed.id]);
  });

  it("six senders at once and a connection cut mid-stream: every message once, in log order", async () => {
    const senders = Array.from({ length: 6 }, (_, i) => unique(`sender${i}`));
    const follower = unique("follower");
    const clients = senders.map((user) => connect(user));
    const channel = await team(clients[0], [...senders.slice(1), follower]);
    const proxy = await cuttableProxy();
    try {
      const f = connect(follower, { url: proxy.url, backoff: fastBackoff });
      const handed = new Map<bigint, number>();
      const positions: bigint[] = [];
      f.on("message", (m) => handed.set(m.id, (handed.get(m.id) ?? 0) + 1));
      f.on("event", (e) => {
        if (e.seq !== 0n) positions.push(e.seq);
      });
      const states: string[] = [];
      f.on("state", (state) => states.push(state));
      await live(f);
      const sending = Promise.all(
        clients.map(async (client, i) => {
          const ids: bigint[] = [];
          for (let n = 0; n < 30; n++) ids.push((await client.send(channel, `${i}/${n}`)).id);
          return ids;
        }),
      );
      // Mid-stream: the connection drops; the client reconnects and resumes by itself.
      await next(f, "message", () => handed.size >= 40);
      proxy.cut();
      const sent = (await sending).flat();
      const all = () => sent.every((id) => handed.has(id));
      if (!all()) await next(f, "message", all);

      expect(states).toContain("reconnecting");
      expect([...handed.entries()].filter(([, n]) => n > 1)).toEqual([]);
      expect(handed.size).toBe(sent.length);
      const ordered = [...new Set(positions)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
      expect(positions).toEqual(ordered);
    } finally {
      proxy.close();
    }
  });

  it("reconnects by itself when the connection drops, and misses nothing", async () => {
    const [alice, bob] = [unique("alice"), unique("bob")];
    const a = connect(alice);
    const channel = await team(a, [bob]);
    // bob reaches the relay through a proxy the test can cut.
    const proxy = await cuttableProxy();
    try {
      const b = connect(bob, { url: proxy.url, backoff: fastBackoff });
      const received: string[] = [];
      b.on("message", (m) => received.push(m.data));
      await live(b);
      const first = next(b, "message", (m) => m.data === "one");
      await a.send(channel, "one");
      await first;

      const reconnecting = next(b, "state", (s) => s === "reconnecting");
      proxy.cut();
      await reconnecting;
      const back = next(b, "state", (s) => s === "live");
      await a.send(channel, "two, while bob was away");
      await back;
      const third = next(b, "message", (m) => m.data === "three");
      await a.send(channel, "three");
      await third;
      expect(received).toEqual(["one", "two, while bob was away", "three"]);
    } finally {
      proxy.close();
    }
  });

  it("keeps what was subscribed to and unsubscribed from across a reconnect", async () => {
    const [alice, bob] = [unique("alice"), unique("bob")];
    const a = connect(alice);
    const [quiet, busy, later] = [await team(a, [bob]), await team(a, [bob]), await team(a, [bob])];
    const proxy = await cuttableProxy();
    try {
      // One page follows all of bob's conversations, the other names them.
      const all = connect(bob, { url: proxy.url, backoff: fastBackoff });
      const named = connect(bob, { url: proxy.url, channels: [quiet], backoff: fastBackoff });
      await Promise.all([live(all), live(named)]);
      await all.unsubscribe([quiet]);
      await named.subscribe([later]);
      await named.unsubscribe([quiet]);

      const back = [all, named].map(async (page) => {
        await next(page, "state", (s) => s === "reconnecting");
        await next(page, "state", (s) => s === "live");
      });
      proxy.cut();
      await Promise.all(back);
      const got = { all: [] as string[], named: [] as string[] };
      all.on("message", (m) => got.all.push(m.data));
      named.on("message", (m) => got.named.push(m.data));
      const last = [all, named].map((page) => next(page, "message", (m) => m.data === "in later"));
      await a.send(quiet, "in quiet");
      await a.send(busy, "in busy");
      await a.send(later, "in later");
      await Promise.all(last);
      expect(got.all).toEqual(["in busy", "in later"]);
      expect(got.named).toEqual(["in later"]);
    } finally {
      proxy.close();
    }
  });

  it("follows a conversation unsubscribed from once added to it again, after a reconnect too", async () => {
    const [alice, bob] = [unique("alice"), unique("bob")];
    const a = connect(alice);
    const [quiet, busy] = [await team(a, [bob]), await team(a, [bob])];
    const proxy = await cuttableProxy();
    try {
      const b = connect(bob, { url: proxy.url, backoff: fastBackoff });
      await live(b);
      await b.unsubscribe([quiet]);
      const addedBack = next(
        b,
        "event",
        (e) => e.conversationId === quiet && e.kind.case === "memberJoined" && e.kind.value.member?.userId === bob,
      );
      await a.api.removeMember({ conversationId: quiet, userId: bob });
      await a.api.addMembers({ conversationId: quiet, userIds: [bob] });
      await addedBack;

      const back = (async () => {
        await next(b, "state", (s) => s === "reconnecting");
        await next(b, "state", (s) => s === "live");
      })();
      proxy.cut();
      await back;
      const got: string[] = [];
      b.on("message", (m) => got.push(m.data));
      const last = next(b, "message", (m) => m.data === "in busy");
      await a.send(quiet, "in quiet");
      await a.send(busy, "in busy");
      await last;
      expect(got).toEqual(["in quiet", "in busy"]);
    } finally {
      proxy.close();
    }
  });

  it("uploads a file, sends it, and another member downloads it", async () => {
    const [alice, bob] = [unique("alice"), unique("bob")];
    const a = connect(alice);
    const channel = await team(a, [bob]);
    const b = connect(bob);
    await live(b);
    const bytes = new Uint8Array(300_000);
    bytes.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52, 0, 0, 0, 4, 0, 0, 0, 3]);
    for (let i = 24; i < bytes.length; i++) bytes[i] = (i * 7919) % 251;
    const progress: number[] = [];
    const attachment = await a.uploadFile(channel, new Blob([bytes], { type: "image/png" }), {
      filename: "chart.png",
      onProgress: (sent) => progress.push(sent),
    });
    expect(progress.at(-1)).toBe(bytes.length);
    expect([attachment.width, attachment.height]).toEqual([4, 3]);

    const arriving = next(b, "message", (m) => m.data === attachment.id.toString());
    await a.sendAttachment(channel, attachment, "the chart");
    const message = await arriving;
    expect(message.attachment?.filename).toBe("chart.png");
    expect(message.customFields.caption).toBe("the chart");
    expect((await b.conversationFiles(channel, { kind: "image" })).attachments.map((f) => f.id)).toEqual([attachment.id]);
    expect((await b.conversationFiles(channel, { kind: "video" })).attachments).toEqual([]);
    expect((await a.myUploads()).attachments.map((f) => f.filename)).toContain("chart.png");
    const download = await fetch(await b.downloadUrl(attachment.id));
    expect(download.headers.get("content-type")).toBe("image/png");
    expect(new Uint8Array(await download.arrayBuffer())).toEqual(bytes);
  });

  it("reports refused tokens instead of retrying them", async () => {
    const client = SwitchboardClient.connect({ url: relay, token: "not-a-token" });
    open.push(client);
    const error = await next(client, "error");
    expect(error.code).toBe(16); // UNAUTHENTICATED
    expect(client.state).toBe("closed");
  });

  it("backs off exponentially, with jitter, up to the cap", () => {
    for (let n = 0; n < 10; n++) {
      const delay = backoffDelay(n, 100, 5000);
      const ceiling = Math.min(5000, 100 * 2 ** n);
      expect(delay).toBeGreaterThanOrEqual(ceiling / 2);
      expect(delay).toBeLessThanOrEqual(ceiling);
    }
  });
});
