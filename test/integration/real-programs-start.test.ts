/**
 * Issue 13 matrix, part 1: programs no one here wrote, under `podlink exec -t pid/<pod A>` from a laptop
 * with loopback only, each checked on content. Programs linked with jemalloc (redis-cli, dig) and one
 * run with jemalloc preloaded (in both orders) start and work; clients that call connect() twice on a
 * connecting socket (APR's ab, Perl IO::Socket::INET with Timeout, hiredis) open exactly one remote
 * connection each (pod B counts them); Perl's HTTP::Tiny gets its page. Needs root and the packages
 * scripts/setup.sh installs; a missing program fails its test with the package to install.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { needFile, needProgram } from '../helpers/need.js';
import { PORTS, podlinkExec, startPodServices } from '../helpers/matrix.js';
import { createWorld, type World } from '../helpers/world.js';

const JEMALLOC = '/usr/lib/x86_64-linux-gnu/libjemalloc.so.2';

describe('real programs: allocator-safe start, one remote connection per connect', () => {
  let world: World;
  const count = async (): Promise<number> => {
    const r = await world.runIn(world.podB.netns, 'curl', ['-sS', `http://127.0.0.1:${PORTS.http}/count`]);
    return Number(r.stdout.trim());
  };

  before(async () => {
    world = await createWorld();
    await startPodServices(world);
  });
  after(() => world?.destroy());

  it('redis-cli (linked with jemalloc) talks to a RESP server in pod B by its cluster name', async () => {
    needProgram('redis-cli', 'redis-tools');
    const cli = (...a: string[]) => podlinkExec(world, world.podA.pid, ['redis-cli', '-h', world.serviceB.short, '-p', String(PORTS.redis), ...a]);
    assert.equal((await cli('PING')).stdout.trim(), 'PONG');
    assert.equal((await cli('SET', 'greeting', 'from-the-laptop')).stdout.trim(), 'OK');
    const got = await cli('GET', 'greeting');
    assert.equal(got.code, 0, got.stderr);
    assert.equal(got.stdout.trim(), 'from-the-laptop');
  });

  it('dig (bind9, jemalloc) resolves a cluster name through the nameserver of the target\'s resolv.conf', async () => {
    needProgram('dig', 'bind9-dnsutils');
    const r = await podlinkExec(world, world.podA.pid, ['dig', '+short', '+search', world.serviceB.short]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), world.podB.ip);
  });

  for (const order of ['layer first', 'jemalloc first'] as const) {
    it(`cat with jemalloc preloaded (${order}) reads the file only the target has`, async () => {
      needFile(JEMALLOC, 'libjemalloc2');
      const preload = order === 'layer first' ? `"$LD_PRELOAD:${JEMALLOC}"` : `"${JEMALLOC}:$LD_PRELOAD"`;
      const r = await podlinkExec(world, world.podA.pid, ['sh', '-c', `LD_PRELOAD=${preload} exec cat ${world.targetFile.path}`]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, world.targetFile.content);
    });
  }

  it('ab (APR: non-blocking connect, then connect again) makes exactly one connection per request', async () => {
    needProgram('ab', 'apache2-utils');
    const before = await count();
    const r = await podlinkExec(world, world.podA.pid, ['ab', '-n', '5', '-c', '1', `http://${world.serviceB.short}:${PORTS.http}/ab`]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^Complete requests:\s+5$/m);
    assert.match(r.stdout, /^Failed requests:\s+0$/m);
    assert.equal((await count()) - before, 5);
  });

  it('Perl IO::Socket::INET with Timeout (connects twice) gets its answer over one connection', async () => {
    needProgram('perl', 'perl');
    const before = await count();
    const script = `use IO::Socket::INET;
my $s = IO::Socket::INET->new(PeerAddr => "${world.serviceB.short}", PeerPort => ${PORTS.http}, Proto => "tcp", Timeout => 5) or die "connect: $@";
print "peer ", $s->peerhost, ":", $s->peerport, "\\n";
print $s "GET /perl HTTP/1.0\\r\\n\\r\\n"; my $r = join("", <$s>); my ($n) = $r =~ /^x-connection: (\\d+)/mi;
$r =~ s/^.*?\\r\\n\\r\\n//s; print "connection $n: $r";`;
    const r = await podlinkExec(world, world.podA.pid, ['perl', '-e', script]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, `peer ${world.podB.ip}:${PORTS.http}\nconnection ${before + 1}: /perl\n`);
    assert.equal((await count()) - before, 1);
  });

  it('Perl HTTP::Tiny (IO::Socket::IP: one select vector for writing and errors) gets its answer', async () => {
    needProgram('perl', 'perl');
    const before = await count();
    const script = `use HTTP::Tiny; my $r = HTTP::Tiny->new(timeout => 5)->get("http://${world.serviceB.short}:${PORTS.http}/tiny");
print "$r->{status} $r->{headers}{'x-connection'} $r->{content}";`;
    const r = await podlinkExec(world, world.podA.pid, ['perl', '-e', script]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, `200 ${before + 1} /tiny\n`);
  });
});
