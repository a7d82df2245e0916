/** How the demo says data to people: names capitalised, money in dollars. */

/** "corinna" → "Corinna" (people and regions are stored in lower case, the keys the rules use). */
export const cap = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

/** 1700 → "$1,700". */
export const money = (n: number) => `$${n.toLocaleString('en-US')}`;
