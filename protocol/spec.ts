/**
 * The podlink wire protocol: the one definition of every message that crosses a process boundary.
 *
 * Two links speak it:
 *   layer ⇄ intproxy  a unix stream socket, one or more per hooked process; strictly request → response.
 *   intproxy ⇄ agent  one byte stream per session (a pipe for a `pid/` target, a port-forward for a pod);
 *                     requests are answered out of order (matched by `id`), and connection traffic
 *                     (`Data`, `Window`, `Shutdown`, `Close`) flows both ways at any time.
 *
 * Frame:  u32 length (of everything after it) | u16 type | u32 id | body
 * All integers are little-endian. `id` pairs a response with its request; unsolicited frames use 0.
 * The body is the message's fields in the order written below, with no padding:
 *   u8 u16 u32 i32 u64 i64   fixed width
 *   bool                     one byte, 0 or 1 (anything else is malformed)
 *   str                      u32 byte length + UTF-8 (must be valid UTF-8)
 *   bytes                    u32 length + raw bytes
 *   addr                     u8 family (4 or 6) + u16 port + 4 or 16 address bytes
 *   list of T                u32 count + count × T
 *   struct                   its fields, in order
 * A decoder rejects a frame whose body is shorter or longer than its fields, an unknown type, a frame
 * longer than MAX_FRAME, and malformed values; it never trusts a length before checking what is left.
 *
 * Compatibility rules:
 *   - Both links check `version` in Hello and refuse a peer with another version, with an error that
 *     names both versions. There is no negotiation: the layer and intproxy ship together, and the agent
 *     image must be of the same protocol version as the CLI.
 *   - Hello and HelloOk begin with `version` (u16) then `build` (str, the podlink release) in every
 *     version, and Error keeps its code and fields forever: a peer of any other version can still be
 *     named precisely ("podlink 0.1.0, protocol 1") instead of failing on an undecodable frame.
 *   - Any change to this file that changes the wire (a message, a field, a code, a type) must bump
 *     PROTOCOL_VERSION. `protocol/vectors/spec.lock` records the version with a hash of the definition;
 *     the unit tests fail when the hash changes and the version does not.
 *   - Type codes are never reused.
 */

export const PROTOCOL_VERSION = 6;
/** Largest frame accepted (length field value). File chunks and relayed data stay well below it. */
export const MAX_FRAME = 16 * 1024 * 1024 + 1024;
/** Bytes of the frame header after the length field: type (2) + id (4). */
export const HEADER_AFTER_LENGTH = 6;

export type Scalar = 'u8' | 'u16' | 'u32' | 'i32' | 'u64' | 'i64' | 'bool' | 'str' | 'bytes' | 'addr';
export interface ListOf { readonly list: FieldType }
export interface StructOf { readonly struct: Readonly<Record<string, FieldType>> }
export type FieldType = Scalar | ListOf | StructOf;

/** File metadata, as `stat(2)` reports it in the target. */
export const StatFields = {
  dev: 'u64',
  ino: 'u64',
  mode: 'u32',
  nlink: 'u64',
  uid: 'u32',
  gid: 'u32',
  rdev: 'u64',
  size: 'u64',
  blksize: 'u64',
  blocks: 'u64',
  atimeSec: 'i64',
  atimeNsec: 'u32',
  mtimeSec: 'i64',
  mtimeNsec: 'u32',
  ctimeSec: 'i64',
  ctimeNsec: 'u32',
} as const;

const stat = { struct: StatFields } as const;
const dirEntry = { struct: { name: 'str', ino: 'u64', type: 'u8' } } as const;
const envVar = { struct: { name: 'str', value: 'str' } } as const;
/**
 * An HTTP filter (since 4): `match` 0 = none (the port is taken whole), 1 = every rule must match, 2 =
 * at least one. Each rule is a JavaScript regex (`pattern`, case-insensitive) over one `field` of a
 * request: 1 = each header line as `Name: value`, 2 = the path (with or without its query), 3 = the
 * method (exact).
 */
