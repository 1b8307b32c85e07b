// SwitchboardClient: one live session through a relay over gRPC-Web (RealtimeWeb), with
// auto-reconnect (exponential backoff with jitter) and resume from its position in each
// conversation's log (docs/realtime.md, "Positions"), plus the Chat calls a chat page needs.
// Each conversation's message events reach the app in log order, the order the changes
// were committed in; after a reconnect, the ones missed come first, each once.

import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient, type Client, type Interceptor } from "@connectrpc/connect";
import { createGrpcWebTransport } from "@connectrpc/connect-web";

import { Admin, type Filter, FilterAction, FilterKind, type Job, type RetentionPolicy, type Suspension } from "./gen/switchboard/v1/admin_pb.js";
import { type Ban, Chat, type CreateChannelRequestSchema, type CreateTeamRequestSchema, type Report } from "./gen/switchboard/v1/chat_pb.js";
import type { Conversation, Member } from "./gen/switchboard/v1/conversation_pb.js";
import { Availability, type Event, type UserPresence } from "./gen/switchboard/v1/events_pb.js";
import { type Attachment, Files, UploadPurpose } from "./gen/switchboard/v1/files_pb.js";
import { People, type Person, type Profile } from "./gen/switchboard/v1/people_pb.js";
import { type Message, MessageType, type MessageVersion, type Thread } from "./gen/switchboard/v1/message_pb.js";
import {
  type Device,
  DevicePlatform,
  type Notification,
  type PushLevel,
  type PushSettings,
  type TestedDevice,
} from "./gen/switchboard/v1/notifications_pb.js";
import type { SearchHit } from "./gen/switchboard/v1/search_pb.js";
import {
  ClientFrameSchema,
  HelloSchema,
  RealtimeWeb,
  type ServerFrame,
} from "./gen/switchboard/v1/realtime_pb.js";

/** A token, or a function that returns a fresh one (called before every call). */
export type TokenSource = string | (() => string | Promise<string>);

export interface SwitchboardOptions {
  /** The relay, e.g. `http://127.0.0.1:7400`. */
  url: string;
  token: TokenSource;
  /** Follow only these conversations; default: all of the user's, following membership. */
  channels?: bigint[];
  /** Where to resume from: `resumePositions` saved from an earlier session. */
  resume?: Map<bigint, bigint>;
  /** Users whose presence to show from the start (see `watchPresence`). */
  watchPresence?: string[];
  /** Reconnect delays: from `initialMs`, doubling up to `maxMs` (jittered). */
  backoff?: { initialMs: number; maxMs: number };
}

/** Where the session is. */
/** One page of search results. */
export interface SearchPage {
  hits: SearchHit[];
  /** Pass as `cursor` for the next page; empty on the last. */
  nextCursor: string;
}

export type ConnectionState = "connecting" | "live" | "reconnecting" | "closed";

/** What `on` can listen to, and what each handler receives. */
export interface SwitchboardEvents {
  /** A new message (live, or replayed after a reconnect; never twice). A replayed one is
   * as it is now: it may have been edited or deleted since it was sent. */
  message: Message;
  /** A change of a message's text, pin (`pinnedBy`) or reactions: live or made while
   * disconnected, the message as it is now (`mine` is false in these: keep your own from
   * your calls). `editedAtMs` tells whether the text changed. */
  edited: Message;
  /** A delete, live or made while disconnected. */
  deleted: Message;
  /** A message reached its `expiresAtMs` under the org's retention policy and is gone:
   * remove it. Live only; after a reconnect, drop messages whose `expiresAtMs` passed. The
   * message names it only (`id`, `channelId`, `from`, `to`, `expiresAtMs`). */
  expired: Message;
  typing: { conversationId: bigint; userId: string; typing: boolean };
  /** A watched user's presence (`watchPresence`): first as it is when watching starts,
   * then after each change (online, the status they set, when last seen). */
  presence: UserPresence;
  read: { conversationId: bigint; userId: string; messageId: bigint };
  /** The user marked a conversation read (here or on another device): its unread and
   * mention counts now, as `conversations()` would give them. Between two of these, a
   * client adds one for each message of someone else it receives (not counting
   * `threadOnly` replies, which count in their thread), and clears the count
   * on a message of the user's own (sending marks read). */
  unread: { conversationId: bigint; readUpTo: bigint; unreadCount: number; mentionCount: number };
  /** The user followed, unfollowed or marked read a thread (here or on another device):
   * the thread as they now see it. Between two of these, a client adds one to a followed
   * thread's `unreadCount` for each reply of someone else it receives. */
  thread: Thread;
  /** How many members of a conversation are online (`watchOnlineCounts`): now, then when
   * it changes (at most once a second). */
  online: { conversationId: bigint; online: number; members: number };
  state: ConnectionState;
  /** Every event, as the relay sent it. */
  event: Event;
  /** A frame the relay refused (e.g. a typing indicator in a conversation one left). */
  error: { code: number; message: string };
}

type Handler<K extends keyof SwitchboardEvents> = (value: SwitchboardEvents[K]) => void;

export interface HistoryPage {
  /** Newest first. */
  messages: Message[];
  hasMore: boolean;
}

