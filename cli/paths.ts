/** Where the parts of an installed podlink live, relative to this package. */
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The package root (the directory holding package.json). */
export const packageRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const layerLibrary = path.join(packageRoot, 'layer', 'build', 'libpodlink.so');
export const agentEntry = path.join(packageRoot, 'dist', 'agent', 'main.js');
export const intproxyEntry = path.join(packageRoot, 'dist', 'intproxy', 'main.js');
