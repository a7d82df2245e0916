import { DataloomError } from '@dataloom/core';
import { createContext, createElement, useContext, type ReactNode } from 'react';
import type { DataloomSource } from './source.js';
import { registryFor, type ViewRegistry } from './view-registry.js';

const SourceContext = createContext<DataloomSource | null>(null);
const NamesContext = createContext<readonly string[]>([]);

/** Props of {@link DataloomProvider}. */
export interface DataloomProviderProps {
  /** The client (or any {@link DataloomSource}) the hooks below read and write. */
  client: DataloomSource;
  /**
   * Attributes that name an entity for people (`[':thug/name', ':todo/title']`, the first one an
   * entity has wins): errors the hooks surface (`useTransactState`) say that name instead of the
   * entity's id.
   */
  entityNames?: readonly string[];
  children?: ReactNode;
}

/**
 * Puts a Dataloom client in context for the hooks. The provider does not own the client: closing
 * it stays the app's job. Live views opened by hooks under the provider are shared per client.
 */
export function DataloomProvider({ client, entityNames, children }: DataloomProviderProps): ReactNode {
  const inner = createElement(SourceContext.Provider, { value: client }, children);
  return entityNames ? createElement(NamesContext.Provider, { value: entityNames }, inner) : inner;
}

/** @internal the provider's `entityNames`. */
export function useEntityNames(): readonly string[] {
  return useContext(NamesContext);
}

/**
 * The client of the nearest {@link DataloomProvider}.
 * @throws DataloomError `react/no-provider` outside a provider.
 */
export function useClient<S extends DataloomSource = DataloomSource>(): S {
  const source = useContext(SourceContext);
  if (source === null) {
    throw new DataloomError(
      'react/no-provider',
      'Dataloom hooks must be used inside <DataloomProvider client={…}>',
      {},
    );
  }
  return source as S;
}

/** @internal the shared-view registry of the current client. */
export function useRegistry(): ViewRegistry {
  return registryFor(useClient());
}
