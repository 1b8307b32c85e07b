// HS256 tokens for the dev server's secret, as `sbctl token mint` makes them.

import { createHmac } from "node:crypto";

const USER_SCOPES = [
  "chat.read chat.write chat.teams.manage chat.files",
  "user.profile.view user.profile.edit user.profile.upload_avatar user.profile.search_users",
  "user.contacts.manage",
].join(" ");

export function mint(user: string, org: string, secret: string, ttlSecs = 3600, name?: string, scope = USER_SCOPES): string {
  const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString("base64url");
  const header = encode({ alg: "HS256", typ: "JWT" });
  const exp = Math.floor(Date.now() / 1000) + ttlSecs;
  const claims = encode({ sub: user, org, scope, exp, ...(name ? { name } : {}) });
  const signature = createHmac("sha256", secret).update(`${header}.${claims}`).digest("base64url");
  return `${header}.${claims}.${signature}`;
}

/** A user name no other test uses. */
export function unique(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}
