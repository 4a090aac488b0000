/**
 * AES-256-GCM through `node:crypto` for the sealed-token envelope: the same bytes as
 * WebCrypto, at a fraction of the cost per call on Node (no promise, no thread-pool hop, no
 * `CryptoKey` transfer). Node-only: the Node adapter injects it; the neutral handler never
 * imports this file.
 */
import { createCipheriv, createDecipheriv, KeyObject } from 'node:crypto';
import { type Aead, TAG_BYTES } from '../aead.js';

/** The Node `KeyObject` behind each WebCrypto key, looked up once per key. */
const keyObjects = new WeakMap<CryptoKey, KeyObject>();

function keyObject(key: CryptoKey): KeyObject {
  let found = keyObjects.get(key);
  if (found === undefined) {
    // KeyObject.from shares the key material of a non-extractable CryptoKey without exposing it.
    found = KeyObject.from(key);
    keyObjects.set(key, found);
  }
  return found;
}

/** An {@link Aead} on `node:crypto`. */
export function createNodeAead(): Aead {
  return {
    name: 'node:crypto',
    encrypt(key, nonce, additionalData, plaintext) {
      const cipher = createCipheriv('aes-256-gcm', keyObject(key), nonce, {
        authTagLength: TAG_BYTES,
      });
      cipher.setAAD(additionalData);
      const head = cipher.update(plaintext);
      const tail = cipher.final();
      const tag = cipher.getAuthTag();
      // Buffer.concat takes small outputs from Node's shared pool: no allocation of its own.
      return Buffer.concat([head, tail, tag], head.length + tail.length + TAG_BYTES);
    },
    decrypt(key, nonce, additionalData, ciphertextAndTag) {
      if (ciphertextAndTag.length < TAG_BYTES) return undefined;
      const split = ciphertextAndTag.length - TAG_BYTES;
      const decipher = createDecipheriv('aes-256-gcm', keyObject(key), nonce, {
        authTagLength: TAG_BYTES,
      });
      decipher.setAAD(additionalData);
      decipher.setAuthTag(ciphertextAndTag.subarray(split));
      const head = decipher.update(ciphertextAndTag.subarray(0, split));
      try {
        decipher.final();
      } catch {
        head.fill(0);
        return undefined;
      }
      return head;
    },
  };
}
