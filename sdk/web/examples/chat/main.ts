// The demo chat page: sign in with a token, pick a conversation (or find someone and start
// a DM), read its history (older pages load as you scroll up), send, and see messages,
// typing and presence live, with people shown by their names and pictures (set yours from
// the sidebar), reactions, pins, and threads opened beside the conversation. A reload signs in again and resumes from where the page was, so nothing sent
// meanwhile is lost.

import {
  Availability,
  type Attachment,
  type Conversation,
  type Message,
  MessageType,
  type Profile,
  SwitchboardClient,
  type UserPresence,
} from "../../src/index.js";

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const saved = {
  url: "switchboard.url",
  token: "switchboard.token",
  resume: "switchboard.positions",
  /** The conversation open when the page was left, opened again on a reload. */
  current: "switchboard.current",
};

let client: SwitchboardClient | undefined;
let me = "";
let current: Conversation | undefined;
let oldest: bigint | undefined;
let hasMore = false;
let loadingOlder = false;
/** The message list shows its newest message, and stays there as pictures load and
 * messages arrive, until the reader scrolls up. */
let atNewest = true;
/** The newest message shown of the open conversation. */
let newest: Message | undefined;
const shown = new Set<bigint>();
const typingNow = new Map<string, ReturnType<typeof setTimeout>>();
/** How far each member of the open conversation has read (their read markers). */
const readUpTo = new Map<string, bigint>();
const online = new Map<string, UserPresence>();
/** What profiles say of each user seen: the name to show ("" for none) and their picture. */
const people = new Map<string, { name: string; avatarId: bigint }>();

/** What to call a user: their display name once known, else their id. */
function nameOf(user: string): string {
  return people.get(user)?.name || user;
}

/** Remembers what `profile` says of its user. */
function know(profile: Profile): void {
  people.set(profile.userId, { name: profile.displayName, avatarId: profile.avatarId });
}

/** A user's picture, or their initial until they have one (filled in by `showPeople`). */
function avatar(user: string): HTMLElement {
  const frame = document.createElement("span");
  frame.className = "avatar";
  frame.dataset.user = user;
  void showAvatar(frame);
  return frame;
}

async function showAvatar(frame: HTMLElement): Promise<void> {
  const user = frame.dataset.user ?? "";
  const avatarId = people.get(user)?.avatarId ?? 0n;
  if (frame.dataset.avatar === avatarId.toString()) return;
  frame.dataset.avatar = avatarId.toString();
  if (avatarId === 0n || !client) {
    frame.replaceChildren(nameOf(user).slice(0, 1).toUpperCase());
    return;
  }
  const image = document.createElement("img");
  image.alt = "";
  image.src = await client.avatarUrl(avatarId);
  frame.replaceChildren(image);
}

/** Shows every name and picture on the page as now known. */
function showPeople(): void {
  for (const name of document.querySelectorAll<HTMLElement>(".name[data-user]")) {
    name.textContent = nameOf(name.dataset.user ?? "");
  }
  for (const frame of document.querySelectorAll<HTMLElement>(".avatar")) void showAvatar(frame);
  showOnline();
}

/** Looks up the profiles of `users` not known yet (one call), then shows them. */
async function learnNames(users: string[]): Promise<void> {
  const unknown = [...new Set(users)].filter((user) => !people.has(user));
  if (!client || unknown.length === 0) return;
  for (const user of unknown) people.set(user, { name: "", avatarId: 0n });
  for (const profile of (await client.profiles(unknown)).values()) know(profile);
  showPeople();
}

function claimsOf(token: string): { sub: string } {
  const payload = token.split(".")[1] ?? "";
  return JSON.parse(atob(payload.replace(/-/g, "+").replace(/_/g, "/")));
}

