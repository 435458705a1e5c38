-- Every booking and cancellation rewrites its slot's row (booked ± 1). With
-- full pages, a few percent of those rewrites land on another page, and
-- after a few thousand bookings the slots of a service no longer lie in
-- start order: the planner then reads a slot page's whole window with a
-- bitmap scan and sorts it, instead of walking the (service_id, starts_at)
-- index and stopping after the page. Room left on each page keeps the new
-- row version beside the old one (a HOT update), and the page query half as
-- costly on a booked table (docs/benchmarks.md). SQLite has no such setting.
ALTER TABLE slots SET (fillfactor = 70);
