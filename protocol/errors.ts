/** The one failure of the protocol package: a frame that cannot be decoded or encoded. */
export type ProtocolErrorCode = 'truncated' | 'trailing' | 'unknown_type' | 'bad_value' | 'frame_too_large' | 'version_mismatch';

export class ProtocolError extends Error {
  override readonly name = 'ProtocolError';
  constructor(
    readonly code: ProtocolErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/**
 * A Hello or HelloOk of another protocol version. Only its leading `version` and `build` were read
 * (they lead in every version, spec.ts), so the message can name the peer's release precisely.
 */
export class VersionMismatch extends ProtocolError {
  constructor(
    readonly type: 'Hello' | 'HelloOk',
    readonly id: number,
    readonly peerVersion: number,
    readonly peerBuild: string,
    readonly ours: { version: number; build: string },
  ) {
    super('version_mismatch', `protocol version mismatch: this side is podlink ${ours.build} (protocol ${ours.version}), the peer is podlink ${peerBuild || '?'} (protocol ${peerVersion})`);
  }
}
