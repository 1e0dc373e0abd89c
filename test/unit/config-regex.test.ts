/**
 * fs patterns are matched by the C layer with glibc regcomp(REG_EXTENDED): config/regex.ts asks the
 * real regcomp (podlink-regcheck, built with the layer) and must also refuse the Perl habits regcomp
 * silently reads differently. Checked on a table and on a few thousand random patterns (seeded, see
 * test/helpers/fuzz.ts). Also: the outgoing/DNS filter syntax.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { describe, it } from 'node:test';
import { regcheckHelper } from '../../common/paths.js';
import { parseDnsFilter, parseOutgoingFilter } from '../../config/address.js';
import { jsRegexProblem, posixEreProblems } from '../../config/regex.js';
import { fuzzSeed, rng, seedNote } from '../helpers/fuzz.js';

/** regcomp's own verdict for each pattern (no podlink advice): undefined = compiles, else glibc's message. */
function regcomp(patterns: string[]): (string | undefined)[] {
  assert.ok(fs.existsSync(regcheckHelper), `${regcheckHelper} is missing: build it with \`npm run build\``);
  const out = execFileSync(regcheckHelper, { input: patterns.map((p) => `${p}\0`).join(''), maxBuffer: 1 << 24 }).toString();
  const lines = out.split('\n').slice(0, -1);
  assert.equal(lines.length, patterns.length);
  return lines.map((l) => (l === 'ok' ? undefined : l.slice(4)));
}

/** Accepted by podlink; each must compile in regcomp and in JavaScript. */
const ACCEPTED = [
  '^/etc/',
  '\\.ya?ml$',
  '.*\\.json$',
  '^/etc/(hosts|resolv\\.conf)$',
  '[[:alpha:]]+',
  '[a-z0-9_-]+',
  '\\/etc',
  'node_modules',
  'a{2,5}',
  'x{0}',
  '(a)\\1',
  '[^/]+\\.log$',
  '\\w+\\s\\bword\\b',
  '[%--]',
  '^/home/[^/]+/\\.kube(/|$)',
  'a}',
  ']',
];

/** Refused by podlink although glibc compiles them: glibc reads them differently than they look. */
const DIVERGENT: [string, RegExp][] = [
  ['\\d+\\.log', /write `\[0-9\]`/],
  ['\\D', /\[\^0-9\]/],
  ['a\\nb', /write the character itself/],
  ['[\\.]', /literal backslash/],
  ['[\\d]', /literal backslash/],
  ['a{,3}', /write `\{0,3\}`/],
  ['\\<word', /word anchor/],
  ['[]a]', /right after `\[`/],
  ['\\x41', /write the character itself/],
  ['', /empty pattern/],
  ['\\Aabc', /write `\^`/],
  ['[[=a=]]', /collating/],
  ['a**', /not a valid regex/],
];