function signIn(url: string, token: string): void {
  me = claimsOf(token).sub;
  localStorage.setItem(saved.url, url);
  localStorage.setItem(saved.token, token);
  const resume = new Map<bigint, bigint>(
    Object.entries(JSON.parse(localStorage.getItem(saved.resume) ?? "{}")).map(([k, v]) => [BigInt(k), BigInt(v as string)]),
  );
  client = SwitchboardClient.connect({ url, token, resume });
  client.on("state", (state) => ($("state").textContent = state));
  client.on("message", (m) => {
    remember();
    if (m.channelId !== current?.id) {
      if (m.from === me || m.threadOnly) return;
      if (!document.querySelector(`#conversations li[data-id='${m.channelId}']`)) {
        // Added to a conversation since the list was read: list again (with its count).
        void listConversations();
        return;
      }
      const was = unread.get(m.channelId) ?? { count: 0, mentions: 0 };
      const forMe = m.to === me || m.mentions.some((who) => who === me || who === "@all" || who === "@here");
      showUnread(m.channelId, was.count + 1, was.mentions + (forMe ? 1 : 0));
      return;
    }
    if (m.from !== me) markRead(m);
    // Replies go to their thread, and to the conversation only when posted there too.
    if (m.parentId !== 0n && m.parentId === openRoot) appendReply(m);
    if (!m.threadOnly) append(m);
  });
  // Edits, deletes and pins: the message as it is now, in place.
  for (const kind of ["edited", "deleted"] as const) {
    client.on(kind, (m) => {
      remember();
      if (m.channelId === current?.id) replace(m);
    });
  }
  // Gone under the retention policy, by the server's clock (this page's may differ).
  client.on("expired", (m) => removeMessage(m.id));
  client.on("event", (event) => {
    // Added to a conversation: it joins the list.
    if (event.kind.case === "memberJoined" && event.kind.value.member?.userId === me) void listConversations();
  });
  client.on("read", (r) => {
    if (r.conversationId !== current?.id || r.userId === me) return;
    if (r.messageId > (readUpTo.get(r.userId) ?? 0n)) readUpTo.set(r.userId, r.messageId);
    showSeen();
  });
  client.on("typing", (t) => {
    if (t.conversationId !== current?.id || t.userId === me) return;
    clearTimeout(typingNow.get(t.userId));
    if (t.typing) typingNow.set(t.userId, setTimeout(() => (typingNow.delete(t.userId), showTyping()), 6000));
    else typingNow.delete(t.userId);
    showTyping();
  });
  client.on("online", (count) => {
    if (count.conversationId === current?.id) $("count").textContent = `${count.online} of ${count.members} online · `;
  });
  client.on("unread", (u) => showUnread(u.conversationId, u.unreadCount, u.mentionCount));
  client.on("presence", (p) => {
    online.set(p.userId, p);
    showOnline();
  });
  $("sign-in").hidden = true;
  $("chat").hidden = false;
  const myName = document.createElement("span");
  myName.className = "name";
  myName.dataset.user = me;
  myName.textContent = me;
  $("me").replaceChildren(avatar(me), " ", myName);
  void learnNames([me]);
  void listConversations();
}

/** Keeps the resume positions across reloads. */
function remember(): void {
  if (!client) return;
  const positions = Object.fromEntries([...client.resumePositions].map(([k, v]) => [k.toString(), v.toString()]));
  localStorage.setItem(saved.resume, JSON.stringify(positions));
}

/** A team's name; for a DM, the other party's display name (or id). */
function titleOf(conversation: Conversation): string {
  const peer = conversation.peer;
  return conversation.name || peer?.displayName || peer?.userId || `conversation ${conversation.id}`;
}

async function listConversations(): Promise<void> {
  const conversations = await client!.conversations();
  // Built whole, then swapped in: two listings at once leave one list, not both.
  const items = conversations.map((conversation) => {
    const item = document.createElement("li");
    const peer = conversation.peer;
    if (peer) {
      know(peer);
      item.append(avatar(peer.userId), " ");
    }
    item.append(titleOf(conversation));
    item.dataset.id = conversation.id.toString();
    item.onclick = () => void open(conversation, item);
    // Reached with Tab, opened with Enter or Space, like a button.
    item.tabIndex = 0;
    item.setAttribute("role", "button");
    item.onkeydown = (event) => {
      if (event.key !== "Enter" && event.key !== " ") return;
      event.preventDefault();
      void open(conversation, item);
    };
    if (conversation.id === current?.id) {
      item.classList.add("selected");
      item.setAttribute("aria-current", "true");
    }
    return item;
  });
  $("conversations").replaceChildren(...items);
  conversations.forEach((conversation, i) => {
    showUnread(conversation.id, conversation.unreadCount, conversation.mentionCount);
    if (!current && conversation.id.toString() === localStorage.getItem(saved.current)) void open(conversation, items[i]);
  });
}

