/**
 * Issue 13 matrix, part 2: resolvers. Programs that read resolv.conf themselves (node's dns.resolve4
 * and gRPC through c-ares, Ruby's Resolv, dig) get the target's file and must reach its nameserver —
 * also when that nameserver is a loopback address in the pod (a second target whose resolv.conf says
 * 127.0.0.53, served by a dnsmasq on pod A's loopback; the laptop's loopback has no DNS at all).
 * getaddrinfo with AI_ADDRCONFIG is judged by the target's interfaces (the laptop has only loopback),
 * and a UDP connect to port 0 (gRPC's address sorting does it) neither fails nor hurts the agent: a
 * lookup in the same process still works. Needs root.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { needProgram } from '../helpers/need.js';
import { FIXTURES, PORTS, loopbackDnsTarget, podlinkExec, startPodServices } from '../helpers/matrix.js';
import { createWorld, type World } from '../helpers/world.js';

describe('real programs: resolvers, AI_ADDRCONFIG, UDP to port 0', () => {
  let world: World;
  let loTarget: number;

  before(async () => {
    world = await createWorld();
    await startPodServices(world);
    loTarget = await loopbackDnsTarget(world);
  });
  after(() => world?.destroy());

  const nodeResolve = `require('dns').promises.resolve4(process.argv[1]).then((a) => console.log(a.join(',')), (e) => console.log('ERR', e.code))`;

  for (const which of ['the pod\'s nameserver', 'a loopback nameserver in the pod'] as const) {
    const target = (): number => (which === 'the pod\'s nameserver' ? world.podA.pid : loTarget);

    it(`node dns.resolve4 (c-ares) resolves a cluster name through ${which}`, async () => {
      const r = await podlinkExec(world, target(), [process.execPath, '-e', nodeResolve, world.serviceB.fqdn]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout.trim(), world.podB.ip);
    });

    it(`dig resolves a short name with the target's search list through ${which}`, async () => {
      needProgram('dig', 'bind9-dnsutils');
      const r = await podlinkExec(world, target(), ['dig', '+short', '+search', world.serviceB.short]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout.trim(), world.podB.ip);
    });

    it(`Ruby's Resolv::DNS resolves through ${which}`, async () => {
      needProgram('ruby', 'ruby');
      const r = await podlinkExec(world, target(), ['ruby', '-rresolv', '-e', `puts Resolv::DNS.new.getaddress(${JSON.stringify(world.serviceB.fqdn)})`]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout.trim(), world.podB.ip);
    });

    it(`a gRPC client with its default resolver reaches service-b through ${which}`, async () => {
      const r = await podlinkExec(world, target(), [process.execPath, path.join(FIXTURES, 'grpc-client.mjs'), `${world.serviceB.short}:${PORTS.grpc}`, `grpc-${target()}`]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout.trim(), `echo:grpc-${target()}`);
    });
  }

  it('without podlink, the laptop has no DNS on its loopback (the loopback case proves routing)', async () => {
    const r = await world.runIn(world.laptop, 'dig', ['+short', '+time=1', '+tries=1', '@127.0.0.53', world.serviceB.fqdn]);
    assert.notEqual(r.stdout.trim(), world.podB.ip);
  });

  it('getaddrinfo with AI_ADDRCONFIG answers as it would in the pod (names and literals, AF_INET)', async () => {
    const py = `import socket
for host in (${JSON.stringify(world.serviceB.short)}, ${JSON.stringify(world.podB.ip)}):
    try:
        print(host, sorted({a[4][0] for a in socket.getaddrinfo(host, 80, socket.AF_INET, socket.SOCK_STREAM, 0, socket.AI_ADDRCONFIG)}))
    except socket.gaierror as e:
        print(host, "ERR", e.errno)`;
    const r = await podlinkExec(world, world.podA.pid, ['python3', '-c', py]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, `${world.serviceB.short} ['${world.podB.ip}']\n${world.podB.ip} ['${world.podB.ip}']\n`);
    // The same program without podlink: glibc refuses AF_INET on a laptop with nothing but loopback.
    const plain = await world.runIn(world.laptop, 'python3', ['-c', py]);
    assert.match(plain.stdout, new RegExp(`^${world.podB.ip.replace(/\./g, '\\.')} ERR -2$`, 'm'));
  });

  it('a UDP connect to port 0 succeeds, sendto port 0 is EINVAL, and a lookup afterwards still works', async () => {
    const py = `import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.connect((${JSON.stringify(world.podB.ip)}, 0))
print("connected", s.getpeername())
try:
    socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b"x", (${JSON.stringify(world.podB.ip)}, 0))
except OSError as e:
    print("sendto", e.errno)
print("lookup", socket.gethostbyname(${JSON.stringify(world.serviceB.short)}))`;
    const r = await podlinkExec(world, world.podA.pid, ['python3', '-c', py]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, `connected ('${world.podB.ip}', 0)\nsendto 22\nlookup ${world.podB.ip}\n`);
  });
});
