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