/** What is unread in each conversation of the list, as its badge shows it. */
const unread = new Map<bigint, { count: number; mentions: number }>();

/** Sets a conversation's badge in the list: its unread count ("99+" past 99), marked as
 * a mention when someone mentioned the user or wrote to them directly. */
function showUnread(id: bigint, count: number, mentions: number): void {
  unread.set(id, { count, mentions });
  const item = $("conversations").querySelector<HTMLElement>(`li[data-id='${id}']`);
  if (!item) return;
  item.querySelector(".badge")?.remove();
  if (count === 0) return;
  const badge = document.createElement("span");
  badge.className = mentions > 0 ? "badge mention" : "badge";
  badge.textContent = count > 99 ? "99+" : String(count);
  badge.setAttribute("aria-label", `${count} unread${mentions > 0 ? `, ${mentions} for you` : ""}`);
  item.append(badge);
}

/** Marks the open conversation read up to `message` (its badge clears here and on the
 * user's other devices). */
function markRead(message: Message): void {
  if (message.channelId !== current?.id || document.hidden) return;
  showUnread(message.channelId, 0, 0);
  void client!.markRead(message.channelId, message.id);
}

async function open(conversation: Conversation, item: HTMLElement): Promise<void> {
  current = conversation;
  editing = undefined;
  localStorage.setItem(saved.current, conversation.id.toString());
  closeThread();
  for (const li of $("conversations").children) {
    li.classList.toggle("selected", li === item);
    if (li === item) li.setAttribute("aria-current", "true");
    else li.removeAttribute("aria-current");
  }
  $("title").textContent = titleOf(conversation);
  // Writable as soon as it shows as open: what is typed while it loads is kept and sent.
  for (const control of $("composer").querySelectorAll<HTMLTextAreaElement | HTMLButtonElement>("textarea, button")) control.disabled = false;
  $<HTMLTextAreaElement>("text").focus();
  $("messages").replaceChildren();
  shown.clear();
  typingNow.clear();
  showTyping();
  oldest = undefined;
  hasMore = true;
  atNewest = true;
  newest = undefined;
  await loadOlder();
  readUpTo.clear();
  const markers = await client!.api.listReadMarkers({ channelId: conversation.id });
  for (const marker of markers.markers) readUpTo.set(marker.userId, marker.messageId);
  showSeen();
  if (newest) markRead(newest);
  else showUnread(conversation.id, 0, 0);
  // Presence of the members on screen: their state now, then each change.
  const members = await client!.api.listMembers({ conversationId: conversation.id, limit: 200 });
  online.clear();
  showOnline();
  $("count").textContent = "";
  await client!.watchOnlineCounts([conversation.id]);
  await client!.watchPresence(members.members.map((m) => m.userId).filter((user) => user !== me));
}

/** The page before the oldest shown message, kept in place on screen. */
async function loadOlder(): Promise<void> {
  if (!current || !hasMore || loadingOlder) return;
  loadingOlder = true;
  const list = $("messages");
  const height = list.scrollHeight;
  const page = await client!.history(current.id, { before: oldest, limit: 30 });
  hasMore = page.hasMore;
  newest ??= page.messages[0];
  for (const message of page.messages) {
    if (shown.has(message.id)) continue;
    shown.add(message.id);
    list.prepend(row(message));
    oldest = message.id;
  }
  regroup();
  list.scrollTop += list.scrollHeight - height;
  void learnNames(page.messages.map((message) => message.from));
  loadingOlder = false;
  // Not enough to scroll yet: keep loading.
  if (hasMore && list.scrollHeight <= list.clientHeight) await loadOlder();
}

