-- Search over block text (issue 18 part 5): a GIN index over the words of
-- each block (the `simple` configuration: no stemming, any language); the
-- query repeats this expression exactly so the index serves it.
CREATE INDEX blocks_search ON blocks USING GIN (to_tsvector('simple', plain_text));
