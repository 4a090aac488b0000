/**
 * Environment variables that are almost a setting's name: `SPOTIFY_CLIENTID`,
 * `spotify_client_id`, `TOKEN_ENCRYPTION_KEY`, `SPOTIFY_REDIRECT_URL`. Such a variable is
 * silently ignored, so the program runs without the setting the user meant to give. Pure
 * string work (the token server's loader runs it on Workers too); names only, never values.
 */

/** A variable that is set and is almost the name of a setting. */
export interface NearMiss {
  /** The variable as set. */
  given: string;
  /** The setting's name it is close to. */
  meant: string;
}

/** Case and underscores do not tell names apart: `spotify_clientid` is `SPOTIFYCLIENTID`. */
function canonical(name: string): string {
  return name.toUpperCase().replace(/_/g, '');
}

/**
 * Whether `a` becomes `b` with at most one letter added, dropped, changed, or two neighbours
 * swapped (optimal string alignment distance ≤ 1).
 */
function oneEditApart(a: string, b: string): boolean {
  if (Math.abs(a.length - b.length) > 1) return false;
  let start = 0;
  while (start < a.length && a[start] === b[start]) start++;
  if (start === a.length && start === b.length) return true;
  const restA = a.slice(start);
  const restB = b.slice(start);
  return (
    restA.slice(1) === restB.slice(1) ||
    restA.slice(1) === restB ||
    restA === restB.slice(1) ||
    (restA[0] === restB[1] && restA[1] === restB[0] && restA.slice(2) === restB.slice(2))
  );
}

/** Shorter names are left to exact matches: `PORT` is one letter from too many words. */
const MIN_LENGTH_FOR_TYPOS = 8;

/**
 * The set (non-blank) variables of `env` that are not in `known` but are close to one of them:
 * the same name but for case and underscores, singular for plural (or back), or, for names
 * of 8 letters or more, one letter off.
 */
export function nearMissNames(env: object, known: readonly string[]): NearMiss[] {
  const knownSet = new Set(known);
  const canonicalKnown = known.map((name) => [name, canonical(name)] as const);
  const found: NearMiss[] = [];
  for (const [given, value] of Object.entries(env)) {
    if (knownSet.has(given) || typeof value !== 'string' || value.trim() === '') continue;
    const name = canonical(given);
    const meant = canonicalKnown.find(
      ([, target]) =>
        name === target ||
        `${name}S` === target ||
        name === `${target}S` ||
        (target.length >= MIN_LENGTH_FOR_TYPOS && oneEditApart(name, target)),
    )?.[0];
    if (meant !== undefined) found.push({ given, meant });
  }
  return found;
}

/** The one wording of a near miss. */
export function nearMissMessage({ given, meant }: NearMiss): string {
  return `${given} is set but not read: did you mean ${meant}?`;
}
