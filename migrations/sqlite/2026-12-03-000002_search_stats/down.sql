DROP TABLE kb_answer_uses;
DROP TABLE kb_searches;