function row(message: Message): HTMLElement {
  const item = document.createElement("li");
  item.className = message.from === me ? "message mine" : "message";
  item.dataset.id = message.id.toString();
  item.dataset.from = message.from;
  item.dataset.ts = message.tsMs.toString();
  if (message.expiresAtMs !== 0n) item.dataset.expires = message.expiresAtMs.toString();
  const from = document.createElement("span");
  from.className = "from name";
  from.dataset.user = message.from;
  from.textContent = nameOf(message.from);
  item.append(avatar(message.from));
  const at = new Date(Number(message.tsMs));
  const time = document.createElement("time");
  time.className = "time";
  time.dateTime = at.toISOString();
  time.textContent = at.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  time.title = at.toLocaleString();
  const text = document.createElement("span");
  text.className = "text";
  const attachment = message.attachment;
  text.textContent = message.deleted ? "(deleted)" : attachment ? attachment.filename : message.data;
  item.append(from, time, text);
  if (message.editedAtMs !== 0n && !message.deleted) item.append(" (edited)");
  if (attachment && !message.deleted) void showAttachment(item, attachment);
  if (!message.deleted && message.to === "*") item.append(pinToggle(message));
  if (!message.deleted && message.from === me && message.type === MessageType.TEXT) item.append(editButton(message));
  if (!message.deleted && message.from === me) item.append(deleteButton(message));
  if (!message.deleted) item.append(reactionsOf(message));
  if (message.to === "*" && message.parentId === 0n) item.append(threadLink(message));
  if (message.parentId !== 0n && !message.threadOnly) item.append(" (in a thread)");
  return item;
}

/** "reply", or how many replies the thread has: opens it beside the conversation. */
function threadLink(message: Message): HTMLElement {
  const button = document.createElement("button");
  button.type = "button";
  button.className = "replies link";
  const count = message.replyCount;
  button.textContent = count === 0 ? "reply" : `${count} ${count === 1 ? "reply" : "replies"}`;
  button.onclick = () => void openThread(message);
  return button;
}

/** The reactions to a message, each a toggle (yours highlighted), and a thumbs-up to add. */
function reactionsOf(message: Message): HTMLElement {
  const box = document.createElement("span");
  box.className = "reactions";
  const mine = new Set(message.reactions.filter((r) => r.mine || r.firstUsers.includes(me)).map((r) => r.emoji));
  const emojis = message.reactions.map((r) => r.emoji);
  if (!emojis.includes("👍")) emojis.push("👍");
  for (const emoji of emojis) {
    const count = message.reactions.find((r) => r.emoji === emoji)?.count ?? 0;
    const chip = document.createElement("button");
    chip.type = "button";
    chip.className = "reaction";
    chip.dataset.emoji = emoji;
    chip.textContent = count === 0 ? `+${emoji}` : `${emoji} ${count}`;
    chip.setAttribute("aria-pressed", String(mine.has(emoji)));
    chip.onclick = async () => {
      const conversation = message.channelId;
      const now = mine.has(emoji)
        ? await client!.unreact(conversation, message.id, emoji)
        : await client!.react(conversation, message.id, emoji);
      replace(now);
    };
    box.append(chip);
  }
  return box;
}

/** Pins the message for everyone, or unpins it; shows who pinned it. */
/** The message of one's own being edited in the composer, if any. */
let editing: Message | undefined;

/** Puts one of the user's messages in the composer to edit: Enter saves, Escape leaves it. */
function editButton(message: Message): HTMLElement {
  const button = document.createElement("button");
  button.type = "button";
  button.className = "edit link";
  button.textContent = "edit";
  button.onclick = () => {
    editing = message;
    const box = $<HTMLTextAreaElement>("text");
    box.value = message.data;
    fitToText(box);
    box.focus();
    composerError(null);
  };
  return button;
}

function deleteButton(message: Message): HTMLElement {
  const button = document.createElement("button");
  button.type = "button";
  button.className = "delete link";
  button.textContent = "delete";
  button.onclick = async () => {
    try {
      replace(await client!.delete(message.channelId, message.id));
    } catch (failure) {
      composerError(`Not deleted: ${reason(failure)}`);
    }
  };
  return button;
}

