import { dsCreateDb, dsWith, dsPull, dsTry } from '../../../../../test/oracle/datascript.js';
import { printEdn, parseEdn } from '../../index.js';
const sch = '{:name {:db/unique :db.unique/identity} :friend {:db/valueType :db.type/ref :db/cardinality :db.cardinality/many} :tags {:db/cardinality :db.cardinality/many} :kid {:db/valueType :db.type/ref :db/isComponent true :db/cardinality :db.cardinality/many} :boss {:db/valueType :db.type/ref} :pet {:db/valueType :db.type/ref :db/isComponent true}}';
let db = dsCreateDb(sch);
db = dsWith(db, '[{:db/id 1 :name "a" :age 10 :tags [3 1 2] :friend [2 3] :kid [{:db/id 10 :name "k1" :kid {:db/id 11 :name "k2"}}] :pet {:db/id 12 :name "p"}} {:db/id 2 :name "b" :boss 1 :friend [1]} {:db/id 3 :name "c" :boss 2 :friend 2}]').db;
const pats = ['[:_kid]', '[:_pet]', '[{:kid ...}]', '[* {:friend [:name]}]', '[:name :name]', '[[:tags :limit 2 :as :t]]', '[{:_kid [:name]}]', '[:db/id {:friend [:name {:kid [:db/id]}]}]', '[{:_friend ...}]', '[{:friend 2}]', '[:name {:kid 1}]'];
import { test } from "vitest"; test("x", () => { for (const p of pats) for (const e of [1, 10, 12, '[:name "a"]', '[:name "zz"]']) {
  const r = dsTry(() => dsPull(db, p, typeof e === 'string' ? parseEdn(e) : e));
  console.log(p, e, r.ok ? printEdn(r.value) : 'ERR ' + r.message);
} });