export class SwitchboardClient {
  private readonly chat: Client<typeof Chat>;
  private readonly web: Client<typeof RealtimeWeb>;
  private readonly files: Client<typeof Files>;
  private readonly people: Client<typeof People>;
  private readonly admin: Client<typeof Admin>;
  private readonly handlers = new Map<keyof SwitchboardEvents, Set<Handler<never>>>();
  private readonly positions: Map<bigint, bigint>;
  /** What the session follows, asked for again on every reconnect: all of the user's
   * conversations but `except`, or `only` these. */
  private readonly following: { except: Set<bigint> } | { only: Set<bigint> };
  /** The users whose presence the app shows, as it last set them (sent again on reconnects). */
  private watching: string[];
  /** The conversations whose online count the app shows (asked for again once live). */
  private counting: bigint[] = [];
  private readonly stop = new AbortController();
  private sessionId = "";
  /** Who the relay says the session is for (from its welcome). */
  private userId = "";
  private currentState: ConnectionState = "connecting";
  /** Events not yet taken by `events()` readers. */
  private readonly queue: Event[] = [];
  private readonly waiting: Array<(event: Event | undefined) => void> = [];
  /** Avatars' download URLs by attachment id, with when each expires. */
  private readonly avatarUrls = new Map<bigint, { url: Promise<string>; expiresAtMs: number }>();

  private constructor(private readonly options: SwitchboardOptions) {
    const auth: Interceptor = (next) => async (request) => {
      request.header.set("authorization", `Bearer ${await tokenOf(options.token)}`);
      return next(request);
    };
    const transport = createGrpcWebTransport({ baseUrl: options.url, interceptors: [auth] });
    this.chat = createClient(Chat, transport);
    this.web = createClient(RealtimeWeb, transport);
    this.files = createClient(Files, transport);
    this.people = createClient(People, transport);
    this.admin = createClient(Admin, transport);
    this.positions = new Map(options.resume ?? []);
    const channels = options.channels ?? [];
    this.following = channels.length > 0 ? { only: new Set(channels) } : { except: new Set() };
    this.watching = [...(options.watchPresence ?? [])];
  }

  /** Opens the live session (in the background; watch `state`) and returns the client. */
  static connect(options: SwitchboardOptions): SwitchboardClient {
    const client = new SwitchboardClient(options);
    void client.run();
    return client;
  }

  /** Calls `handler` for each `kind`; returns a function that stops it. */
  on<K extends keyof SwitchboardEvents>(kind: K, handler: Handler<K>): () => void {
    const set = this.handlers.get(kind) ?? new Set();
    set.add(handler as Handler<never>);
    this.handlers.set(kind, set);
    return () => set.delete(handler as Handler<never>);
  }

  /** Every event, as an async iterator (ends when the client is closed). */
  async *events(): AsyncGenerator<Event> {
    while (true) {
      const next = this.queue.shift() ?? (await new Promise<Event | undefined>((r) => this.waiting.push(r)));
      if (next === undefined) return;
      yield next;
    }
  }

  /** The generated Chat client (same relay and token), for calls not wrapped here. */
  get api(): Client<typeof Chat> {
    return this.chat;
  }

  get state(): ConnectionState {
    return this.currentState;
  }

  /** The position reached per conversation: persist it to resume across reloads. */
  get resumePositions(): Map<bigint, bigint> {
    return new Map(this.positions);
  }

  /**
   * Sends text and resolves with the stored message once it is durable. Retried on
   * connection failures with the same idempotency key, so it is never stored twice.
   */
  async send(
    conversationId: bigint,
    text: string,
    options: { to?: string; replyTo?: bigint; alsoInConversation?: boolean; clientMsgId?: string } = {},
  ): Promise<Message> {
    const request = {
      channelId: conversationId,
      data: text,
      type: MessageType.TEXT,
      to: options.to ?? "",
      parentId: options.replyTo ?? 0n,
      alsoInConversation: options.alsoInConversation ?? false,
      clientMsgId: options.clientMsgId ?? crypto.randomUUID(),
    };
    for (let attempt = 0; ; attempt++) {
      try {
        const sent = await this.chat.sendMessage(request);
        if (!sent.message) throw new ConnectError("the relay answered without a message", Code.Internal);
        return sent.message;
      } catch (error) {
        if (attempt >= 4 || ConnectError.from(error).code !== Code.Unavailable) throw error;
        await sleep(backoffDelay(attempt, 200, 3000));
      }
    }
  }

  /** A page of history, newest first; page back with `before` = the oldest id seen. */
  async history(conversationId: bigint, page: { before?: bigint; limit?: number } = {}): Promise<HistoryPage> {
    const response = await this.chat.listHistory({
      channelId: conversationId,
      before: page.before ?? 0n,
      limit: page.limit ?? 50,
    });
    return { messages: response.messages, hasMore: response.hasMore };
  }

  /**
   * Replies in the thread of `parentId` (a reply to a reply goes to the same thread). The
   * reply shows in the thread only, unless `alsoInConversation`; messages carry
   * `parentId` and `threadOnly`, so place live ones by them.
   */
  async reply(
    conversationId: bigint,
    parentId: bigint,
    text: string,
    options: { alsoInConversation?: boolean; clientMsgId?: string } = {},
  ): Promise<Message> {
    return await this.send(conversationId, text, { ...options, replyTo: parentId });
  }

  /** A page of a thread's replies, newest first (page back with `before`). */
  async replies(
    conversationId: bigint,
    rootId: bigint,
    page: { before?: bigint; limit?: number } = {},
  ): Promise<HistoryPage> {
    const response = await this.chat.listReplies({
      channelId: conversationId,
      rootId,
      before: page.before ?? 0n,
      limit: page.limit ?? 50,
    });
    return { messages: response.messages, hasMore: response.hasMore };
  }

  /** Your state of a thread: its root (with `replyCount`), following, unread replies. */
  async thread(conversationId: bigint, rootId: bigint): Promise<Thread> {
    return await this.chat.getThread({ channelId: conversationId, rootId });
  }

  /** Follows a thread: you hear of its replies (your other devices get a `thread` event). */
  async followThread(conversationId: bigint, rootId: bigint): Promise<Thread> {
    return await this.chat.followThread({ channelId: conversationId, rootId });
  }

