// Accept-Encoding negotiation (RFC 9110 section 12.5.3): the client's
// q-values decide; among equal q-values the server's preference decides.

export type Coding = 'br' | 'gzip' | 'deflate' | 'identity';

/** The server's order of preference, as the `compression` package has it. */
export const PREFERENCE: readonly Coding[] = ['br', 'gzip', 'deflate', 'identity'];

interface Accepted {
  coding: string;
  q: number;
}

function parse(header: string): Accepted[] {
  const accepted: Accepted[] = [];
  for (const part of header.split(',')) {
    const [name, ...params] = part.split(';').map((s) => s.trim());
    if (name === '') continue;
    let q = 1;
    for (const param of params) {
      const m = /^q\s*=\s*([0-9.]+)$/i.exec(param);
      if (m) q = Math.min(1, Math.max(0, Number(m[1]) || 0));
    }
    accepted.push({ coding: name.toLowerCase(), q });
  }
  return accepted;
}

function qualityOf(coding: Coding, accepted: readonly Accepted[]): number {
  const exact = accepted.find((a) => a.coding === coding);
  if (exact) return exact.q;
  const any = accepted.find((a) => a.coding === '*');
  if (any) return any.q;
  // identity is acceptable unless excluded explicitly or through "*;q=0";
  // left implicit it ranks with the least wanted coding listed, as the
  // `negotiator` package ranks it, so "gzip;q=0.9" still means gzip.
  if (coding !== 'identity') return 0;
  return accepted.reduce((min, a) => (a.q > 0 ? Math.min(min, a.q) : min), 1);
}

/**
 * The coding to respond with among `offered`, or undefined when the client
 * accepts none of them (not even identity).
 */
export function negotiate(header: string | undefined, offered: readonly Coding[]): Coding | undefined {
  // No header: only identity, as the `compression` package treats it.
  if (header === undefined) return offered.includes('identity') ? 'identity' : undefined;
  const accepted = parse(header);
  let best: Coding | undefined;
  let bestQ = 0;
  for (const coding of PREFERENCE) {
    if (!offered.includes(coding)) continue;
    const q = qualityOf(coding, accepted);
    if (q > bestQ) {
      best = coding;
      bestQ = q;
    }
  }
  return best;
}
