/**
 * The way to the target's original app, for what no session takes: unmatched requests, connections
 * while the local side is gone, non-HTTP bytes on a filtered port. The agent connects from
 * PASSTHROUGH_SOURCE, which the redirect exempts (redirect.ts), to the address the client had reached
 * (a redirected socket's local address) on the original port.
 */
import net from 'node:net';
import type { Duplex } from 'node:stream';
import type { Addr } from '../../protocol/types.js';
import { PASSTHROUGH_SOURCE } from './redirect.js';

/** An IPv4-mapped IPv6 address as IPv4 (a dual-stack listener reports them so). */
export function plainIp(ip: string | undefined): string {
  if (!ip) return '0.0.0.0';
  return ip.startsWith('::ffff:') && ip.includes('.') ? ip.slice(7) : ip;
}

export function addrOf(ip: string | undefined, port: number | undefined): Addr {
  const plain = plainIp(ip);
  return { family: plain.includes(':') ? 6 : 4, ip: plain, port: port ?? 0 };
}

/** A connection to the original app at `local` (the address the client reached, its original port). */
export function connectOriginal(local: Addr): net.Socket {
  const opts: net.NetConnectOpts = { host: local.ip, port: local.port, allowHalfOpen: true, noDelay: true };
  // IPv6 needs no exemption: the redirect's output chain covers IPv4 only (redirect.ts).
  if (local.family === 4) opts.localAddress = PASSTHROUGH_SOURCE;
  return net.connect(opts);
}

/** A TCP socket is reset (RST), anything else (a unix socket, a link connection) destroyed. */
export function resetOrDestroy(s: Duplex): void {
  if (s instanceof net.Socket) {
    try {
      return void s.resetAndDestroy();
    } catch {
      /* not TCP: destroyed below */
    }
  }
  s.destroy();
}

/** Joins two streams both ways, half-closes included; either one failing resets the other. */
export function splice(a: Duplex, b: Duplex): void {
  a.pipe(b);
  b.pipe(a);
  const reset = (other: Duplex) => (): void => void (other.destroyed || resetOrDestroy(other));
  a.on('error', reset(b));
  b.on('error', reset(a));
  a.on('close', () => b.end());
  b.on('close', () => a.end());
}

/** The whole connection, as it is, to the original app. */
export function passThrough(client: net.Socket, local: Addr, head?: Buffer): void {
  const original = connectOriginal(local);
  if (head?.length) original.write(head);
  splice(client, original);
  client.resume();
}
