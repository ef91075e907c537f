/**
 * What the bundle's code sees as the global `crypto`. The SDK reads `crypto.randomUUID` at
 * load time; in Node 20 the global's first read loads the Web Crypto API (about a
 * millisecond), of which only randomUUID is used. node:crypto offers the same functions
 * (randomUUID, getRandomValues, subtle on first use) and the program has loaded it anyway.
 */
import * as nodeCrypto from "node:crypto";

export { nodeCrypto as crypto };
