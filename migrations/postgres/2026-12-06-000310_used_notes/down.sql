DROP TABLE used_notes;