const httpFilter = { struct: { match: 'u8', rules: { list: { struct: { field: 'u8', pattern: 'str' } } } } } as const;
/**
 * Who subscribes a port (since 5), for the sessions sharing it: the developer's `user` and `host`, and
 * `since` (ms since the epoch) when the session first subscribed the port — kept across reconnects, so
 * "the first registered matching filter wins" survives a dropped link and a hand-over of the port.
 */
const subscriber = { struct: { user: 'str', host: 'str', since: 'u64' } } as const;

/** Who sent a Hello. */
export const Role = { layer: 1, intproxy: 2, cli: 3 } as const;
/** Transport protocol of an outgoing connection. */
export const Proto = { tcp: 1, udp: 2 } as const;
/** Address family requested from Resolve: 0 = any. */
export const Family = { any: 0, inet: 4, inet6: 6 } as const;
/** How a subscribed port's traffic reaches the local process (since 4). */
export const IncomingMode = { mirror: 1, steal: 2 } as const;
/** HttpFilter.match and HttpFilter.rules[].field (since 4). */
export const FilterMatch = { none: 0, all: 1, any: 2 } as const;
export const FilterField = { header: 1, path: 2, method: 3 } as const;

/**
 * Every message: its type code, the link(s) it is used on, and its fields in wire order.
 * `dir` says who sends it: "req" from the side that asks (layer, or intproxy to agent), "res" the answer,
 * "both" connection traffic in either direction.
 */
