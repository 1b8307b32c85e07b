// A page for the interop tests: the relay's gRPC-Web, spoken by clients that are not
// Switchboard's SDK. Google's `grpc-web` runtime (XMLHttpRequest, `text` and `binary`
// formats) with method descriptors written by hand, as a stranger would from the protos;
// and Connect's gRPC-Web transport (fetch) with the generated service descriptors alone.
// The test drives it through `window.interop`; each stream's frames are kept by name.

import { create, fromBinary, type DescMessage, type MessageShape, toBinary } from "@bufbuild/protobuf";
import { createClient } from "@connectrpc/connect";
import { createGrpcWebTransport } from "@connectrpc/connect-web";
import { GrpcWebClientBase, MethodDescriptor, MethodType } from "grpc-web";

import {
  Chat,
  ListHistoryRequestSchema,
  type ListHistoryResponse,
  ListHistoryResponseSchema,
} from "../../src/gen/switchboard/v1/chat_pb.js";
import { HelloSchema, RealtimeWeb, type ServerFrame, ServerFrameSchema } from "../../src/gen/switchboard/v1/realtime_pb.js";

/** A request as the grpc-web runtime wants one: something that serializes itself. */
class Wire {
  constructor(readonly bytes: Uint8Array) {}
  serializeBinary(): Uint8Array {
    return this.bytes;
  }
}

/** A method descriptor for the grpc-web runtime, from a path and a response schema. */
function descriptor<T extends DescMessage>(path: string, type: string, response: T) {
  return new MethodDescriptor<Wire, MessageShape<T>>(
    path,
    type,
    Wire as never,
    Object as never,
    (request: Wire) => request.serializeBinary(),
    (bytes: Uint8Array) => fromBinary(response, bytes),
  );
}

const listHistory = descriptor("/switchboard.v1.Chat/ListHistory", MethodType.UNARY, ListHistoryResponseSchema);
const subscribe = descriptor("/switchboard.v1.RealtimeWeb/Subscribe", MethodType.SERVER_STREAMING, ServerFrameSchema);

/** Each stream's frames so far, as short lines: `welcome`, `live`, `message:<text>`, `error:<code>`, `end`. */
const streams: Record<string, string[]> = {};

function line(frame: ServerFrame): string {
  const kind = frame.kind;
  if (kind.case === "event" && kind.value.kind.case === "messageCreated") {
    return `message:${kind.value.kind.value.message?.data ?? ""}`;
  }
  return kind.case ?? "empty";
}

function hello(channel: bigint) {
  // Replays the conversation from its start (position 1), then follows it live.
  return create(HelloSchema, { only: [channel], resume: [{ channelId: channel, afterSeq: 1n }] });
}

function texts(history: ListHistoryResponse): string[] {
  return history.messages.map((m) => m.data);
}

const google = {
  async history(format: "text" | "binary", relay: string, token: string, channel: string): Promise<string[]> {
    const client = new GrpcWebClientBase({ format });
    const request = new Wire(toBinary(ListHistoryRequestSchema, create(ListHistoryRequestSchema, { channelId: BigInt(channel) })));
    const metadata = { authorization: `Bearer ${token}` };
    return texts(await client.unaryCall(relay + listHistory.getName(), request, metadata, listHistory));
  },

  subscribe(name: string, format: "text" | "binary", relay: string, token: string, channel: string): void {
    const client = new GrpcWebClientBase({ format });
    const request = new Wire(toBinary(HelloSchema, hello(BigInt(channel))));
    const frames: string[] = (streams[name] = []);
    client
      .serverStreaming(relay + subscribe.getName(), request, { authorization: `Bearer ${token}` }, subscribe)
      .on("data", (frame) => frames.push(line(frame)))
      .on("error", (error) => frames.push(`error:${error.code}`))
      .on("end", () => frames.push("end"));
  },
};

const connect = {
  client<T extends typeof Chat | typeof RealtimeWeb>(service: T, relay: string, token: string) {
    const transport = createGrpcWebTransport({
      baseUrl: relay,
      interceptors: [(next) => (request) => {
        request.header.set("authorization", `Bearer ${token}`);
        return next(request);
      }],
    });
    return createClient(service, transport);
  },

  async history(relay: string, token: string, channel: string): Promise<string[]> {
    return texts(await connect.client(Chat, relay, token).listHistory({ channelId: BigInt(channel) }));
  },

  subscribe(name: string, relay: string, token: string, channel: string): void {
    const frames: string[] = (streams[name] = []);
    void (async () => {
      try {
        for await (const frame of connect.client(RealtimeWeb, relay, token).subscribe(hello(BigInt(channel)))) {
          frames.push(line(frame));
        }
        frames.push("end");
      } catch (error) {
        frames.push(`error:${(error as { code?: number }).code ?? String(error)}`);
      }
    })();
  },
};

declare global {
  interface Window {
    interop: { google: typeof google; connect: typeof connect; streams: typeof streams };
  }
}

window.interop = { google, connect, streams };
document.title = "ready";