  /** Stops following a thread, until you reply in it again. */
  async unfollowThread(conversationId: bigint, rootId: bigint): Promise<Thread> {
    return await this.chat.unfollowThread({ channelId: conversationId, rootId });
  }

  /** Marks a thread read up to one of its replies (markers only move forward). */
  async markThreadRead(conversationId: bigint, rootId: bigint, messageId: bigint): Promise<Thread> {
    return await this.chat.markThreadRead({ channelId: conversationId, rootId, messageId });
  }

  /** The threads you follow, the one with the newest reply first; page on with `before`. */
  async threads(page: { before?: bigint; limit?: number } = {}): Promise<{ threads: Thread[]; nextBefore: bigint }> {
    const { threads, nextBefore } = await this.chat.listThreads({ before: page.before ?? 0n, limit: page.limit ?? 20 });
    return { threads, nextBefore };
  }

  /** Replaces the text of one of your messages; the text it replaces is kept (`messageVersions`). */
  async edit(conversationId: bigint, messageId: bigint, text: string): Promise<Message> {
    return await this.chat.editMessage({ channelId: conversationId, messageId, data: text });
  }

  /** Deletes a message (yours, or anyone's for an admin): it becomes a tombstone. */
  async delete(conversationId: bigint, messageId: bigint): Promise<Message> {
    return await this.chat.deleteMessage({ channelId: conversationId, messageId });
  }

  /**
   * Reacts to a message with an emoji (or a custom `:name:`); resolves once the message's
   * counts include it, with the message as it is then (`reactions`, each with `mine`).
   * Other members see the change as an `edited` event.
   */
  async react(conversationId: bigint, messageId: bigint, emoji: string): Promise<Message> {
    return await this.chat.addReaction({ channelId: conversationId, messageId, emoji });
  }

  /** Takes your reaction back. */
  async unreact(conversationId: bigint, messageId: bigint, emoji: string): Promise<Message> {
    return await this.chat.removeReaction({ channelId: conversationId, messageId, emoji });
  }

  /** Who reacted to a message with `emoji`, earliest first (all pages). */
  async reactors(conversationId: bigint, messageId: bigint, emoji: string): Promise<string[]> {
    const users: string[] = [];
    let after = "";
    do {
      const page = await this.chat.listReactions({ channelId: conversationId, messageId, emoji, after, limit: 500 });
      users.push(...page.userIds);
      after = page.nextAfter;
    } while (after !== "");
    return users;
  }

  /**
   * Pins a message to its conversation for everyone (admins, or members where the
   * conversation lets them). Members see the change as an `edited` event with `pinnedBy` set.
   */
  async pin(conversationId: bigint, messageId: bigint): Promise<Message> {
    return await this.chat.pinMessage({ channelId: conversationId, messageId });
  }

  /** Unpins a message. */
  async unpin(conversationId: bigint, messageId: bigint): Promise<Message> {
    return await this.chat.unpinMessage({ channelId: conversationId, messageId });
  }

  /** A conversation's pinned messages (at most 100), most recently pinned first. */
  async pins(conversationId: bigint): Promise<Message[]> {
    return (await this.chat.listPins({ channelId: conversationId })).messages;
  }

  /**
   * Bans a user from a team or channel (admins): removed if a member, and kept out (they
   * cannot join or be added) until unbanned.
   */
  async ban(conversationId: bigint, userId: string, reason = ""): Promise<Ban> {
    return await this.chat.banMember({ conversationId, userId, reason });
  }

  /**
   * Times a member out for `seconds` (admins; 0 lifts it): they read but neither post, edit,
   * react, type nor upload until `timedOutUntilMs` of the member returned.
   */
  async timeout(conversationId: bigint, userId: string, seconds: number, reason = ""): Promise<Member> {
    return await this.chat.timeoutMember({ conversationId, userId, durationSeconds: seconds, reason });
  }

  /** Lifts a ban (the user is not added back); whether they were banned. */
  async unban(conversationId: bigint, userId: string): Promise<boolean> {
    return (await this.chat.unbanMember({ conversationId, userId })).unbanned;
  }

  /** A page of a team's or channel's bans by user id (admins); `after` = the previous `nextAfter`. */
  async bans(conversationId: bigint, page: { after?: string; limit?: number } = {}): Promise<{ bans: Ban[]; nextAfter: string }> {
    const response = await this.chat.listBans({ conversationId, after: page.after ?? "", limit: page.limit ?? 0 });
    return { bans: response.bans, nextAfter: response.nextAfter };
  }

  /**
   * Adds a filter to the org's blocklist (needs `chat.admin`): a word or phrase (matched
   * whole, ignoring case) or a regex, that refuses matching messages or flags them.
   */
  async createFilter(kind: "word" | "regex", pattern: string, action: "refuse" | "flag" = "refuse"): Promise<Filter> {
    return await this.admin.createFilter({
      kind: kind === "word" ? FilterKind.WORD : FilterKind.REGEX,
      pattern,
      action: action === "refuse" ? FilterAction.REFUSE : FilterAction.FLAG,
    });
  }

  /** The org's filters, oldest first (needs `chat.admin`). */
  async filters(): Promise<Filter[]> {
    return (await this.admin.listFilters({})).filters;
  }

  /** Removes a filter (needs `chat.admin`); whether there was one. */
  async deleteFilter(id: bigint): Promise<boolean> {
    return (await this.admin.deleteFilter({ id })).deleted;
  }

  /**
   * Suspends a user of the org (needs `chat.admin`): their streams end and every call of
   * theirs is refused with PERMISSION_DENIED until lifted.
   */
  async suspend(userId: string, reason = ""): Promise<Suspension> {
    return await this.admin.suspendUser({ userId, reason });
  }

  /** Lifts a suspension (needs `chat.admin`); whether the user was suspended. */
  async unsuspend(userId: string): Promise<boolean> {
    return (await this.admin.unsuspendUser({ userId })).unsuspended;
  }

