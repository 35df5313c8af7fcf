DROP TABLE analytics_cursors;
DROP TABLE analytics_cells;
DROP TABLE analytics_rollups;
DROP TABLE analytics_facts;
