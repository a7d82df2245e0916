/** The schema of the datsync e2e page and server. */
export const schema = {
  ':person/name': { ':db/valueType': ':db.type/string' },
  ':person/friend': { ':db/valueType': ':db.type/ref' },
};
