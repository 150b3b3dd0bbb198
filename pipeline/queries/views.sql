-- newsbeam views over an output directory (Hive layout event_id=*/date=*/):
-- articles, dead_letters, event_entities, events, copy_groups, wire_copies, who_carried(word).
-- In the DuckDB shell:  SET VARIABLE newsbeam_output = 'out';  .read views.sql
-- `newsbeam sql DIR` sets the variable and reads this file for you.

-- Every article row; the glob matches only partition folders, so the
-- dead letters (_dead_letters/) and staging folders (.staging-*) stay out.
CREATE OR REPLACE VIEW articles AS
SELECT *
FROM read_parquet(getvariable('newsbeam_output') || '/event_id=*/date=*/*.parquet', hive_partitioning = true);

-- Records a step refused, with its reason and (truncated) raw input.
-- `failed_at` repeats the stored column `at` under a name that is not a SQL
-- keyword: `select reason, failed_at from dead_letters` (or quote it: "at").
CREATE OR REPLACE VIEW dead_letters AS
SELECT *, "at" AS failed_at
FROM read_parquet(getvariable('newsbeam_output') || '/_dead_letters/*.parquet');

-- One row per entity mention, with its normalised name.
CREATE OR REPLACE VIEW event_entities AS
SELECT a.event_id, a.article_id, a.outlet, a.published_at,
       e.text AS mention, e.label, e.norm
FROM articles AS a, UNNEST(a.entities) AS u(e);

-- One row per event: span, size, outlets, and its most mentioned names.
CREATE OR REPLACE VIEW events AS
WITH per_event AS (
    SELECT event_id,
           min(published_at) AS first_published,
           max(published_at) AS last_published,
           count(*) AS articles,
           count(DISTINCT dup_group_id) AS stories,
           list(DISTINCT outlet ORDER BY outlet) FILTER (WHERE outlet IS NOT NULL) AS outlets,
           arg_min(title, coalesce(published_at, TIMESTAMPTZ '9999-12-31')) AS first_title
    FROM articles
    GROUP BY event_id
),
entity_rank AS (
    SELECT event_id, kind, norm, count(DISTINCT article_id) AS articles_mentioning,
           row_number() OVER (PARTITION BY event_id, kind
                              ORDER BY count(DISTINCT article_id) DESC, norm) AS rank
    FROM (
        SELECT event_id, article_id, norm,
               CASE label WHEN 'PERSON' THEN 'people' WHEN 'ORG' THEN 'organisations' ELSE 'places' END AS kind
        FROM event_entities
        WHERE label IN ('PERSON', 'ORG', 'GPE', 'LOC')
    )
    GROUP BY event_id, kind, norm
),
top_entities AS (
    SELECT event_id,
           list(norm ORDER BY rank) FILTER (WHERE kind = 'people') AS top_people,
           list(norm ORDER BY rank) FILTER (WHERE kind = 'organisations') AS top_organisations,
           list(norm ORDER BY rank) FILTER (WHERE kind = 'places') AS top_places
    FROM entity_rank
    WHERE rank <= 5
    GROUP BY event_id
)
SELECT p.*, t.top_people, t.top_organisations, t.top_places
FROM per_event AS p LEFT JOIN top_entities AS t USING (event_id)
ORDER BY p.articles DESC, p.first_published;

-- Syndicated copies: who carried which story, and how late.
-- Builds on the `articles` view of views.sql.
--
-- A row's dup_group_id names one article of its group: 'cg-' || article_id.
-- Batch runs name the group's canonical copy. Streaming runs name the copy
-- the group was first seen with, which may itself name an earlier one (a
-- decision cannot be revised once written). `copy_groups` follows those links
-- to their end, and `wire_copies` then picks the canonical copy by the
-- documented rule (earliest published_at, unknown times last, then the
-- smaller article_id) and computes every lag from it, so batch and streaming
-- output read the same here.

-- article_id -> copy_group: the end of its chain of dup_group_id links.
CREATE OR REPLACE VIEW copy_groups AS
WITH RECURSIVE links(article_id, group_ref, depth) AS (
    SELECT article_id, dup_group_id, 0
    FROM articles
    WHERE dup_group_id IS NOT NULL
    UNION ALL
    SELECT l.article_id, named.dup_group_id, l.depth + 1
    FROM links AS l
    JOIN articles AS named ON l.group_ref = 'cg-' || named.article_id
    WHERE named.dup_group_id IS NOT NULL
      AND named.dup_group_id <> l.group_ref
      AND l.depth < 64
)
SELECT article_id, arg_max(group_ref, depth) AS copy_group
FROM links
GROUP BY article_id;

-- One row per article of every copy group with more than one member: the
-- group's canonical article and its agency beside each outlet that carried
-- the story, with that copy's lag behind the canonical one.
CREATE OR REPLACE VIEW wire_copies AS
WITH members AS (
    SELECT DISTINCT g.copy_group, a.article_id, a.outlet, a.url, a.title,
           a.published_at, a.wire_agency
    FROM articles AS a
    JOIN copy_groups AS g USING (article_id)
),
ranked AS (
    SELECT *,
           count(*) OVER (PARTITION BY copy_group) AS copies,
           row_number() OVER (PARTITION BY copy_group
                              ORDER BY published_at ASC NULLS LAST, article_id) AS carried_order
    FROM members
),
canonical AS (
    SELECT copy_group,
           article_id AS canonical_id,
           outlet AS canonical_outlet,
           title AS canonical_title,
           published_at AS canonical_published_at,
           wire_agency AS canonical_agency
    FROM ranked
    WHERE carried_order = 1
),
group_agency AS (
    SELECT copy_group, mode(wire_agency) AS member_agency
    FROM ranked
    WHERE wire_agency IS NOT NULL
    GROUP BY copy_group
)
SELECT r.copy_group,
       r.copies,
       c.canonical_id,
       c.canonical_outlet,
       c.canonical_title,
       c.canonical_published_at,
       coalesce(c.canonical_agency, ga.member_agency) AS agency,
       r.carried_order,
       r.article_id,
       r.outlet,
       r.title,
       r.url,
       r.published_at,
       r.article_id = c.canonical_id AS is_canonical,
       CAST(epoch(r.published_at) - epoch(c.canonical_published_at) AS BIGINT) AS lag_seconds
FROM ranked AS r
JOIN canonical AS c USING (copy_group)
LEFT JOIN group_agency AS ga USING (copy_group)
WHERE r.copies > 1;

-- Who carried the story whose headline (any copy's) has this word, and how
-- late: SELECT * FROM who_carried('framework');
CREATE OR REPLACE MACRO who_carried(word) AS TABLE
SELECT copy_group, canonical_title, agency, carried_order, outlet, title,
       published_at, lag_seconds, is_canonical
FROM wire_copies
WHERE copy_group IN (
    SELECT copy_group
    FROM wire_copies
    WHERE regexp_matches(title, '\b' || regexp_escape(word) || '\b', 'i')
)
ORDER BY canonical_published_at NULLS LAST, copy_group, carried_order;