function pinToggle(message: Message): HTMLElement {
  const button = document.createElement("button");
  button.type = "button";
  button.className = "pin link";
  const pinned = message.pinnedBy !== "";
  button.textContent = pinned ? `pinned by ${nameOf(message.pinnedBy)} · unpin` : "pin";
  button.setAttribute("aria-pressed", String(pinned));
  button.onclick = async () => {
    const conversation = message.channelId;
    const now = pinned ? await client!.unpin(conversation, message.id) : await client!.pin(conversation, message.id);
    replace(now);
  };
  return button;
}

/** Shows a message as it is now wherever it is shown. */
function replace(message: Message): void {
  for (const shownRow of document.querySelectorAll(`li[data-id='${message.id}']`)) {
    const now = row(message);
    if (shownRow.closest("#thread")) now.querySelector(".replies")?.remove();
    shownRow.replaceWith(now);
  }
  regroup();
}

/** Messages whose retention has run out leave the page, as they leave the server. */
function dropExpired(): void {
  const now = Date.now();
  const expired = [...document.querySelectorAll<HTMLElement>("li.message[data-expires]")].filter(
    (item) => Number(item.dataset.expires) <= now,
  );
  for (const item of expired) item.remove();
  if (expired.length > 0) regroup();
}
setInterval(dropExpired, 1_000);

/** Takes a message off the page, from the conversation and its thread alike. */
function removeMessage(id: bigint): void {
  const shown = document.querySelectorAll(`li.message[data-id='${id}']`);
  for (const item of shown) item.remove();
  if (shown.length > 0) regroup();
}

/** Longest gap between two messages of one sender shown as one run. */
const RUN_GAP_MS = 5 * 60_000;

/**
 * Groups the message list as chat apps do: each day starts with its date, and a sender's
 * messages within a few minutes of each other show the name and picture once.
 */
function regroup(): void {
  const list = $("messages");
  for (const day of list.querySelectorAll("li.day")) day.remove();
  let previous: HTMLElement | undefined;
  for (const item of list.querySelectorAll<HTMLElement>("li.message")) {
    const at = Number(item.dataset.ts);
    const before = previous ? Number(previous.dataset.ts) : undefined;
    const newDay = before === undefined || new Date(before).toDateString() !== new Date(at).toDateString();
    if (newDay) {
      const day = document.createElement("li");
      day.className = "day";
      day.setAttribute("role", "separator");
      day.textContent = new Date(at).toLocaleDateString([], { weekday: "long", day: "numeric", month: "long", year: "numeric" });
      item.before(day);
    }
    const continued = !newDay && previous!.dataset.from === item.dataset.from && at - before! < RUN_GAP_MS;
    item.classList.toggle("continued", continued);
    previous = item;
  }
}

/** The root of the thread open beside the conversation. */
let openRoot: bigint | undefined;

/** Opens the thread of `root` beside the conversation: its replies, oldest first, read. */
async function openThread(root: Message): Promise<void> {
  openRoot = root.id;
  $("chat").classList.add("with-thread");
  $("thread").hidden = false;
  const rootRow = row(root);
  rootRow.querySelector(".replies")?.remove();
  $("thread-root").replaceChildren(rootRow);
  $("replies").replaceChildren();
  const page = await client!.replies(root.channelId, root.id, { limit: 100 });
  for (const reply of [...page.messages].reverse()) appendReply(reply, false);
  void learnNames(page.messages.map((m) => m.from));
  // Read up to the newest reply: the other devices' badges clear too.
  const newest = page.messages[0];
  if (newest) void client!.markThreadRead(root.channelId, root.id, newest.id);
  $<HTMLTextAreaElement>("thread-text").focus();
}

/** Shows a reply in the open thread; a live one of someone else's is marked read. */
function appendReply(reply: Message, live = true): void {
  const list = $("replies");
  if (list.querySelector(`li[data-id='${reply.id}']`)) return;
  const item = row(reply);
  item.querySelector(".replies")?.remove();
  list.append(item);
  list.scrollTop = list.scrollHeight;
  if (live && reply.from !== me) void client!.markThreadRead(reply.channelId, reply.parentId, reply.id);
}

function closeThread(): void {
  openRoot = undefined;
  $("chat").classList.remove("with-thread");
  $("thread").hidden = true;
}

