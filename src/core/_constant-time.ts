const encoder = new TextEncoder();

/**
 * Compares two strings in time that depends only on the longer one's length.
 *
 * There is no early exit on a length difference: every byte position of the
 * longer input is visited, and the length difference is folded into the
 * result, so timing reveals at most the length, never where the inputs differ.
 */
export function constantTimeEqual(a: string, b: string): boolean {
  const left = encoder.encode(a);
  const right = encoder.encode(b);
  const length = Math.max(left.length, right.length);
  let difference = left.length ^ right.length;
  for (let index = 0; index < length; index++) {
    // Out-of-range reads yield undefined → 0; `| 0` keeps the loop branch-free.
    difference |= (left[index] ?? 0) ^ (right[index] ?? 0);
  }
  return difference === 0;
}
