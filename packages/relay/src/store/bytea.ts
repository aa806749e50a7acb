/** A Uint8Array as the Buffer the pg driver sends as BYTEA, without copying (a view of the same memory). */
export const bytea = (u: Uint8Array): Buffer => (Buffer.isBuffer(u) ? u : Buffer.from(u.buffer, u.byteOffset, u.byteLength));
