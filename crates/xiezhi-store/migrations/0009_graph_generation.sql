-- A graph's name points at the rows of one build (`stored_as`, the value of their `graph`
-- column). Publishing a rebuilt graph moves the name to the staging build's rows and deletes
-- the old ones, instead of rewriting every staging row under the published name: that
-- rewrite doubled the graph tables on PostgreSQL and was most of a large build's write time.
-- Graphs stored before keep their rows under their own name (generation 0).
CREATE TABLE graph_generation (
    name TEXT PRIMARY KEY,
    stored_as TEXT NOT NULL UNIQUE,
    generation BIGINT NOT NULL
);
INSERT INTO graph_generation (name, stored_as, generation)
SELECT graph, graph, 0 FROM graph_node UNION SELECT graph, graph, 0 FROM graph_edge;
