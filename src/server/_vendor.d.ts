// rate-limiter-flexible ships types for its main entry only; the memory limiter is imported
// by its own file so the handler path never loads the package's Node-only cluster limiter.
declare module 'rate-limiter-flexible/lib/RateLimiterMemory.js' {
  import type { RateLimiterMemory } from 'rate-limiter-flexible';

  const RateLimiterMemoryClass: typeof RateLimiterMemory;
  export default RateLimiterMemoryClass;
}
