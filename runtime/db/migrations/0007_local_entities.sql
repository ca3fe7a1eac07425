-- Entities an integration writes itself from its tools (notes, ...): source 'local'.
-- A full pull deletes only what pulls and pushes wrote; seeded and local rows belong to the
-- integration, and only its own delete removes them.
ALTER TABLE entities DROP CONSTRAINT entities_source_check;
ALTER TABLE entities ADD CONSTRAINT entities_source_check CHECK (source IN ('pull', 'push', 'seed', 'local'));