export const messages = {
  // --- session ---------------------------------------------------------------------------------
  /**
   * First frame on every link. The receiver answers HelloOk or Error and closes on a version mismatch.
   * `build` is the sender's podlink release. `token` proves an intproxy belongs to the agent's session
   * (the agent got it when it was started; it lets the same intproxy attach again after a dropped
   * link); empty from a layer and for a `pid/` agent on a pipe.
   */
  Hello: { code: 0x0001, dir: 'req', fields: { version: 'u16', build: 'str', role: 'u8', pid: 'u32', ppid: 'u32', name: 'str', token: 'str' } },
  HelloOk: { code: 0x0002, dir: 'res', fields: { version: 'u16', build: 'str', agentPid: 'u32' } },
  /** Failure of any request. `errno` is a Linux errno value (see docs/protocol.md for the DNS meanings). */
  Error: { code: 0x0003, dir: 'res', fields: { errno: 'u32', message: 'str' } },
  /** Success of a request that returns nothing. */
  Ok: { code: 0x0004, dir: 'res', fields: {} },
  Ping: { code: 0x0005, dir: 'req', fields: {} },
  Pong: { code: 0x0006, dir: 'res', fields: {} },

  // --- dns ---------------------------------------------------------------------------------------
  /** Resolve a host name the way the target would (its resolv.conf search list, ndots and hosts file). */
  Resolve: { code: 0x0010, dir: 'req', fields: { name: 'str', family: 'u8' } },
  /** Addresses (port 0) in the target's answer order; `canonical` is the name that answered. */
  /** ttl: seconds the answer may be reused (the smallest record TTL the nameserver gave; 0 = do not). */
  Resolved: { code: 0x0011, dir: 'res', fields: { canonical: 'str', addrs: { list: 'addr' }, ttl: 'u32' } },
  /** Which address families the target's network has, for getaddrinfo's AI_ADDRCONFIG (since 3). */
  GetAddrConfig: { code: 0x0012, dir: 'req', fields: {} },
  /**
   * glibc's AI_ADDRCONFIG test, run in the target's network: an IPv4 address other than 127.0.0.1, an
   * IPv6 address other than ::1 (since 3).
   */
  AddrConfig: { code: 0x0013, dir: 'res', fields: { ipv4: 'bool', ipv6: 'bool' } },

  // --- file --------------------------------------------------------------------------------------
  /** stat (follow = true) or lstat of a path in the target. */
  Stat: { code: 0x0020, dir: 'req', fields: { path: 'str', follow: 'bool' } },
  StatResult: { code: 0x0021, dir: 'res', fields: { stat } },
  /** access(2) in the target; answered with Ok or Error. */
  Access: { code: 0x0022, dir: 'req', fields: { path: 'str', mode: 'u32' } },
  ReadLink: { code: 0x0023, dir: 'req', fields: { path: 'str' } },
  Link: { code: 0x0024, dir: 'res', fields: { target: 'str' } },
  /** The whole listing of a directory in one answer (no per-entry round trips). */
  ReadDir: { code: 0x0025, dir: 'req', fields: { path: 'str' } },
  DirEntries: { code: 0x0026, dir: 'res', fields: { entries: { list: dirEntry } } },
  /** Read up to `max` bytes of a regular file from `offset`; the answer carries the file's stat too. */
  ReadFile: { code: 0x0027, dir: 'req', fields: { path: 'str', offset: 'u64', max: 'u32' } },
  FileData: { code: 0x0028, dir: 'res', fields: { stat, data: 'bytes', eof: 'bool' } },
  /**
   * Write `data` at `offset` of a file in the target, creating it with `mode` if missing; with
   * `truncate` the file is emptied first. Answered with Ok or Error.
   */
  WriteFile: { code: 0x0029, dir: 'req', fields: { path: 'str', offset: 'u64', data: 'bytes', truncate: 'bool', mode: 'u32' } },

  // --- env ---------------------------------------------------------------------------------------
  GetEnv: { code: 0x0030, dir: 'req', fields: {} },
  Env: { code: 0x0031, dir: 'res', fields: { vars: { list: envVar } } },

  // --- outgoing (layer ⇄ intproxy) ---------------------------------------------------------------
  /**
   * The layer wants a connection to `remote` from the target's network. `localFamily` is the family of
   * the user's socket (4 or 6) so the intproxy can offer an endpoint that socket can reach. `source` is
   * that socket's own bound address (since 3): the endpoint serves only a loopback peer with that port,
   * so no other local process can take the connection. A request's link closing before the endpoint
   * was used abandons the connection at once (the layer's way to cancel a non-blocking connect).
   */
  Connect: { code: 0x0040, dir: 'req', fields: { proto: 'u8', remote: 'addr', localFamily: 'u8', source: 'addr' } },
  /** The remote side is ready: connect (TCP) or send (UDP) the user's real socket to `local`. */
  Connected: { code: 0x0041, dir: 'res', fields: { conn: 'u32', local: 'addr' } },
  /** The layer no longer needs `conn` (a UDP relay whose socket was closed, a TCP endpoint it will not use). No answer. */
  Release: { code: 0x0042, dir: 'req', fields: { conn: 'u32' } },

  // --- outgoing (intproxy ⇄ agent) ---------------------------------------------------------------
  /** Open a TCP connection from the target's network; answered with Ok or Error once connected. */
  TcpConnect: { code: 0x0050, dir: 'req', fields: { conn: 'u32', remote: 'addr' } },
  /** Open a UDP socket in the target's network for datagrams to and from `remote`; Ok or Error. */
  UdpOpen: { code: 0x0051, dir: 'req', fields: { conn: 'u32', remote: 'addr' } },
  /** Bytes of a TCP connection, or one whole UDP datagram. Uses send window for TCP. */
  Data: { code: 0x0052, dir: 'both', fields: { conn: 'u32', data: 'bytes' } },
  /**
   * The receiver of Data has written `bytes` more to its socket: the sender may send that much more (a
   * receiver may grant more than it was sent, growing the window, up to MAX_WINDOW). `bytes` 0 from a
   * sender: it has run out of credit (the receiver may grow the window; nothing else changes).
   */
  Window: { code: 0x0053, dir: 'both', fields: { conn: 'u32', bytes: 'u32' } },
  /** The sender will send no more Data on `conn` (TCP FIN). */
  Shutdown: { code: 0x0054, dir: 'both', fields: { conn: 'u32' } },
  /** `conn` is gone on the sender's side; `errno` 0 for an orderly close, else why (e.g. ECONNRESET). */
  Close: { code: 0x0055, dir: 'both', fields: { conn: 'u32', errno: 'u32' } },

  // --- incoming (layer ⇄ intproxy, since 4) ----------------------------------------------------------
  /**
   * The process listens on a TCP socket bound to `local` (its real address, after listen_ports), the
   * app having asked for port `port`. The intproxy subscribes the target's port (after port_mapping)
   * and answers Ok once the agent has, or Error when the port stays local (ignored, or the agent
   * refused: the message says why). Either way the socket listens locally as the app asked.
   */
  Listen: { code: 0x0060, dir: 'req', fields: { local: 'addr', port: 'u16' } },
  /** The listening socket bound to `local` was closed: unsubscribe its port. No answer. */
  Unlisten: { code: 0x0061, dir: 'req', fields: { local: 'addr' } },
  /**
   * The socket listening on `listener` accepted a connection from `peer` (a loopback address): is it
   * one the intproxy delivered? Answered with Peer, or Error{ENOENT} for a local client.
   */
  IncomingPeer: { code: 0x0062, dir: 'req', fields: { listener: 'addr', peer: 'addr' } },
  /** The delivered connection's real client (`remote`) and the target's address it connected to (`local`). */
  Peer: { code: 0x0063, dir: 'res', fields: { remote: 'addr', local: 'addr' } },

  // --- incoming (intproxy ⇄ agent, since 4) ----------------------------------------------------------
  /**
   * Take the target's TCP port `port`: `mode` 1 = mirror (copies of what clients send), 2 = steal. With
   * a filter, only matching HTTP requests are taken (steal), the others reach the target's app.
   * Several sessions (agents) may steal one port with different filters (`owner` says who; since 5).
   * Answered with Ok once traffic flows to this session, or Error (nothing changed): EBUSY when the
   * port is taken in a way this subscription conflicts with (the message names the other sessions).
   */
  Subscribe: { code: 0x0070, dir: 'req', fields: { port: 'u16', mode: 'u8', filter: httpFilter, owner: subscriber } },
  /** Give the port back: the target's app gets all its traffic again. Answered with Ok. */
  Unsubscribe: { code: 0x0071, dir: 'req', fields: { port: 'u16' } },
  /**
   * The agent opens connection `conn` (an agent id) towards the local process: a client `remote` reached
   * the target's `local` address on subscribed port `port`. The intproxy answers Ok once it connected
   * to the listening socket, or Error (ECONNREFUSED: nothing listens); then Data etc. flow as for any
   * connection. `mode` 1 = a mirrored copy: what the local process answers is discarded.
   */
  IncomingOpen: { code: 0x0072, dir: 'req', fields: { conn: 'u32', port: 'u16', mode: 'u8', remote: 'addr', local: 'addr' } },
} as const;

export type MessageName = keyof typeof messages;

/** Initial per-connection send window, in bytes, in each direction. */
export const INITIAL_WINDOW = 1024 * 1024;
/**
 * Largest window a receiver grants a connection whose reader keeps up (the window grows with the
 * connection's throughput: link/relay.ts). A receiver chooses its grants; a sender takes any.
 */
export const MAX_WINDOW = 8 * 1024 * 1024;
/** Largest Data payload a relay puts in one frame. */
export const MAX_DATA_CHUNK = 64 * 1024;
/** Largest ReadFile chunk the layer asks for. */
export const MAX_FILE_CHUNK = 4 * 1024 * 1024;

/** Messages the layer (C) encodes or decodes. The C codec must handle exactly these. */
export const layerLink = [
  'Hello', 'HelloOk', 'Error', 'Ok',
  'Resolve', 'Resolved', 'GetAddrConfig', 'AddrConfig',
  'Stat', 'StatResult', 'Access', 'ReadLink', 'Link', 'ReadDir', 'DirEntries', 'ReadFile', 'FileData', 'WriteFile',
  'Connect', 'Connected', 'Release',
  'Listen', 'Unlisten', 'IncomingPeer', 'Peer',
] as const satisfies readonly MessageName[];