$("close-thread").addEventListener("click", closeThread);

$<HTMLFormElement>("thread-composer").addEventListener("submit", async (event) => {
  event.preventDefault();
  const input = $<HTMLTextAreaElement>("thread-text");
  const text = input.value.trim();
  if (!current || openRoot === undefined || !text) return;
  input.value = "";
  fitToText(input);
  const alsoInConversation = $<HTMLInputElement>("also").checked;
  const reply = await client!.reply(current.id, openRoot, text, { alsoInConversation });
  appendReply(reply);
  if (!reply.threadOnly) append(reply);
});

/** Largest picture shown inline, in CSS pixels. */
const PICTURE_BOX = { width: 240, height: 180 };

/**
 * An image inline, anything else as a download link (URLs are short-lived: fetched now).
 * An image takes its place at the size it will have before it loads, so nothing moves.
 */
async function showAttachment(item: HTMLElement, attachment: Attachment): Promise<void> {
  const url = await client!.downloadUrl(attachment.id);
  if (attachment.contentType.startsWith("image/")) {
    const image = document.createElement("img");
    image.className = "attachment";
    image.alt = attachment.filename;
    if (attachment.width > 0 && attachment.height > 0) {
      const scale = Math.min(1, PICTURE_BOX.width / attachment.width, PICTURE_BOX.height / attachment.height);
      image.width = Math.round(attachment.width * scale);
      image.height = Math.round(attachment.height * scale);
    }
    image.addEventListener("load", keepAtNewest);
    image.src = url;
    item.append(image);
    keepAtNewest();
  } else {
    const link = document.createElement("a");
    link.href = url;
    link.textContent = "download";
    item.append(" ", link);
  }
}

function append(message: Message): void {
  if (shown.has(message.id)) return;
  shown.add(message.id);
  const list = $("messages");
  list.append(row(message));
  regroup();
  newest = message;
  if (message.from === me) {
    atNewest = true;
    showSeen();
  }
  keepAtNewest();
  void learnNames([message.from]);
}

/** Read receipts: under the user's newest message, who else has read up to it. */
function showSeen(): void {
  const mine = [...document.querySelectorAll<HTMLElement>("#messages li.mine")].at(-1);
  const id = mine?.dataset.id === undefined ? undefined : BigInt(mine.dataset.id);
  const readers = [...readUpTo]
    .filter(([user, upTo]) => user !== me && id !== undefined && upTo >= id)
    .map(([user]) => nameOf(user));
  $("seen").textContent = readers.length === 0 ? "" : `Seen by ${readers.join(", ")}`;
}

function showTyping(): void {
  const who = [...typingNow.keys()];
  $("typing").textContent = who.length === 0 ? "" : `${who.join(", ")} ${who.length === 1 ? "is" : "are"} typing…`;
}

function showOnline(): void {
  const shown = (p: UserPresence): string => {
    const away = p.availability === Availability.AWAY ? "away" : p.availability === Availability.DO_NOT_DISTURB ? "do not disturb" : "";
    const note = [away, p.statusText].filter((part) => part !== "").join(": ");
    return note === "" ? nameOf(p.userId) : `${nameOf(p.userId)} (${note})`;
  };
  const who = [...online.values()].filter((p) => p.online && p.userId !== me).map(shown);
  $("online").textContent = who.length === 0 ? "" : `online: ${who.sort().join(", ")}`;
}

let lastTyping = 0;
/**
 * A composer as chat apps have them: Enter sends, Shift+Enter starts a new line (and Enter
 * while an input method is composing a character is left to it); the box grows with the
 * text up to a few lines.
 */
function multiline(id: string, form: string): void {
  const box = $<HTMLTextAreaElement>(id);
  box.addEventListener("keydown", (event) => {
    if (event.key !== "Enter" || event.shiftKey || event.isComposing) return;
    event.preventDefault();
    $<HTMLFormElement>(form).requestSubmit();
  });
  box.addEventListener("input", () => fitToText(box));
  box.addEventListener("keydown", (event) => {
    if (event.key !== "Escape" || id !== "text" || !editing) return;
    editing = undefined;
    box.value = "";
    fitToText(box);
  });
}

