// Retention's deletes, in SQL both stores run (`?` placeholders; the PostgreSQL store numbers
// them). A touch is kept when it is a lead's recorded first touch, or the newest touch of a lead
// it belongs to: the lead's original and latest source outlive the raw data.

/** (siteId, before) → touches deleted. */
export const DELETE_OLD_TOUCHES = `
DELETE FROM touches WHERE site_id = ? AND ts < ?
  AND NOT EXISTS (SELECT 1 FROM leads l WHERE l.site_id = touches.site_id AND l.first_touch_id = touches.id)
  AND NOT EXISTS (
    SELECT 1 FROM lead_visitors lv WHERE lv.site_id = touches.site_id AND lv.visitor_id = touches.visitor_id
      AND NOT EXISTS (
        SELECT 1 FROM lead_visitors lv2 JOIN touches t2 ON t2.site_id = lv2.site_id AND t2.visitor_id = lv2.visitor_id
        WHERE lv2.site_id = lv.site_id AND lv2.lead_id = lv.lead_id AND (t2.ts > touches.ts OR (t2.ts = touches.ts AND t2.id > touches.id))))`

/** (siteId, before) → events deleted. */
export const DELETE_OLD_EVENTS = 'DELETE FROM events WHERE site_id = ? AND ts < ?'

/** (before) → rejected rows deleted. */
export const DELETE_OLD_REJECTED = 'DELETE FROM rejected_events WHERE received_at < ?'

/** `?` → `$1`, `$2`… for PostgreSQL. */
export const numbered = (sql: string): string => { let i = 0; return sql.replace(/\?/g, () => `$${++i}`) }
