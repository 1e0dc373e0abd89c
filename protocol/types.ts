/** TypeScript shapes of the messages in spec.ts, derived from it so the two cannot disagree. */
import type { FieldType, ListOf, MessageName, StatFields, StructOf, messages } from './spec.js';

export interface Addr {
  family: 4 | 6;
  /** Text form: "10.0.0.5" or "fd00::5". */
  ip: string;
  port: number;
}

export type FieldValue<F> = F extends 'u8' | 'u16' | 'u32' | 'i32'
  ? number
  : F extends 'u64' | 'i64'
    ? bigint
    : F extends 'bool'
      ? boolean
      : F extends 'str'
        ? string
        : F extends 'bytes'
          ? Uint8Array
          : F extends 'addr'
            ? Addr
            : F extends ListOf
              ? FieldValue<F['list']>[]
              : F extends StructOf
                ? { -readonly [K in keyof F['struct']]: FieldValue<F['struct'][K]> }
                : never;

type Fields<N extends MessageName> = (typeof messages)[N]['fields'];

export type MessageOf<N extends MessageName> = { type: N; id: number } & {
  -readonly [K in keyof Fields<N>]: FieldValue<Fields<N>[K]>;
};

export type Message = { [N in MessageName]: MessageOf<N> }[MessageName];

export type Stat = FieldValue<{ struct: typeof StatFields }>;

/** Check at compile time that every FieldType maps to a value type. */
export type AnyFieldValue = FieldValue<FieldType>;

/** A message without its id (the link fills it in): what a reply is built from. */
export type Unsent = { [N in MessageName]: Omit<MessageOf<N>, 'id'> }[MessageName];
