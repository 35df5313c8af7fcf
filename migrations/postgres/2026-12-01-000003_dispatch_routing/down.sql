DROP TABLE dispatch_suggestions;
DROP TABLE dispatch_areas;
DROP TABLE dispatch_place_names;
DROP TABLE dispatch_rule_audit;
DROP TABLE dispatch_rules;
