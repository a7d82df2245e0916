/** The interner of global entity ids lives in core (the server's permission engine uses it too). */
export { Interner } from '@dataloom/core';
