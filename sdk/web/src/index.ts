// @switchboard/web: the hand-written client, and every generated message type.

export { SwitchboardClient, backoffDelay } from "./client.js";
export type {
  ConnectionState,
  HistoryPage,
  SearchPage,
  SwitchboardEvents,
  SwitchboardOptions,
  TokenSource,
} from "./client.js";
export * from "./gen/switchboard/v1/admin_pb.js";
export * from "./gen/switchboard/v1/chat_pb.js";
export * from "./gen/switchboard/v1/conversation_pb.js";
export * from "./gen/switchboard/v1/events_pb.js";
export * from "./gen/switchboard/v1/files_pb.js";
export * from "./gen/switchboard/v1/message_pb.js";
export * from "./gen/switchboard/v1/notifications_pb.js";
export * from "./gen/switchboard/v1/people_pb.js";
export * from "./gen/switchboard/v1/realtime_pb.js";
export * from "./gen/switchboard/v1/search_pb.js";
