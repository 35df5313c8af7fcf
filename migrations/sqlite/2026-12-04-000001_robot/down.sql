DROP TABLE kb_gaps;
DROP TABLE robot_turns;
DROP TABLE robot_conversations;
