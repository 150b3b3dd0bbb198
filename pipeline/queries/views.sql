-- newsbeam views over an output directory (Hive layout event_id=*/date=*/).
-- In the DuckDB shell:  SET VARIABLE newsbeam_output = 'out';  .read views.sql
-- `newsbeam sql DIR` sets the variable and reads this file for you.

-- Every article row; the glob matches only partition folders, so the
-- dead letters (_dead_letters/) and staging folders (.staging-*) stay out.
CREATE OR REPLACE VIEW articles AS
SELECT *
FROM read_parquet(getvariable('newsbeam_output') || '/event_id=*/date=*/*.parquet', hive_partitioning = true);

-- Records a step refused, with its reason and (truncated) raw input.
CREATE OR REPLACE VIEW dead_letters AS
SELECT *
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