  /** A page of the org's suspended users by user id; `after` = the previous `nextAfter`. */
  async suspensions(page: { after?: string; limit?: number } = {}): Promise<{ suspensions: Suspension[]; nextAfter: string }> {
    const response = await this.admin.listSuspensions({ after: page.after ?? "", limit: page.limit ?? 0 });
    return { suspensions: response.suspensions, nextAfter: response.nextAfter };
  }

  /**
   * Starts erasing a suspended user of the org (needs `chat.admin`), in the background:
   * follow the job with `job()`.
   */
  async eraseUser(userId: string, reason = ""): Promise<Job> {
    return await this.admin.eraseUser({ userId, reason });
  }

  /** One of the org's background jobs: its step and what it did so far. */
  async job(jobId: bigint): Promise<Job> {
    return await this.admin.getJob({ jobId });
  }

  /** A page of the org's background jobs, newest first; `beforeId` = the previous `nextBeforeId`. */
  async jobs(page: { beforeId?: bigint; limit?: number } = {}): Promise<{ jobs: Job[]; nextBeforeId: bigint }> {
    const response = await this.admin.listJobs({ beforeId: page.beforeId ?? 0n, limit: page.limit ?? 0 });
    return { jobs: response.jobs, nextBeforeId: response.nextBeforeId };
  }

  /**
   * Sets how many days the org keeps messages (needs `chat.admin`; 0 keeps them forever):
   * the org's default, or one conversation's with `conversationId`. `"org"` makes a
   * conversation follow the org's policy again. Each message says when it goes in
   * `expiresAtMs`, from the policy when it was sent; a shorter policy also reaches the
   * messages sent before it, through the background job named in `applyingJobId`
   * (follow it with `job(id)`). Returns the org's policy.
   */
  async setRetention(keepDays: number | "org", conversationId = 0n): Promise<RetentionPolicy> {
    const followOrg = keepDays === "org";
    return await this.admin.setRetention({ conversationId, keepDays: followOrg ? 0 : keepDays, followOrg });
  }

  /** The org's retention policy: its default and the conversations with their own. */
  async retention(): Promise<RetentionPolicy> {
    return await this.admin.getRetention({});
  }

  /**
   * Starts exporting your own data (profile, memberships, messages sent, files uploaded)
   * as an archive made in the background: follow it with `myExport()`, whose
   * `downloadUrl` is set once it is DONE, until `archiveExpiresAtMs` (a week later by
   * default: the server's `files.export_ttl_secs`).
   */
  async exportMyData(): Promise<Job> {
    return await this.people.exportMyData({});
  }

  /** One of your own exports. */
  async myExport(jobId: bigint): Promise<Job> {
    return await this.people.getMyExport({ jobId });
  }

  /** Starts exporting a user's data (needs `chat.admin`); follow it with `job()`. */
  async exportUser(userId: string): Promise<Job> {
    return await this.admin.exportUser({ userId });
  }

  /** Starts exporting a conversation of the org (needs `chat.admin`); follow it with `job()`. */
  async exportConversation(conversationId: bigint): Promise<Job> {
    return await this.admin.exportConversation({ conversationId });
  }

  /** Reports a message of a team or channel to its admins. */
  async report(conversationId: bigint, messageId: bigint, reason = ""): Promise<Report> {
    return await this.chat.reportMessage({ conversationId, messageId, reason });
  }

  /** A page of a team's or channel's reports, newest first (admins); `beforeId` = the previous `nextBefore`. */
  async reports(conversationId: bigint, page: { beforeId?: bigint; limit?: number; openOnly?: boolean } = {}): Promise<{ reports: Report[]; nextBefore: bigint }> {
    const response = await this.chat.listReports({ conversationId, beforeId: page.beforeId ?? 0n, limit: page.limit ?? 0, openOnly: page.openOnly ?? false });
    return { reports: response.reports, nextBefore: response.nextBefore };
  }

  /** Resolves (or, with `dismiss`, dismisses) an open report (admins). */
  async resolveReport(conversationId: bigint, reportId: bigint, dismiss = false): Promise<Report> {
    return await this.chat.resolveReport({ conversationId, reportId, dismiss });
  }

  /**
   * A message's earlier texts, newest first; page back with `beforeSeq` = the last one's `seq`.
   */
  async messageVersions(
    conversationId: bigint,
    messageId: bigint,
    page: { beforeSeq?: bigint; limit?: number } = {},
  ): Promise<{ versions: MessageVersion[]; hasMore: boolean }> {
    const { versions, hasMore } = await this.chat.listMessageVersions({
      channelId: conversationId,
      messageId,
      beforeSeq: page.beforeSeq ?? 0n,
      limit: page.limit ?? 20,
    });
    return { versions, hasMore };
  }

  /**
   * Messages of the user's conversations matching `query` (all words), newest first, with
   * highlighted snippets. Page on with `cursor` = the previous page's `nextCursor`.
   */
  async search(
    query: string,
    options: { conversationId?: bigint; from?: string; limit?: number; cursor?: string } = {},
  ): Promise<SearchPage> {
    const response = await this.chat.search({
      query,
      conversationId: options.conversationId ?? 0n,
      from: options.from ?? "",
      limit: options.limit ?? 20,
      cursor: options.cursor ?? "",
    });
    return { hits: response.hits, nextCursor: response.nextCursor };
  }

  /** Your push preferences: what is pushed (`level`), and quiet hours. */
  async pushSettings(): Promise<PushSettings> {
    return await this.chat.getPushSettings({});
  }

