DROP INDEX blocks_search;
