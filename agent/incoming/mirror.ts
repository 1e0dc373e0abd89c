/** Mirror: copies of a port's connections, captured (never proxied). */
import type { MirrorSource, PortDispatcher } from './dispatcher.js';

export class Mirror implements MirrorSource {
  static async start(): Promise<Mirror> {
    throw new Error('mirror is not available yet');
  }
  async watch(_port: number, _d: PortDispatcher): Promise<void> {}
  async unwatch(_port: number): Promise<void> {}
}
