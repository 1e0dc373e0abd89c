/**
 * The agent's container image: its default reference (the podlink release as tag, so a CLI and its
 * agent always match) and, run as a program, that reference for the scripts that build the image.
 *
 *   node dist/agent/image.js      prints ghcr.io/podlink/agent:<version>
 */
import { fileURLToPath } from 'node:url';
import { PODLINK_BUILD } from '../protocol/build.js';

/** Where podlink's agent image is published; `agent.image` points elsewhere (your own registry). */
export const AGENT_REPOSITORY = 'ghcr.io/podlink/agent';

export function defaultAgentImage(): string {
  return `${AGENT_REPOSITORY}:${PODLINK_BUILD}`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) process.stdout.write(defaultAgentImage() + '\n');
