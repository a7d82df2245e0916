/** The schema of the permissions e2e page and server. */
export const schema = {
  ':list/name': {},
  ':list/members': { ':db/cardinality': ':db.cardinality/many' },
  ':item/title': {},
  ':item/list': { ':db/valueType': ':db.type/ref' },
  ':item/owner': {},
};