  /**
   * Replaces your push preferences. Quiet hours are minutes after midnight in your
   * profile's time zone (equal: none); only the push is held back, never the record.
   */
  async setPushSettings(settings: { level: PushLevel; quietStartMinute?: number; quietEndMinute?: number }): Promise<PushSettings> {
    return await this.chat.setPushSettings({
      level: settings.level,
      quietStartMinute: settings.quietStartMinute ?? 0,
      quietEndMinute: settings.quietEndMinute ?? 0,
    });
  }

  /**
   * Registers this browser for Web Push with its push subscription
   * (`registration.pushManager.subscribe(...)`, then `subscription.toJSON()`); the device
   * as stored. Registering the same subscription again is the same device.
   */
  async registerWebPush(subscription: { endpoint?: string; keys?: Record<string, string> }, options: { appId?: string; locale?: string } = {}): Promise<Device> {
    return await this.chat.registerDevice({
      platform: DevicePlatform.WEB_PUSH,
      webPush: { endpoint: subscription.endpoint ?? "", p256dh: subscription.keys?.p256dh ?? "", auth: subscription.keys?.auth ?? "" },
      appId: options.appId ?? "",
      locale: options.locale ?? globalThis.navigator?.language ?? "",
    });
  }

  /**
   * Subscribes this browser to Web Push with the server's VAPID key and registers the
   * subscription: `registration` is the service worker's (`await
   * navigator.serviceWorker.register("/sw.js")`), which receives the pushes (a `push`
   * event whose `event.data.json()` is `{title, body, badge, conversation_id, ...}`).
   * Asks for the notification permission if the page has not got it. Fails when the
   * server does not send Web Push or the user refuses.
   */
  async subscribeWebPush(registration: ServiceWorkerRegistration, options: { appId?: string; locale?: string } = {}): Promise<Device> {
    const key = (await this.chat.listDevices({})).webPushPublicKey;
    if (!key) {
      throw new Error("this Switchboard server does not send Web Push (no [notifications.web_push])");
    }
    const subscription = await registration.pushManager.subscribe({
      userVisibleOnly: true,
      applicationServerKey: base64urlBytes(key),
    });
    return await this.registerWebPush(subscription.toJSON(), options);
  }

  /**
   * Alerts each of your devices now with a test push, whatever your push preferences;
   * what each provider answered (devices it no longer knows are removed).
   */
  async testPush(): Promise<TestedDevice[]> {
    return (await this.chat.testPush({})).devices;
  }

  /** Your devices for push, most recently registered first (tokens are never shown). */
  async devices(): Promise<Device[]> {
    return (await this.chat.listDevices({})).devices;
  }

  /** Removes one of your devices (signing out on it); whether it was yours. */
  async removeDevice(deviceId: bigint): Promise<boolean> {
    return (await this.chat.removeDevice({ deviceId })).removed;
  }

  /** The user's notifications (mentions, direct messages), newest first. */
  async notifications(options: { unreadOnly?: boolean; limit?: number; beforeId?: bigint } = {}): Promise<Notification[]> {
    const response = await this.chat.listNotifications({
      unreadOnly: options.unreadOnly ?? false,
      limit: options.limit ?? 50,
      beforeId: options.beforeId ?? 0n,
    });
    return response.notifications;
  }

  /** Marks notifications read: these ids, one conversation's, or all; returns how many. */
  async markNotificationsRead(which: { ids: bigint[] } | { conversationId: bigint } | "all"): Promise<number> {
    const request =
      which === "all" ? { all: true } : "ids" in which ? { ids: which.ids } : { conversationId: which.conversationId };
    return (await this.chat.markNotificationsRead(request)).marked;
  }

  /** Mutes (or unmutes) a conversation: only @mentions of the user notify. */
  async setMute(conversationId: bigint, muted: boolean): Promise<boolean> {
    return (await this.chat.setMute({ conversationId, muted })).muted;
  }

  /**
   * The conversation about a business object of your app (`order:1234`): found if one is
   * linked to the key, else created from `create` (a team or a channel, with the
   * `chat.teams.manage` scope) and linked. Without `create`, a key nothing is linked to
   * rejects with NOT_FOUND.
   */
  async openLinked(
    externalKey: string,
    create?: { team: MessageInitShape<typeof CreateTeamRequestSchema> } | { channel: MessageInitShape<typeof CreateChannelRequestSchema> },
  ): Promise<{ conversation: Conversation; created: boolean }> {
    const request =
      create === undefined ? {}
      : "team" in create ? { create: { case: "team" as const, value: create.team } }
      : { create: { case: "channel" as const, value: create.channel } };
    const response = await this.chat.openLinked({ externalKey, ...request });
    if (!response.conversation) throw new ConnectError("the relay answered without a conversation", Code.Internal);
    return { conversation: response.conversation, created: response.created };
  }

  /** Every conversation of the user (with unread and mention counts). */
  async conversations(): Promise<Conversation[]> {
    const all: Conversation[] = [];
    let after = 0n;
    do {
      const page = await this.chat.listConversations({ after, limit: 200 });
      all.push(...page.conversations);
      after = page.nextAfter;
    } while (after !== 0n);
    return all;
  }

  /**
   * Uploads a file (a `File` from an input, or any `Blob`) to a conversation and completes
   * it: the bytes go straight to the blob store over presigned URLs, in parts for large
   * files. `onProgress` gets the bytes sent so far. Send it with `sendAttachment`.
   */
  async uploadFile(
    conversationId: bigint,
    file: Blob,
    options: { filename?: string; contentType?: string; onProgress?: (sent: number) => void } = {},
  ): Promise<Attachment> {
    return await this.upload(UploadPurpose.UNSPECIFIED, conversationId, file, options);
  }