/** Makes a composer as high as its text (borders included), up to its CSS max-height. */
function fitToText(box: HTMLTextAreaElement): void {
  box.style.height = "auto";
  box.style.height = `${box.scrollHeight + box.offsetHeight - box.clientHeight}px`;
}

multiline("text", "composer");
multiline("thread-text", "thread-composer");

$<HTMLTextAreaElement>("text").addEventListener("input", () => {
  if (!current || Date.now() - lastTyping < 3000) return;
  lastTyping = Date.now();
  void client!.typing(current.id, true);
});

$<HTMLFormElement>("composer").addEventListener("submit", async (event) => {
  event.preventDefault();
  const input = $<HTMLTextAreaElement>("text");
  const text = input.value.trim();
  if (!current || !text) return;
  if (editing) {
    const edited = editing;
    try {
      replace(await client!.edit(edited.channelId, edited.id, text));
      editing = undefined;
      input.value = "";
      fitToText(input);
      composerError(null);
    } catch (failure) {
      composerError(`Not saved: ${reason(failure)}`);
    }
    return;
  }
  lastTyping = 0;
  void client!.typing(current.id, false);
  try {
    const sent = await client!.send(current.id, text);
    // Sent: the draft goes (unless the user already typed the next one).
    if (input.value.trim() === text) {
      input.value = "";
      fitToText(input);
    }
    composerError(null);
    append(sent);
  } catch (failure) {
    // Refused: say why where it happened, and keep the draft to fix.
    composerError(`Not sent: ${reason(failure)}`);
  }
});

/** Shows why something the composer sent was refused, beside it; null hides it. */
function composerError(text: string | null): void {
  const error = $("composer-error");
  error.textContent = text ?? "";
  error.hidden = text === null;
}

function reason(failure: unknown): string {
  return failure instanceof Error ? failure.message : String(failure);
}

$("new-team-toggle").addEventListener("click", () => {
  const form = $<HTMLFormElement>("new-team");
  form.hidden = !form.hidden;
  $("new-team-toggle").setAttribute("aria-expanded", String(!form.hidden));
  if (!form.hidden) form.querySelector<HTMLInputElement>("input[name=name]")!.focus();
});

/** Creates a team with the members named, and opens it; a refusal is shown in the form,
 * which keeps what was typed. */
$<HTMLFormElement>("new-team").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = $<HTMLFormElement>("new-team");
  const field = (name: string) => form.querySelector<HTMLInputElement>(`input[name=${name}]`)!;
  const error = form.querySelector<HTMLElement>(".error")!;
  const members = field("members").value.split(",").map((user) => user.trim()).filter((user) => user !== "");
  try {
    const team = await client!.api.createTeam({ name: field("name").value.trim(), members });
    form.reset();
    form.hidden = true;
    error.hidden = true;
    $("new-team-toggle").setAttribute("aria-expanded", "false");
    await listConversations();
    const item = document.querySelector<HTMLElement>(`#conversations li[data-id='${team.id}']`);
    if (item) await open(team, item);
  } catch (failure) {
    error.textContent = `Not created: ${reason(failure)}`;
    error.hidden = false;
  }
});

let searching = 0;
$<HTMLInputElement>("find").addEventListener("input", async () => {
  const query = $<HTMLInputElement>("find").value.trim();
  const search = ++searching;
  const found = query === "" ? [] : (await client!.searchUsers(query, 8)).users;
  if (search !== searching) return; // a later keystroke's search answers instead
  const list = $("found");
  list.replaceChildren();
  for (const person of found.filter((p) => p.userId !== me)) {
    know(person);
    const item = document.createElement("li");
    item.dataset.user = person.userId;
    const label = person.title ? `${nameOf(person.userId)} · ${person.title}` : nameOf(person.userId);
    item.append(avatar(person.userId), " ", label);
    item.onclick = () => void startDirect(person.userId);
    list.append(item);
  }
});
$<HTMLFormElement>("people").addEventListener("submit", (event) => event.preventDefault());

