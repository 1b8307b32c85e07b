//! The Switchboard relay: the thin client-facing node that holds client streams and
//! subscribes at a controller to the channels its clients use. Built in the realtime issue.
