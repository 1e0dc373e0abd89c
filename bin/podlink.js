#!/usr/bin/env node
// The podlink executable: everything lives in dist/ (built by `npm install` / `npm run build`).
import('../dist/cli/main.js').catch((err) => {
  process.stderr.write(`podlink: cannot start (${err.message}); run \`npm run build\` in ${new URL('..', import.meta.url).pathname}\n`);
  process.exit(70);
});