  /**
   * Uploads a picture (PNG, JPEG, GIF or WebP, at most 5 MiB) and makes it your avatar; the
   * one it replaces is deleted. Resolves with your profile as it is now.
   */
  async setAvatar(
    file: Blob,
    options: { filename?: string; contentType?: string; onProgress?: (sent: number) => void } = {},
  ): Promise<Profile> {
    const picture = await this.upload(UploadPurpose.AVATAR, 0n, file, options);
    return await this.people.updateProfile({ profile: { avatarId: picture.id }, fields: ["avatar"] });
  }

  /** Removes your avatar (or, for an org admin, `userId`'s) and deletes its picture. */
  async clearAvatar(userId = ""): Promise<Profile> {
    return await this.people.updateProfile({ userId, profile: { avatarId: 0n }, fields: ["avatar"] });
  }

  /**
   * A URL that shows a profile's avatar (`profile.avatarId`), for an `<img src>`. An avatar's
   * bytes never change, so the URL is kept and handed out again until shortly before it
   * expires: a page of names costs one call per picture, not per appearance.
   */
  async avatarUrl(avatarId: bigint): Promise<string> {
    const kept = this.avatarUrls.get(avatarId);
    if (kept && kept.expiresAtMs - Date.now() > 60_000) return await kept.url;
    const url = this.files.getDownloadUrl({ attachmentId: avatarId }).then((answer) => {
      this.avatarUrls.set(avatarId, { url: Promise.resolve(answer.url), expiresAtMs: Number(answer.expiresAtMs) });
      return answer.url;
    });
    // Asked again before the answer arrives: the same answer. A failure is not kept.
    this.avatarUrls.set(avatarId, { url, expiresAtMs: Number.MAX_SAFE_INTEGER });
    url.catch(() => this.avatarUrls.delete(avatarId));
    return await url;
  }

  /** Creates the upload, PUTs every part of `file`, and completes it. */
  private async upload(
    purpose: UploadPurpose,
    conversationId: bigint,
    file: Blob,
    options: { filename?: string; contentType?: string; onProgress?: (sent: number) => void },
  ): Promise<Attachment> {
    const filename = options.filename ?? ("name" in file ? String(file.name) : "file");
    const contentType = options.contentType ?? (file.type || "application/octet-stream");
    const upload = await this.files.createUpload({
      channelId: conversationId,
      filename,
      contentType,
      size: BigInt(file.size),
      purpose,
    });
    let sent = 0;
    for (const part of upload.parts) {
      const body = file.slice(Number(part.offset), Number(part.offset + part.length));
      const response = await fetch(part.url, { method: "PUT", headers: upload.headers, body });
      if (!response.ok) {
        throw new Error(`upload failed: ${response.status} ${(await response.text()).trim()}`);
      }
      sent += body.size;
      options.onProgress?.(sent);
    }
    if (!upload.attachment) throw new ConnectError("the relay answered without an attachment", Code.Internal);
    return this.files.completeUpload({ attachmentId: upload.attachment.id });
  }

  /** Sends an uploaded attachment as a message (image, video, audio or file by its type). */
  async sendAttachment(conversationId: bigint, attachment: Attachment, caption?: string): Promise<Message> {
    const family = attachment.contentType.split("/")[0];
    const type =
      family === "image" ? MessageType.IMAGE
      : family === "video" ? MessageType.VIDEO
      : family === "audio" ? MessageType.AUDIO
      : MessageType.FILE;
    const sent = await this.chat.sendMessage({
      channelId: conversationId,
      type,
      data: attachment.id.toString(),
      customFields: caption === undefined ? {} : { caption },
      clientMsgId: crypto.randomUUID(),
    });
    if (!sent.message) throw new ConnectError("the relay answered without a message", Code.Internal);
    return sent.message;
  }

  /**
   * A conversation's files (those of its messages you may see), newest first, optionally of
   * one kind; page on with `beforeId` = the previous page's `nextBeforeId` (0n after the last).
   */
  async conversationFiles(
    conversationId: bigint,
    page: { kind?: "image" | "video" | "audio" | "file"; beforeId?: bigint; limit?: number } = {},
  ): Promise<{ attachments: Attachment[]; nextBeforeId: bigint }> {
    const { attachments, nextBeforeId } = await this.files.listConversationFiles({
      channelId: conversationId,
      kind: page.kind ?? "",
      beforeId: page.beforeId ?? 0n,
      limit: page.limit ?? 50,
    });
    return { attachments, nextBeforeId };
  }

  /** Your uploads in every conversation (and your avatars), newest first. */
  async myUploads(page: { beforeId?: bigint; limit?: number } = {}): Promise<{ attachments: Attachment[]; nextBeforeId: bigint }> {
    const { attachments, nextBeforeId } = await this.files.listMyUploads({
      beforeId: page.beforeId ?? 0n,
      limit: page.limit ?? 50,
    });
    return { attachments, nextBeforeId };
  }

  /** A short-lived URL that downloads an attachment (for an `<img src>` or a link). */
  async downloadUrl(attachmentId: bigint): Promise<string> {
    return (await this.files.getDownloadUrl({ attachmentId })).url;
  }

  /**
   * Shows the presence of exactly these users of the org (at most 1,000; empty for no
   * one): the people on screen, such as DM partners and the member list in view. A
   * `presence` event follows for each one not watched before, with their state now, then
   * one for each change. Kept across reconnects.
   */
  async watchPresence(userIds: string[]): Promise<void> {
    this.watching = [...userIds];
    // Without an open session there is nothing to tell: the next one starts with them.
    await this.act({ kind: { case: "watchPresence", value: { userIds } } }, async () => {});
  }

  /**
   * Shows how many members of these conversations (at most 100, each one followed) are
   * online: an `online` event for each now, then when it changes. Kept across reconnects.
   */
  async watchOnlineCounts(conversationIds: bigint[]): Promise<void> {
    this.counting = [...conversationIds];
    await this.act({ kind: { case: "watchOnlineCounts", value: { channelIds: conversationIds } } }, async () => {});
  }

