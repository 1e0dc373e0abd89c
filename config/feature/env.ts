/**
 * `feature.env`: which of the target's environment variables the local process gets.
 * `true` (default) / `false` / an object; include/exclude take mirrord's `"A;B"` strings too.
 */
import { z } from 'zod';

/** Always excluded unless named in `include` (mirrord's list). */
export const DEFAULT_ENV_EXCLUDE = ['PATH', 'HOME', 'HOMEPATH', 'CLASSPATH', 'JAVA_EXE', 'JAVA_HOME', 'PYTHONPATH'];

/** A list of variable-name globs, or mirrord's single `"A;B;C_*"` string. */
const nameGlobs = z
  .union([z.string(), z.array(z.string())])
  .transform((v, ctx): string[] => {
    const items = (Array.isArray(v) ? v : v.split(';')).map((s) => s.trim()).filter((s) => s !== '');
    for (const [i, g] of items.entries()) {
      if (/[=\0]/.test(g)) ctx.addIssue({ code: 'custom', message: `\`${g}\` is not a variable name pattern (no \`=\`)`, path: Array.isArray(v) ? [i] : [], input: g });
    }
    return items;
  });

const envObject = z
  .strictObject({
    include: nameGlobs
      .optional()
      .describe('Take only the remote variables matching these globs (`*` any run, `?` one character). A list or a `;`-separated string. Naming a default-excluded variable here (e.g. `PATH`) takes it after all.')
      .meta({ examples: [['DATABASE_*', 'REDIS_URL'], 'DATABASE_*;REDIS_URL'] }),
    exclude: nameGlobs
      .optional()
      .describe(`Do not take the remote variables matching these globs; added to the defaults ${DEFAULT_ENV_EXCLUDE.join(', ')}.`),
    override: z
      .record(z.string(), z.union([z.string(), z.number(), z.boolean()]))
      .optional()
      .describe('Variables set to these values in the local process, over both the local and the remote value. Numbers and booleans are written as text.'),
    env_file: z.string().min(1).optional().describe('A dotenv file whose variables are set over the remote ones (path relative to the working directory).'),
    load_from_process: z
      .literal(false)
      .optional()
      .describe('mirrord-only (IntelliJ on WSL workaround); accepted as `false` for compatibility.'),
  })
  .transform((e, ctx) => {
    const override: Record<string, string> = {};
    for (const [k, v] of Object.entries(e.override ?? {})) {
      if (k === '' || /[=\0]/.test(k)) ctx.addIssue({ code: 'custom', message: `\`${k}\` is not a valid variable name`, path: ['override', k], input: v });
      override[k] = String(v);
    }
    const included = new Set(e.include ?? []);
    const exclude = [...new Set([...DEFAULT_ENV_EXCLUDE.filter((n) => !included.has(n)), ...(e.exclude ?? [])])];
    // include and env_file stay absent when unset: absent include = every remote variable.
    const { include, env_file } = e;
    return { enabled: true, ...(include && { include }), exclude, override, ...(env_file && { env_file }) };
  });

export const envSchema = z
  .union([z.boolean().transform((enabled) => ({ ...envObject.parse({}), enabled })), envObject])
  .prefault(true)
  .describe(
    'The target\'s environment variables in the local process: `true` (default), `false`, or an object. A variable is taken when it matches `include` (if set) and does not match `exclude`; `override` is applied last.',
  )
  .meta({ examples: [true, { include: ['DATABASE_*'], override: { LOG_LEVEL: 'debug' } }] });
