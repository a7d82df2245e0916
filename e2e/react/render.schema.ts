/** The schema of the React render measurement (render.page.tsx and its server in render.measure.ts). */
export const SCHEMA = {
  ':p/name': {},
  ':p/email': { ':db/unique': ':db.unique/identity' },
  ':p/age': {},
  ':p/tag': {},
  ':p/score': {},
};
