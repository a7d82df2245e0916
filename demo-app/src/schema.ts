import { parseEdn } from '@dataloom/core';

/**
 * The demo's schema, as EDN (schema is data). The sync server must be started with the same
 * schema (`dataloom serve --schema demo-app/schema.edn`): it judges every write by it, and clients
 * may not change it. `e2e/demo/schema.test.ts` keeps the two equal. Todos and the shared note are addressed by unique
 * identity attributes, so the UI can use lookup refs (`[:todo/id "…"]`) instead of entity ids.
 */
export const SCHEMA_EDN = `
{:todo/id        {:db/unique :db.unique/identity}
 :todo/title     {}
 :todo/done      {}
 :todo/created   {:db/index true}
 :territory/name {:db/unique :db.unique/identity}
 :thug/name      {:db/unique :db.unique/identity}
 :thug/boss      {:db/valueType :db.type/ref}
 :thug/territory {:db/valueType :db.type/ref}
 :thug/earnings  {}
 :thug/rat?      {}
 :thug/role      {}
 :note/title     {:db/unique :db.unique/identity}
 :note/body      {:db/valueType :db.type/text}
 :user/id        {:db/unique :db.unique/identity}
 :memo/id        {:db/unique :db.unique/identity}
 :memo/text      {}
 :memo/owner     {}
 :memo/private?  {}
 :memo/created   {}
 :lead/id        {:db/unique :db.unique/identity}
 :lead/company   {}
 :lead/region    {}
 :lead/value     {}
 :lead/stage     {}
 :lead/updated   {}
 :draft/author        {}
 :draft/collaborators {:db/cardinality :db.cardinality/many}
 :draft/closed        {:db/valueType :db.type/string :db/cardinality :db.cardinality/many}
 :draft/status        {:db/valueType :db.type/keyword}}
`;

export const schema = parseEdn(SCHEMA_EDN);
