/**
 * The store lock a Session's refresh holds (internal to core): taken with the store's
 * `lock`, renewed with the lock's `extend` every third of its ttl while the refresh works,
 * and confirmed — or taken again when it was lost — right before the answer is written.
 * Web-standard globals only.
 */
import type { TokenStoreLock } from './store.js';

export class StoreLease {
  readonly #ttl: number;
  readonly #take: () => Promise<TokenStoreLock>;
  #lock: TokenStoreLock;
  /** Until when (`Date.now()` ms) this holder may count on the lock, by its own clock. */
  #until: number;
  #lost = false;
  #renewal: ReturnType<typeof setInterval> | undefined;

  private constructor(ttl: number, take: () => Promise<TokenStoreLock>, lock: TokenStoreLock) {
    this.#ttl = ttl;
    this.#take = take;
    this.#lock = lock;
    this.#until = 0;
  }

  /** Takes the lock with `take` (the store's `lock` with the Session's ttl and wait). */
  static async take(ttl: number, take: () => Promise<TokenStoreLock>): Promise<StoreLease> {
    const asked = Date.now();
    const lease = new StoreLease(ttl, take, await take());
    lease.#held(asked);
    return lease;
  }

  /** Counts the ttl from `asked` (when the lock was asked for: the store's ttl started later). */
  #held(asked: number): void {
    this.#lost = false;
    this.#until = asked + this.#ttl;
    const lock = this.#lock;
    if (typeof lock.extend !== 'function') return;
    let renewing = false;
    this.#renewal = setInterval(
      () => {
        if (renewing) return;
        renewing = true;
        const asked = Date.now();
        (lock.extend as (ttl: number) => Promise<boolean>).call(lock, this.#ttl).then(
          (held) => {
            renewing = false;
            if (lock !== this.#lock) return;
            if (held) this.#until = asked + this.#ttl;
            else this.#stop(true);
          },
          // Unreachable for a moment: the next tick tries again, and confirm() decides.
          () => {
            renewing = false;
          },
        );
      },
      Math.max(1, Math.floor(this.#ttl / 3)),
    );
  }

  #stop(lost: boolean): void {
    clearInterval(this.#renewal);
    this.#renewal = undefined;
    if (lost) this.#lost = true;
  }

  /**
   * Makes sure this holder owns the lock for a while more before it writes: renews it, or —
   * when it was lost, or (without `extend`) more than two thirds of its ttl have passed —
   * lets it go and takes it again. Rejects with the store's lock errors.
   */
  async confirm(): Promise<void> {
    const lock = this.#lock;
    if (!this.#lost) {
      if (typeof lock.extend === 'function') {
        const asked = Date.now();
        if (await lock.extend(this.#ttl).catch(() => false)) {
          this.#until = asked + this.#ttl;
          return;
        }
      } else if (Date.now() < this.#until - this.#ttl / 3) {
        return;
      }
    }
    this.#stop(true);
    await lock.release().catch(() => {});
    const asked = Date.now();
    this.#lock = await this.#take();
    this.#held(asked);
  }

  /** Stops renewing and releases; a failed release leaves the lock to expire after its ttl. */
  async release(): Promise<void> {
    this.#stop(false);
    await this.#lock.release().catch(() => {});
  }
}