/** Refused by both (podlink says what to write instead). */
const REFUSED: [string, RegExp][] = [
  ['(?i)etc', /drop them/],
  ['(?:a|b)', /plain group/],
  ['a(?=b)', /lookarounds/],
  ['a(?<!b)', /lookarounds/],
  ['(?<name>x)', /named groups/],
  ['[[:foo:]]', /not a POSIX character class/],
  ['[^]', /unmatched|right after/],
  ['a{', /\\\{/],
  ['a{2', /\\\{/],
  ['{', /\\\{/],
  ['*a', /nothing to repeat/],
  ['^*', /nothing to repeat/],
  ['a\\', /trailing backslash/],
  ['[a', /unmatched `\[`/],
  ['(a', /unmatched|Unterminated/],
  ['[z-a]', /out of order/],
  ['[a-z-9]', /first or last/],
  ['\\1(a)', /not complete/],
  ['a{3,2}', /larger than the maximum|numbers out of order/],
  ['[[.hyphen.]]', /collating/],
  ['x[[:alpha:]', /unmatched `\[`/],
  ['a|*b', /nothing to repeat/],
  ['a{99999}', /above 255/],
];

describe('fs patterns: POSIX ERE as glibc regcomp reads it', () => {
  it('should accept ordinary path patterns', () => {
    const problems = posixEreProblems(ACCEPTED);
    ACCEPTED.forEach((p, i) => assert.equal(problems[i], undefined, p));
  });

  it('should refuse Perl habits with what to write instead', () => {
    const table = [...DIVERGENT, ...REFUSED];
    const problems = posixEreProblems(table.map(([p]) => p));
    table.forEach(([p, why], i) => {
      assert.ok(problems[i], `accepted ${JSON.stringify(p)}`);
      assert.match(problems[i], why, p);
    });
  });

  it('should refuse line breaks (the layer gets the lists one pattern per line)', () => {
    assert.match(posixEreProblems(['a\nb'])[0]!, /line break/);
  });

  it('should agree with the real regcomp on the table', () => {
    const ok = regcomp(ACCEPTED);
    ACCEPTED.forEach((p, i) => assert.equal(ok[i], undefined, `regcomp refuses ${JSON.stringify(p)}: ${ok[i]}`));
    const divergent = DIVERGENT.map(([p]) => p);
    const dv = regcomp(divergent);
    divergent.forEach((p, i) => assert.equal(dv[i], undefined, `glibc now refuses ${JSON.stringify(p)}; move it to REFUSED`));
    const refused = REFUSED.map(([p]) => p);
    const rf = regcomp(refused);
    refused.forEach((p, i) => assert.notEqual(rf[i], undefined, `glibc compiles ${JSON.stringify(p)}; move it to DIVERGENT`));
  });

  it('should never accept a pattern regcomp refuses, nor one JavaScript cannot compile (random patterns)', () => {
    // A small seeded generator over the characters that matter to regex parsers.
    const seed = fuzzSeed(12345);
    const r = rng(seed);
    const rand = (n: number) => Math.floor(r() * n);
    const alphabet = ['a', 'b', '.', '*', '+', '?', '|', '(', ')', '[', ']', '^', '$', '{', '}', ',', '1', '2', '-', ':', '\\', '/', 'd', 'w', '[:alpha:]', '[^', '{1,2}', '\\.'];
    const patterns = new Set<string>();
    while (patterns.size < 20000) {
      let p = '';
      const len = 1 + rand(8);
      for (let i = 0; i < len; i += 1) p += alphabet[rand(alphabet.length)];
      patterns.add(p);
    }
    const list = [...patterns];
    const verdicts = regcomp(list);
    const problems = posixEreProblems(list);
    const again = seedNote(seed);
    let accepted = 0;
    list.forEach((p, i) => {
      if (problems[i] !== undefined) return;
      accepted += 1;
      assert.equal(verdicts[i], undefined, `accepted ${JSON.stringify(p)} but regcomp says: ${verdicts[i]} ${again}`);
      assert.doesNotThrow(() => new RegExp(p), `${p} ${again}`);
    });
    // Refused by regcomp means refused by podlink: the batch answer lines up with its patterns.
    list.forEach((p, i) => {
      if (verdicts[i] !== undefined) assert.notEqual(problems[i], undefined, `${JSON.stringify(p)} ${again}`);
    });
    assert.ok(accepted > 200, `only ${accepted} random patterns were accepted; the generator is too harsh to prove anything ${again}`);
  });
});

describe('HTTP filters: JavaScript regexes', () => {
  it('should accept what the agent can match, lookaheads included', () => {
    for (const p of ['^X-Dev-User: alice$', '^User-Agent: (?!kube-probe)', '^/api/', '(?<user>\\w+)']) assert.equal(jsRegexProblem(p), undefined, p);
  });

  it('should refuse inline flags, Python named groups, broken regexes and empty filters', () => {
    assert.match(jsRegexProblem('(?i)^x-dev: a')!, /drop them/);
    assert.match(jsRegexProblem('(?P<u>\\w+)')!, /\(\?<name>/);
    assert.match(jsRegexProblem('a(')!, /not a valid regex/);
    assert.match(jsRegexProblem('')!, /empty/);
  });
});

describe('outgoing and DNS filter patterns', () => {
  it('should read every form of [proto://][name|address|subnet/mask][:port]', () => {
    assert.deepEqual(parseOutgoingFilter('tcp://1.2.3.0/24:7777'), { protocol: 'tcp', address: { kind: 'subnet', ip: '1.2.3.0', prefix: 24, port: 7777 } });
    assert.deepEqual(parseOutgoingFilter('udp://[2800:3f0:4001:81e::2004]:53'), { protocol: 'udp', address: { kind: 'ip', ip: '2800:3f0:4001:81e::2004', port: 53 } });
    assert.deepEqual(parseOutgoingFilter('tcp://'), { protocol: 'tcp', address: { kind: 'port', port: 0 } });
    assert.deepEqual(parseOutgoingFilter('google.com:7331'), { protocol: 'any', address: { kind: 'name', name: 'google.com', port: 7331 } });
    assert.deepEqual(parseOutgoingFilter('localhost'), { protocol: 'any', address: { kind: 'name', name: 'localhost', port: 0 } });
    assert.deepEqual(parseOutgoingFilter(':53'), { protocol: 'any', address: { kind: 'port', port: 53 } });
    assert.deepEqual(parseOutgoingFilter('10.0.0.1'), { protocol: 'any', address: { kind: 'ip', ip: '10.0.0.1', port: 0 } });
    assert.deepEqual(parseOutgoingFilter('TCP://my_svc-1.ns:80'), { protocol: 'tcp', address: { kind: 'name', name: 'my_svc-1.ns', port: 80 } });
  });

  it('should say what is wrong with a bad pattern', () => {
    const problems: [string, RegExp][] = [
      ['ftp://x', /unknown protocol/],
      ['::1', /brackets/],
      ['1.2.3.4/33', /at most \/32/],
      ['name/24', /needs an IP address/],
      ['1.2.3.4:70000', /out of range/],
      ['999.1.1.1', /not a valid IPv4/],
      ['a b', /expected/],
      ['', /empty/],
      ['[zz::1]', /not an IPv6/],
    ];
    for (const [p, why] of problems) {
      const r = parseOutgoingFilter(p);
      assert.equal(typeof r, 'string', p);
      assert.match(r as string, why, p);
    }
  });

  it('should take no protocol in DNS filters', () => {
    assert.deepEqual(parseDnsFilter('my-service:8080'), { kind: 'name', name: 'my-service', port: 8080 });
    assert.match(parseDnsFilter('udp://1.1.1.1') as string, /no protocol/);
  });
});
