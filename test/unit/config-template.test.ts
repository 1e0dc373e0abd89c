/** `{{ get_env(...) }}` templating, rendered before parsing (set, unset, default, quoting, errors). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { errorLine } from '../../cli/errors.js';
import { ConfigError } from '../../config/errors.js';
import { renderTemplates, type ConfigFormat } from '../../config/template.js';

const render = (text: string, env: Record<string, string | undefined> = {}, format: ConfigFormat = 'json') =>
  renderTemplates(text, { env, format, source: 'podlink.json' });

function failure(text: string, env: Record<string, string | undefined> = {}, format: ConfigFormat = 'json'): string {
  try {
    render(text, env, format);
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    assert.equal(err.code, 'CONFIG_TEMPLATE');
    return errorLine(err);
  }
  assert.fail('rendered without error');
}

describe('templates', () => {
  it('should leave a file without templates untouched', () => {
    const text = '{ "a": "x{2}" }';
    assert.equal(render(text), text);
  });

  it('should use a set variable', () => {
    assert.equal(render('{"u": "{{ get_env(name="USER") }}"}', { USER: 'alice' }), '{"u": "alice"}');
  });

  it('should use the set value over the default, even when empty', () => {
    assert.equal(render(`"{{ get_env(name='U', default='x') }}"`, { U: 'bob' }), '"bob"');
    assert.equal(render(`"{{ get_env(name='U', default='x') }}"`, { U: '' }), '""');
  });

  it('should use the default when the variable is unset', () => {
    assert.equal(render('"{{ get_env(name="U", default="unknown") }}"', {}), '"unknown"');
    assert.equal(render('"{{get_env(default=`d`,name=`U`)}}"', {}), '"d"');
  });

  it('should accept numbers and booleans as defaults, and templates outside strings', () => {
    assert.equal(render('{"ttl": {{ get_env(name="TTL", default=5) }}}', {}), '{"ttl": 5}');
    assert.equal(render('{"x": {{ get_env(name="B", default=true) }}}', {}), '{"x": true}');
  });

  it('should accept quotes escaped for a JSON string, as in the seed mirrord.config.json', () => {
    assert.equal(render('"^X-Dev-User: {{ get_env(name=\\"USER\\", default=\\"unknown\\") }}$"', { USER: 'carol' }), '"^X-Dev-User: carol$"');
  });

  it('should escape a value landing inside a double-quoted string', () => {
    assert.equal(render('{"p": "{{ get_env(name="P") }}"}', { P: 'C:\\dir "x"' }), '{"p": "C:\\\\dir \\"x\\""}');
    assert.equal(render('p: "{{ get_env(name="P") }}"', { P: 'a"b' }, 'yaml'), 'p: "a\\"b"');
    assert.equal(render('p = "{{ get_env(name="P") }}"', { P: 'a\\b' }, 'toml'), 'p = "a\\\\b"');
  });

  it('should double a quote landing inside a YAML single-quoted string, and insert plain values as they are', () => {
    assert.equal(render(`p: '{{ get_env(name="P") }}'`, { P: "it's" }, 'yaml'), "p: 'it''s'");
    assert.equal(render('p: {{ get_env(name="P") }}', { P: 'a"b' }, 'yaml'), 'p: a"b');
  });

  it('should not mistake quotes in comments for strings', () => {
    assert.equal(render('// it"s\n{"a": {{ get_env(name="N", default=1) }}}', {}), '// it"s\n{"a": 1}');
    assert.equal(render('# it"s\na = {{ get_env(name="N", default=1) }}', {}, 'toml'), '# it"s\na = 1');
  });

  it('should trim whitespace with {{- and -}} and drop {# comments #}', () => {
    assert.equal(render('"a  {{- get_env(name="X", default="b") -}}  c"'), '"abc"');
    assert.equal(render('{# team file #}{}'), '{}');
  });

  it('should name an unset variable without default, with line and column', () => {
    assert.equal(
      failure('{\n  "target": "pod/{{ get_env(name="POD") }}"\n}'),
      'podlink: podlink.json:2:18: template get_env(name="POD"): environment variable POD is not set and no default is given (set POD, or add default="…")',
    );
  });

  it('should refuse what podlink does not render yet', () => {
    assert.equal(
      failure('"{{ key }}"'),
      'podlink: podlink.json:1:2: template `{{ key }}`: the `key` variable is not supported by podlink yet (use get_env(name="X") with a variable you set)',
    );
    assert.equal(
      failure('"{{ get_env(name="A") | default(value="x") }}"'),
      'podlink: podlink.json:1:2: template `{{ get_env(name="A") | default(value="x") }}`: template filters are not supported by podlink yet (use the default argument: get_env(name="X", default="y"))',
    );
    assert.equal(
      failure('{% if true %}{}{% endif %}'),
      'podlink: podlink.json:1:1: template `{% if true %}`: template statements are not supported by podlink yet (use only {{ get_env(name="X", default="y") }})',
    );
    assert.equal(
      failure('"{{ now() }}"'),
      'podlink: podlink.json:1:2: template `{{ now() }}`: the function `now` is not supported by podlink yet (only get_env) (write {{ get_env(name="X", default="y") }})',
    );
    assert.equal(
      failure('"{{ get_env(nam="A") }}"'),
      'podlink: podlink.json:1:2: template `{{ get_env(nam="A") }}`: get_env takes `name` and `default`, not `nam` (write {{ get_env(name="X", default="y") }})',
    );
  });

  it('should refuse an unclosed tag', () => {
    assert.equal(failure('{"a": "{{ get_env(name="A")"}'), 'podlink: podlink.json:1:8: template unclosed `{{` (close it with `}}`)');
  });
});
