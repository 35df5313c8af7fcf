DROP TABLE repeat_places;
