/**
 * The address patterns of `feature.network.outgoing.filter` (`[proto://][name|address|subnet/mask][:port]`)
 * and `feature.network.dns.filter` (`[name|address|subnet/mask][:port]`), as mirrord reads them.
 * The config keeps the strings; the parsers are exported so the intproxy/layer side can match with
 * the same reading the config validated.
 *
 * Matching rules (mirrord's): port `0` or no port = any port; `0.0.0.0`/`::` = any address; a name
 * matches when the connection's host name contains it.
 */
import net from 'node:net';

export type FilterProtocol = 'any' | 'tcp' | 'udp';

export type AddressFilter =
  /** `:53`, or nothing at all after `tcp://` (port 0 = any). */
  | { kind: 'port'; port: number }
  | { kind: 'ip'; ip: string; port: number }
  | { kind: 'subnet'; ip: string; prefix: number; port: number }
  | { kind: 'name'; name: string; port: number };

export interface OutgoingFilter {
  protocol: FilterProtocol;
  address: AddressFilter;
}

/** Parses an outgoing filter entry; a string result is the problem, in words. */
export function parseOutgoingFilter(input: string): OutgoingFilter | string {
  if (input.trim() === '') return 'an empty filter matches all traffic; remove it, or write `tcp://` or `udp://` to match a whole protocol';
  let rest = input;
  let protocol: FilterProtocol = 'any';
  const sep = input.indexOf('://');
  if (sep >= 0) {
    const p = input.slice(0, sep).toLowerCase();
    if (p !== 'any' && p !== 'tcp' && p !== 'udp') return `unknown protocol \`${input.slice(0, sep)}\`; write \`tcp://\`, \`udp://\` or nothing`;
    protocol = p;
    rest = input.slice(sep + 3);
  }
  if (rest === '') return { protocol, address: { kind: 'port', port: 0 } };
  const address = parseAddress(rest);
  return typeof address === 'string' ? address : { protocol, address };
}

/** Parses a DNS filter entry (no protocol part); a string result is the problem, in words. */
export function parseDnsFilter(input: string): AddressFilter | string {
  if (input.trim() === '') return 'an empty filter is not allowed; write a host name, an address, a subnet or `:port`';
  if (input.includes('://')) return 'DNS filters take no protocol; write `name[:port]`, `address[:port]` or `subnet/mask[:port]`';
  return parseAddress(input);
}

function parseAddress(input: string): AddressFilter | string {
  const m = /^(?:\[([0-9A-Za-z:.%]+)\]|([A-Za-z0-9._-]+))?(?:\/(\d+))?(?::(\d+))?$/.exec(input);
  if (!m) {
    if (net.isIPv6(input) || /^[0-9a-f:]*::/i.test(input)) return 'write IPv6 addresses in brackets, e.g. `[fd00::1]:80`';
    return 'expected `[name|address|subnet/mask][:port]`, e.g. `api.example.com:443`, `10.0.0.0/8`, `:53`';
  }
  const [, v6, host, prefixText, portText] = m;
  const port = portText === undefined ? 0 : Number(portText);
  if (portText !== undefined && (!/^\d{1,5}$/.test(portText) || port > 65535)) return `port ${portText} is out of range (0-65535)`;
  const addr = v6 ?? host;
  if (addr === undefined) {
    if (prefixText !== undefined) return 'a subnet needs an address before the `/`';
    if (portText === undefined) return 'expected `[name|address|subnet/mask][:port]`';
    return { kind: 'port', port };
  }
  if (v6 !== undefined && !net.isIPv6(v6)) return `\`[${v6}]\` is not an IPv6 address`;
  const family = net.isIP(addr);
  if (prefixText !== undefined) {
    if (family === 0) return `\`${addr}/${prefixText}\`: a subnet needs an IP address before the \`/\``;
    const prefix = Number(prefixText);
    const max = family === 4 ? 32 : 128;
    if (prefix > max) return `subnet mask /${prefixText} is too long for an IPv${family} address (at most /${max})`;
    return { kind: 'subnet', ip: addr, prefix, port };
  }
  if (family !== 0) return { kind: 'ip', ip: addr, port };
  if (/^[0-9.]+$/.test(addr)) return `\`${addr}\` is not a valid IPv4 address`;
  return { kind: 'name', name: addr, port };
}
