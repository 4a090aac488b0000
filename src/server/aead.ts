/**
 * The authenticated cipher under the sealed-token envelope: AES-256-GCM with a 96-bit nonce
 * and a 128-bit tag. {@link Keyring} holds WebCrypto `CryptoKey`s and asks an {@link Aead}
 * to run the cipher, so a runtime with a faster implementation of the same algorithm (Node's
 * `node:crypto`, injected by the Node adapter) can replace WebCrypto without changing a byte
 * of the envelope. Web-standard globals only.
 */

/** AES-256-GCM over a key {@link Keyring} imported (non-extractable, `encrypt` + `decrypt`). */
export interface Aead {
  /** Short name for logs and tests (`webcrypto`, `node:crypto`). */
  readonly name: string;
  /** `ciphertext ‖ tag (16 bytes)`. */
  encrypt(
    key: CryptoKey,
    nonce: Uint8Array,
    additionalData: Uint8Array,
    plaintext: Uint8Array,
  ): Promise<Uint8Array> | Uint8Array;
  /**
   * The plaintext, or `undefined` when the tag does not verify. Runs the whole decryption
   * whatever the input, so failures take as long as successes of the same size.
   */
  decrypt(
    key: CryptoKey,
    nonce: Uint8Array,
    additionalData: Uint8Array,
    ciphertextAndTag: Uint8Array,
  ): Promise<Uint8Array | undefined> | Uint8Array | undefined;
}

/** Length of the GCM tag, in bytes. */
export const TAG_BYTES = 16;

/** WebCrypto (`crypto.subtle`): every runtime has it. */
export const webCryptoAead: Aead = {
  name: 'webcrypto',
  async encrypt(key, nonce, additionalData, plaintext) {
    return new Uint8Array(
      await crypto.subtle.encrypt(
        {
          name: 'AES-GCM',
          iv: nonce as Uint8Array<ArrayBuffer>,
          additionalData: additionalData as Uint8Array<ArrayBuffer>,
          tagLength: TAG_BYTES * 8,
        },
        key,
        plaintext as Uint8Array<ArrayBuffer>,
      ),
    );
  },
  async decrypt(key, nonce, additionalData, ciphertextAndTag) {
    try {
      return new Uint8Array(
        await crypto.subtle.decrypt(
          {
            name: 'AES-GCM',
            iv: nonce as Uint8Array<ArrayBuffer>,
            additionalData: additionalData as Uint8Array<ArrayBuffer>,
            tagLength: TAG_BYTES * 8,
          },
          key,
          ciphertextAndTag as Uint8Array<ArrayBuffer>,
        ),
      );
    } catch {
      return undefined;
    }
  },
};
