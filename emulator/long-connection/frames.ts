import protobuf from 'protobufjs';

/**
 * The long connection's wire format: every WebSocket message is one binary protobuf `pbbp2.Frame` (proto2). Written
 * from the schema the SDKs share (the Node SDK's generated `pbbp2.js`, the Go SDK's `pbbp2.pb.go`), not imported from
 * the SDK, so that the emulator checks the SDK rather than agreeing with it by construction.
 */
const PBBP2 = `
syntax = "proto2";
package pbbp2;
message Header {
  required string key = 1;
  required string value = 2;
}
message Frame {
  required uint64 SeqID = 1;
  required uint64 LogID = 2;
  required int32 service = 3;
  required int32 method = 4;
  repeated Header headers = 5;
  optional string payload_encoding = 6;
  optional string payload_type = 7;
  optional bytes payload = 8;
  optional string LogIDNew = 9;
}
`;

const root = protobuf.parse(PBBP2, { keepCase: true }).root;
// Resolved now: the SDK switches protobufjs's shared `util.Long` off when it loads, and a uint64 field built while
// Long was there but resolved after it left would fail. Decoding below reads numbers either way.
root.resolveAll();
const FrameType = root.lookupType('pbbp2.Frame');

/** `method`: control frames carry ping and pong, data frames carry pushes and their acks. */
export const Method = { control: 0, data: 1 } as const;

export interface Header {
  key: string;
  value: string;
}

export interface Frame {
  SeqID: number;
  LogID: number;
  service: number;
  method: number;
  headers: Header[];
  payload?: Uint8Array;
  LogIDNew?: string;
}

export function encodeFrame(frame: Frame): Uint8Array {
  return FrameType.encode(FrameType.fromObject(frame)).finish();
}

/** Throws on bytes that are not a Frame (a required field missing included), as the real gateway would refuse them. */
export function decodeFrame(bytes: Uint8Array): Frame {
  const message = FrameType.decode(bytes);
  // uint64 may decode as a Long when the `long` package is present: read them as numbers either way.
  return FrameType.toObject(message, { longs: Number, defaults: true }) as Frame;
}

export function headerOf(frame: Frame, key: string): string | undefined {
  return frame.headers.find((header) => header.key === key)?.value;
}