/** Opens (or creates) the DM with `user` and shows it. */
async function startDirect(user: string): Promise<void> {
  const direct = await client!.api.openDirect({ userId: user });
  $<HTMLInputElement>("find").value = "";
  $("found").replaceChildren();
  await listConversations();
  const item = document.querySelector<HTMLElement>(`#conversations li[data-id='${direct.id}']`);
  if (item) await open(direct, item);
}

$("attach").addEventListener("click", () => $<HTMLInputElement>("file").click());
$<HTMLInputElement>("file").addEventListener("change", async () => {
  const input = $<HTMLInputElement>("file");
  const file = input.files?.[0];
  input.value = "";
  if (!current || !file) return;
  const progress = uploadProgress(file);
  try {
    const attachment = await client!.uploadFile(current.id, file, { onProgress: progress.update });
    append(await client!.sendAttachment(current.id, attachment));
    composerError(null);
  } catch (failure) {
    composerError(`Not sent: ${file.name}: ${reason(failure)}`);
  } finally {
    progress.done();
  }
});

/** A row above the composer showing how much of `file` is uploaded, until `done`. */
function uploadProgress(file: File): { update: (sent: number) => void; done: () => void } {
  const item = document.createElement("li");
  const bar = document.createElement("progress");
  bar.max = file.size;
  bar.value = 0;
  bar.setAttribute("aria-label", `Uploading ${file.name}`);
  const percent = document.createElement("span");
  percent.textContent = " 0%";
  item.append(file.name, bar, percent);
  $("uploads").append(item);
  return {
    update: (sent) => {
      bar.value = sent;
      percent.textContent = ` ${file.size === 0 ? 100 : Math.floor((sent * 100) / file.size)}%`;
    },
    done: () => item.remove(),
  };
}

$("picture").addEventListener("click", () => $<HTMLInputElement>("picture-file").click());
$<HTMLInputElement>("picture-file").addEventListener("change", async () => {
  const input = $<HTMLInputElement>("picture-file");
  const file = input.files?.[0];
  input.value = "";
  if (!file) return;
  know(await client!.setAvatar(file));
  showPeople();
});

/** Scrolls to the newest message if the list was showing it. */
function keepAtNewest(): void {
  const list = $("messages");
  if (atNewest) list.scrollTop = list.scrollHeight;
}

$("messages").addEventListener("scroll", () => {
  const list = $("messages");
  atNewest = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
  if (list.scrollTop < 40) void loadOlder();
});

$<HTMLFormElement>("sign-in").addEventListener("submit", (event) => {
  event.preventDefault();
  const form = new FormData(event.target as HTMLFormElement);
  signIn(String(form.get("url")).trim(), String(form.get("token")).trim());
});

$("sign-out").addEventListener("click", () => {
  client?.close();
  for (const key of Object.values(saved)) localStorage.removeItem(key);
  location.reload();
});

/**
 * Served by `switchboard dev`, the page offers its development sign-in: a user name is
 * enough (the server mints the token). Elsewhere it asks for a relay and a token.
 */
async function offerDevSignIn(): Promise<void> {
  const answer = await fetch("/dev/config").catch(() => undefined);
  if (!answer?.ok || !answer.headers.get("content-type")?.includes("json")) return;
  const { relay } = (await answer.json()) as { relay: string };
  $("sign-in").hidden = true;
  $("dev-sign-in").hidden = false;
  $("dev-sign-in").querySelector("input")?.focus();
  $<HTMLFormElement>("dev-sign-in").onsubmit = async (event) => {
    event.preventDefault();
    const form = new FormData(event.target as HTMLFormElement);
    const request = { user: String(form.get("user")).trim(), org: String(form.get("org")).trim() };
    const minted = await fetch("/dev/token", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(request) });
    if (!minted.ok) {
      $("dev-sign-in-error").textContent = (await minted.text()).trim();
      $("dev-sign-in-error").hidden = false;
      return;
    }
    $("dev-sign-in").hidden = true;
    signIn(relay, ((await minted.json()) as { token: string }).token);
  };
}

const url = localStorage.getItem(saved.url);
const token = localStorage.getItem(saved.token);
if (url && token) signIn(url, token);
else void offerDevSignIn();
