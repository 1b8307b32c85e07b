// A follower for the delivery model test (tests/tests/delivery_model.rs), through the built
// web SDK: `node model-follower.mjs RELAY_URL TOKEN`. Commands on stdin, one a line:
// `disconnect` closes the session and keeps the positions of what the app was handed;
// `reconnect` opens a new one resuming from them, as a page reload does. Prints what the
// SDK hands the app, one JSON object a line: `{"kind":"live"}` when a session goes live,
// and each message event (conversation, position, message id, text, deleted); and, for the
// test's trace only, `{"kind":"note","text":…}` on state changes and commands.

import { createInterface } from "node:readline";

import { SwitchboardClient } from "../dist/index.js";

const [url, token] = process.argv.slice(2);
const messageKinds = new Set(["messageCreated", "messageEdited", "messageDeleted"]);
let positions = new Map();
let current = null;

function print(line) {
  process.stdout.write(`${JSON.stringify(line)}\n`);
}

function note(text) {
  print({ kind: "note", text });
}

function shown(map) {
  return JSON.stringify([...map].map(([channel, seq]) => `${channel}@${seq}`));
}

function connect() {
  note(`connecting, resuming from ${shown(positions)}`);
  const client = SwitchboardClient.connect({ url, token, resume: positions, backoff: { initialMs: 10, maxMs: 200 } });
  // Events a closed session still hands over are not the app's: it has moved on.
  client.on("state", (state) => {
    if (client !== current) return;
    note(`${state}, at ${shown(client.resumePositions)}`);
    if (state === "live") print({ kind: "live" });
  });
  client.on("event", (event) => {
    const message = event.kind.value?.message;
    if (client !== current || !messageKinds.has(event.kind.case) || !message) return;
    print({
      kind: event.kind.case,
      conversation: String(event.conversationId),
      seq: String(event.seq),
      id: String(message.id),
      data: message.data,
      deleted: message.deleted,
    });
  });
  current = client;
}

connect();
for await (const command of createInterface({ input: process.stdin })) {
  if (command === "disconnect" && current) {
    positions = current.resumePositions;
    note(`disconnecting at ${shown(positions)}`);
    const closing = current;
    current = null;
    closing.close();
  } else if (command === "reconnect" && !current) {
    connect();
  }
}
current?.close();
process.exit(0);