  /** The presence of `userIds` now, by user (once; `watchPresence` follows changes). */
  async presence(userIds: string[]): Promise<Map<string, UserPresence>> {
    const response = await this.chat.getPresence({ userIds });
    return new Map(response.users.map((u) => [u.userId, u]));
  }

  /** Sets your availability and status text; resolves with your presence as others see it. */
  async setStatus(availability: Availability, text = ""): Promise<UserPresence> {
    return await this.chat.setStatus({ availability, text });
  }

  /**
   * A user's profile as you may see it (`""` for yours, created from your token's `name` on
   * first use). A user without one comes back with only `userId` and `exists: false`.
   */
  async profile(userId = ""): Promise<Profile> {
    return await this.people.getProfile({ userId });
  }

  /** Up to 500 users' profiles by user id, to show names instead of ids. */
  async profiles(userIds: string[]): Promise<Map<string, Profile>> {
    const response = await this.people.getProfiles({ userIds });
    return new Map(response.profiles.map((p) => [p.userId, p]));
  }

  /**
   * The org's users whose names, titles or ids have words starting with each word of
   * `query` ("ali lid" finds Alice Liddell); pass `nextPageToken` back for more.
   */
  async searchUsers(query: string, limit = 20, pageToken = ""): Promise<{ users: Profile[]; nextPageToken: string }> {
    const { users, nextPageToken } = await this.people.searchUsers({ query, limit, pageToken });
    return { users, nextPageToken };
  }

  /** Your contacts (all pages), each with their profile and when you added them. */
  async contacts(): Promise<Person[]> {
    return await this.allPeople((after) => this.people.listContacts({ after, limit: 200 }));
  }

  /** Adds a user to your contacts. */
  async addContact(userId: string): Promise<Person> {
    return await this.people.addContact({ userId });
  }

  /** Takes a user off your contacts; false if they were not one. */
  async removeContact(userId: string): Promise<boolean> {
    return (await this.people.removeContact({ userId })).removed;
  }

  /** The users you block (all pages): hide their messages in shared teams. */
  async blocked(): Promise<Person[]> {
    return await this.allPeople((after) => this.people.listBlocked({ after, limit: 200 }));
  }

  /** Blocks a user: no direct messages either way, and their DM leaves your listing. */
  async block(userId: string): Promise<Person> {
    return await this.people.block({ userId });
  }

  /** Lifts a block; false if the user was not blocked. */
  async unblock(userId: string): Promise<boolean> {
    return (await this.people.unblock({ userId })).unblocked;
  }

  private async allPeople(page: (after: string) => Promise<{ people: Person[]; nextAfter: string }>): Promise<Person[]> {
    const people: Person[] = [];
    let after = "";
    do {
      const next = await page(after);
      people.push(...next.people);
      after = next.nextAfter;
    } while (after !== "");
    return people;
  }

  /**
   * Changes the named fields of your profile (or, for an org admin, `userId`'s) to their
   * values in `changes`; an empty value clears a field.
   */
  async updateProfile(
    changes: Partial<Pick<Profile, "displayName" | "title" | "bio" | "timeZone" | "email" | "phone" | "customFields">>,
    userId = "",
  ): Promise<Profile> {
    const names: Record<string, string> = {
      displayName: "display_name",
      title: "title",
      bio: "bio",
      timeZone: "time_zone",
      email: "email",
      phone: "phone",
      customFields: "custom_fields",
    };
    const fields = Object.keys(changes).map((key) => names[key]);
    return await this.people.updateProfile({ userId, profile: changes, fields });
  }

  /** Starts (or refreshes) or stops the typing indicator. */
  async typing(conversationId: bigint, typing: boolean): Promise<void> {
    const value = { channelId: conversationId, typing };
    await this.act({ kind: { case: "typing", value } }, () => this.chat.setTyping(value));
  }

  /** Tells the others you have read up to `messageId`. */
  async markRead(conversationId: bigint, messageId: bigint): Promise<void> {
    const value = { channelId: conversationId, messageId };
    await this.act({ kind: { case: "markRead", value } }, () => this.chat.markRead(value));
  }

  /**
   * Follows these conversations too (each replayed from its resume position, if any),
   * from now on and after reconnects.
   */
  async subscribe(conversationIds: bigint[]): Promise<void> {
    for (const id of conversationIds) {
      if ("only" in this.following) this.following.only.add(id);
      else this.following.except.delete(id);
    }
    const channels = conversationIds.map((channelId) => ({ channelId, afterSeq: this.positions.get(channelId) ?? 0n }));
    // Without an open session there is nothing to tell: the next one starts with them.
    await this.act({ kind: { case: "subscribe", value: { channels } } }, async () => {});
  }

  /** Stops following these conversations, from now on and after reconnects. */
  async unsubscribe(conversationIds: bigint[]): Promise<void> {
    for (const id of conversationIds) {
      if ("only" in this.following) this.following.only.delete(id);
      else this.following.except.add(id);
    }
    await this.act({ kind: { case: "unsubscribe", value: { channelIds: conversationIds } } }, async () => {});
  }

  /** Ends the session; no reconnects after this. */
  close(): void {
    this.stop.abort();
    this.setState("closed");
    for (const wake of this.waiting.splice(0)) wake(undefined);
  }

  /** A frame for the open session; without one (reconnecting), `instead` (a Chat call). */
  private async act(
    frame: MessageInitShape<typeof ClientFrameSchema>,
    instead: () => Promise<unknown>,
  ): Promise<void> {
    if (this.sessionId !== "") {
      try {
        await this.web.act({ sessionId: this.sessionId, frame: create(ClientFrameSchema, frame) });
        return;
      } catch (error) {
        if (ConnectError.from(error).code !== Code.NotFound) throw error;
      }
    }
    await instead();
  }

