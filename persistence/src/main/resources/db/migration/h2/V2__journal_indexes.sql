-- Nothing: on H2 every journal index is created with its tables (V1). Kept so both databases have
-- the same versions.
SELECT 1;
