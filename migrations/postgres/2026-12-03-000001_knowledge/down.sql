DROP TABLE kb_sync_cursors;
DROP TABLE kb_counters;
DROP TABLE kb_changes;
DROP TABLE kb_article_log;
DROP TABLE kb_article_versions;
DROP TABLE kb_articles;