  private async run(): Promise<void> {
    const { initialMs, maxMs } = this.options.backoff ?? { initialMs: 250, maxMs: 10_000 };
    for (let failures = 0; !this.stop.signal.aborted; ) {
      try {
        const frames = this.web.subscribe(this.hello(), { signal: this.stop.signal });
        for await (const frame of frames) {
          if (this.handle(frame)) failures = 0;
        }
      } catch (error) {
        if (this.stop.signal.aborted) return;
        const code = ConnectError.from(error).code;
        // A token that is refused stays refused: stop rather than hammer the relay.
        if (code === Code.Unauthenticated || code === Code.PermissionDenied) {
          this.emit("error", { code, message: ConnectError.from(error).rawMessage });
          this.close();
          return;
        }
      }
      if (this.stop.signal.aborted) return;
      this.sessionId = "";
      this.setState("reconnecting");
      await sleep(backoffDelay(failures++, initialMs, maxMs));
    }
  }

  /** What a (re)connect asks for: the conversations followed now, and where to resume. */
  private hello(): MessageInitShape<typeof HelloSchema> {
    const resume = [...this.positions].map(([channelId, afterSeq]) => ({ channelId, afterSeq }));
    if ("only" in this.following) {
      const only = [...this.following.only];
      return { only, none: only.length === 0, resume, watchPresence: this.watching };
    }
    return { except: [...this.following.except], resume, watchPresence: this.watching };
  }

  /** Handles one frame; true once the session is live. */
  private handle(frame: ServerFrame): boolean {
    const kind = frame.kind;
    switch (kind.case) {
      case "welcome":
        this.sessionId = kind.value.sessionId;
        this.userId = kind.value.userId;
        return false;
      case "live":
        // The session has every change up to these positions; events move them on.
        for (const { channelId, afterSeq } of kind.value.positions) this.advance(channelId, afterSeq);
        if (this.currentState !== "live" && this.counting.length > 0) {
          // A hello has no place for them: ask again on each new session.
          void this.watchOnlineCounts(this.counting).catch(() => {});
        }
        this.setState("live");
        return true;
      case "event":
        this.dispatch(kind.value);
        return false;
      case "error":
        this.emit("error", { code: kind.value.code, message: kind.value.message });
        return false;
      default:
        return false;
    }
  }

  private advance(conversationId: bigint, seq: bigint): void {
    if ((this.positions.get(conversationId) ?? 0n) < seq) this.positions.set(conversationId, seq);
  }

  private dispatch(event: Event): void {
    if (event.seq !== 0n) this.advance(event.conversationId, event.seq);
    const kind = event.kind;
    switch (kind.case) {
      case "messageCreated":
        if (kind.value.message) this.emit("message", kind.value.message);
        break;
      case "messageEdited":
        if (kind.value.message) this.emit("edited", kind.value.message);
        break;
      case "messageDeleted":
        if (kind.value.message) this.emit("deleted", kind.value.message);
        break;
      case "messageExpired":
        if (kind.value.message) this.emit("expired", kind.value.message);
        break;
      case "typing":
        this.emit("typing", { conversationId: event.conversationId, userId: kind.value.userId, typing: kind.value.typing });
        break;
      case "onlineCount":
        this.emit("online", { conversationId: event.conversationId, online: kind.value.online, members: kind.value.members });
        break;
      case "presenceChanged":
        for (const user of kind.value.users) this.emit("presence", user);
        break;
      case "memberJoined":
        // Added to a conversation (again): following all, the relay follows it, and so do
        // reconnects, even if it was unsubscribed from before.
        if (kind.value.member?.userId === this.userId && "except" in this.following) {
          this.following.except.delete(event.conversationId);
        }
        break;
      case "readReceipt":
        this.emit("read", { conversationId: event.conversationId, userId: kind.value.userId, messageId: kind.value.messageId });
        break;
      case "threadChanged":
        if (kind.value.thread) this.emit("thread", kind.value.thread);
        break;
      case "unreadChanged":
        this.emit("unread", {
          conversationId: event.conversationId,
          readUpTo: kind.value.readUpTo,
          unreadCount: kind.value.unreadCount,
          mentionCount: kind.value.mentionCount,
        });
        break;
    }
    this.emit("event", event);
    const reader = this.waiting.shift();
    if (reader) reader(event);
    else this.queue.push(event);
  }

  private setState(state: ConnectionState): void {
    if (this.currentState === state) return;
    this.currentState = state;
    this.emit("state", state);
  }

  private emit<K extends keyof SwitchboardEvents>(kind: K, value: SwitchboardEvents[K]): void {
    for (const handler of this.handlers.get(kind) ?? []) (handler as Handler<K>)(value);
  }
}

async function tokenOf(source: TokenSource): Promise<string> {
  return typeof source === "string" ? source : await source();
}

/** The wait before reconnect attempt `n`: exponential, capped, with full jitter. */
/** The bytes of a base64url string (padding optional). */
function base64urlBytes(text: string): Uint8Array<ArrayBuffer> {
  const base64 = text.replace(/-/g, "+").replace(/_/g, "/").padEnd(Math.ceil(text.length / 4) * 4, "=");
  const binary = atob(base64);
  const bytes = new Uint8Array(new ArrayBuffer(binary.length));
  for (let i = 0; i < binary.length; i++) {
    bytes[i] = binary.charCodeAt(i);
  }
  return bytes;
}

export function backoffDelay(n: number, initialMs: number, maxMs: number): number {
  const ceiling = Math.min(maxMs, initialMs * 2 ** n);
  return ceiling / 2 + Math.random() * (ceiling / 2);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
