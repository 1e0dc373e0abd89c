/**
 * IP addresses between their text form (as Node and the user see them) and their raw bytes (as the
 * protocol carries them): 4 bytes for IPv4, 16 for IPv6, canonical text back (`::ffff:10.0.0.5`).
 */
import net from 'node:net';

/** The 4 or 16 raw bytes of an address; undefined when the text is not an address of that family. */
export function ipToBytes(family: 4 | 6, ip: string): Buffer | undefined {
  if (family === 4) return net.isIPv4(ip) ? Buffer.from(ip.split('.').map(Number)) : undefined;
  if (!net.isIPv6(ip)) return undefined;
  // Expand "::" and an embedded dotted quad (the canonical form keeps one) into 8 groups.
  let text = new net.SocketAddress({ address: ip, family: 'ipv6' }).address;
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted) {
    const q = dotted[1]!.split('.').map(Number);
    text = text.slice(0, dotted.index) + `${((q[0]! << 8) | q[1]!).toString(16)}:${((q[2]! << 8) | q[3]!).toString(16)}`;
  }
  const [head, tail] = text.includes('::') ? text.split('::') : [text, undefined];
  const h = head ? head.split(':') : [];
  const t = tail !== undefined && tail !== '' ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  const out = Buffer.alloc(16);
  groups.forEach((g, i) => out.writeUInt16BE(parseInt(g, 16), i * 2));
  return out;
}

/** The canonical text of 4 or 16 raw address bytes. */
export function bytesToIp(bytes: Buffer): string {
  if (bytes.length === 4) return [...bytes].join('.');
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(bytes.readUInt16BE(i).toString(16));
  return new net.SocketAddress({ address: groups.join(':'), family: 'ipv6' }).address;
}
