# 058_fdw_partitions.pl -- nearest-neighbour search over a table partitioned
# across two PostgreSQL instances with postgres_fdw (scaling out with what
# PostgreSQL already has; README "Scaling out").
#
# A coordinator holds a hash-partitioned table: one partition local (with an
# hnsw index), one a postgres_fdw foreign table on a second instance (with an
# hnsw index there). The foreign server lists `vector` in its `extensions`
# option, so expressions using our operators are shippable. Checked:
#   - the rows are really split: the shard holds the foreign partition's rows;
#   - `ORDER BY embedding <=> $1 LIMIT k` over the partitioned table is a
#     Merge Append of the local index scan and a foreign scan whose remote SQL
#     carries the ORDER BY with the <=> operator (as a constant for a custom
#     plan, as a parameter for a generic one); PostgreSQL 15 does not push the
#     LIMIT into a partition (the coordinator stops fetching from the remote
#     cursor instead: fetch_size rows per round trip);
#   - written per partition (UNION ALL of `(... ORDER BY ... LIMIT k)` per
#     partition, then ORDER BY ... LIMIT k), the remote SQL carries the ORDER
#     BY and the LIMIT, and the coordinator merges the per-partition top-k;
#   - the shard answers through its hnsw index (its idx_scan grows);
#   - both forms return exactly the brute-force answer over the union of the
#     data (computed on the coordinator in float8 from the values' text, after
#     copying every row into a plain local table), for 10 queries;
#   - the plan with use_remote_estimate = true is shown, not asserted: with
#     the shard's planner free to pick a sort (enable_seqscan on), PostgreSQL
#     15 was seen to fetch the whole remote partition and sort it locally.
# Both instances run with enable_seqscan = off and hnsw.ef_search = 200 so
# that the 1,000-row partitions are searched through their indexes, exactly.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use VxTest;

my ($d, $n, $k, $nq) = (16, 2000, 10, 10);

my $shard = PostgreSQL::Test::Cluster->new('shard');
$shard->init;
$shard->append_conf('postgresql.conf', "jit = off\n");
$shard->start;
my $coord = PostgreSQL::Test::Cluster->new('coordinator');
$coord->init;
$coord->append_conf('postgresql.conf', "jit = off\n");
$coord->start;

# Both sides search wide enough that an hnsw scan of 1,000 rows is exact here,
# and use the index although a scan of so few rows would be cheaper (on a
# partition this small the planner would rightly sort the rows instead).
for my $node ($shard, $coord)
{
	$node->safe_psql('postgres',
		q{ALTER DATABASE postgres SET hnsw.ef_search = 200; ALTER DATABASE postgres SET enable_seqscan = off});
}

$shard->safe_psql('postgres', qq{CREATE EXTENSION vector;
CREATE TABLE items_p1 (id bigint PRIMARY KEY, embedding vector($d));});

my $host = $shard->host;
my $port = $shard->port;
$coord->safe_psql('postgres', setup_sql() . qq{
CREATE EXTENSION postgres_fdw;
CREATE SERVER shard1 FOREIGN DATA WRAPPER postgres_fdw
	OPTIONS (host '$host', port '$port', dbname 'postgres', extensions 'vector');
CREATE USER MAPPING FOR CURRENT_USER SERVER shard1;
CREATE TABLE items (id bigint, embedding vector($d)) PARTITION BY HASH (id);
CREATE TABLE items_p0 PARTITION OF items FOR VALUES WITH (MODULUS 2, REMAINDER 0);
CREATE FOREIGN TABLE items_p1 PARTITION OF items FOR VALUES WITH (MODULUS 2, REMAINDER 1)
	SERVER shard1 OPTIONS (table_name 'items_p1', batch_size '200');
INSERT INTO items SELECT i, vx_dense(i, $d)::vector FROM generate_series(1, $n) i;
CREATE INDEX items_p0_hnsw ON items_p0 USING hnsw (embedding vector_cosine_ops);
CREATE TABLE queries AS SELECT i AS qid, vx_dense(1000000 + i, $d)::vector($d) AS q FROM generate_series(1, $nq) i;
ANALYZE items_p0, queries;});
$shard->safe_psql('postgres', q{CREATE INDEX items_p1_hnsw ON items_p1 USING hnsw (embedding vector_cosine_ops);
ANALYZE items_p1;});

# The rows are split between the instances.
my $local_rows = $coord->safe_psql('postgres', 'SELECT count(*) FROM items_p0');
my $remote_rows = $shard->safe_psql('postgres', 'SELECT count(*) FROM items_p1');
cmp_ok($local_rows, '>', $n / 4, "the local partition holds $local_rows rows");
cmp_ok($remote_rows, '>', $n / 4, "the shard holds $remote_rows rows");
is($local_rows + $remote_rows, $n, 'every row is in exactly one partition');
is($coord->safe_psql('postgres', 'SELECT count(*) FROM items'), $n, 'the coordinator sees all rows');

# Brute force over the union of the data: every row copied into a plain local
# table (no index), cosine distance recomputed in float8 from the text output.
$coord->safe_psql('postgres', q{
CREATE TABLE everything AS SELECT id, embedding::text AS t FROM items;
CREATE FUNCTION cos_f8(a text, b text) RETURNS float8 LANGUAGE sql IMMUTABLE AS $$
	SELECT 1 - sum(x * y) / (sqrt(sum(x * x)) * sqrt(sum(y * y)))
	FROM unnest(string_to_array(btrim(a, '[]'), ',')::float8[], string_to_array(btrim(b, '[]'), ',')::float8[]) u(x, y) $$;});
is($coord->safe_psql('postgres', 'SELECT count(*) FROM everything'), $n, 'brute-force copy holds every row');

# The statements under test: the plain form over the partitioned table, and
# the per-partition form.
my $plain = "SELECT id FROM items ORDER BY embedding <=> \$1 LIMIT $k";
my $per_part = "SELECT id FROM ("
  . "(SELECT id, embedding <=> \$1 AS dist FROM items_p0 ORDER BY embedding <=> \$1 LIMIT $k) UNION ALL "
  . "(SELECT id, embedding <=> \$1 AS dist FROM items_p1 ORDER BY embedding <=> \$1 LIMIT $k)) s "
  . "ORDER BY dist LIMIT $k";
my $prep = "PREPARE plain(vector) AS $plain; PREPARE per_part(vector) AS $per_part;";
my $q1 = $coord->safe_psql('postgres', 'SELECT q FROM queries WHERE qid = 1');

# Plans: EXPLAIN VERBOSE shows the SQL sent to the shard.
my $plan = $coord->safe_psql('postgres', "$prep EXPLAIN (VERBOSE, COSTS OFF) EXECUTE plain('$q1')");
like($plan, qr/Merge Append/, 'plain form: the partitions are merged in distance order') or diag($plan);
like($plan, qr/Index Scan using items_p0_hnsw on public\.items_p0/, 'plain form: the local partition uses its hnsw index')
  or diag($plan);
my ($remote) = $plan =~ /Remote SQL: (.*)/;
$remote //= '';
like($remote, qr/ORDER BY \(embedding OPERATOR\(public\.<=>\) '\[[^\]]*\]'(?:::public\.vector)?\) ASC NULLS LAST/,
	'plain form: the ORDER BY with <=> is shipped to the shard') or diag($plan);
note("plain form, remote SQL: $remote");
# PostgreSQL 15 pushes no LIMIT into a partition of a partitioned table.
unlike($remote, qr/LIMIT/, 'plain form: PostgreSQL 15 ships no LIMIT to the partition (the cursor is read only as far as needed)')
  if $coord->pg_version < 16;

$plan = $coord->safe_psql('postgres',
	"$prep SET plan_cache_mode = force_generic_plan; EXPLAIN (VERBOSE, COSTS OFF) EXECUTE plain('$q1')");
like($plan, qr/Remote SQL: .*ORDER BY \(embedding OPERATOR\(public\.<=>\) \$1(?:::public\.vector)?\) ASC NULLS LAST/,
	'plain form, generic plan: the query vector is shipped as a parameter') or diag($plan);

$plan = $coord->safe_psql('postgres', "$prep EXPLAIN (VERBOSE, COSTS OFF) EXECUTE per_part('$q1')");
($remote) = $plan =~ /Remote SQL: (.*)/;
$remote //= '';
like($remote, qr/ORDER BY \(embedding OPERATOR\(public\.<=>\) '\[[^\]]*\]'(?:::public\.vector)?\) ASC NULLS LAST LIMIT $k\b/,
	'per-partition form: the ORDER BY with <=> and the LIMIT are shipped to the shard') or diag($plan);
like($plan, qr/Merge Append/, 'per-partition form: the coordinator merges the per-partition top-k') or diag($plan);
like($plan, qr/Limit\s+Output: items_p0\.id.*\n.*Index Scan using items_p0_hnsw/s,
	'per-partition form: the local partition is an hnsw scan under its own LIMIT') or diag($plan);
note("per-partition form, remote SQL: $remote");

# The shard answers from its hnsw index.
$shard->safe_psql('postgres', q{ALTER SYSTEM SET log_statement = 'all'; SELECT pg_reload_conf()});
my $scans_before = $shard->safe_psql('postgres',
	q{SELECT coalesce(sum(idx_scan), 0) FROM pg_stat_user_indexes WHERE indexrelname = 'items_p1_hnsw'});
$plan = $shard->safe_psql('postgres', "EXPLAIN (COSTS OFF) SELECT id, embedding FROM items_p1 ORDER BY embedding <=> '$q1' LIMIT $k");
like($plan, qr/Index Scan using items_p1_hnsw/, 'the shard plans the shipped query as an hnsw index scan') or diag($plan);

# Answers: both forms against brute force, for every query.
my $mismatch = 0;
for my $qid (1 .. $nq)
{
	my $q = $coord->safe_psql('postgres', "SELECT q FROM queries WHERE qid = $qid");
	my $want = $coord->safe_psql('postgres',
		"SELECT string_agg(id::text, ',' ORDER BY dist, id) FROM "
		  . "(SELECT id, cos_f8(t, '$q') AS dist FROM everything ORDER BY dist, id LIMIT $k) s");
	for my $form ('plain', 'per_part')
	{
		my $sql = ($form eq 'plain' ? $plain : $per_part) =~ s/\$1/'$q'::vector/gr;
		my $got = join(',', split(/\n/, $coord->safe_psql('postgres', $sql)));
		if ($got ne $want)
		{
			$mismatch++;
			diag("query $qid, $form: got $got, brute force $want");
		}
	}
}
is($mismatch, 0, "both forms return the brute-force top-$k over the union of the data for $nq queries");

# The remote index was used (statistics reach the shard's shared memory when
# its backends finish; the coordinator's connections closed with its sessions).
$shard->poll_query_until('postgres',
	qq{SELECT coalesce(sum(idx_scan), 0) > $scans_before FROM pg_stat_user_indexes WHERE indexrelname = 'items_p1_hnsw'})
  or diag('idx_scan of items_p1_hnsw did not grow');
my $scans_after = $shard->safe_psql('postgres',
	q{SELECT coalesce(sum(idx_scan), 0) FROM pg_stat_user_indexes WHERE indexrelname = 'items_p1_hnsw'});
cmp_ok($scans_after - $scans_before, '>=', 2 * $nq, 'the shard answered every query from its hnsw index');
my $log = slurp_file($shard->logfile);
like($log, qr/ORDER BY \(embedding OPERATOR\(public\.<=>\) '\[[^\]]*\]'(?:::public\.vector)?\) ASC NULLS LAST LIMIT $k/,
	'the shard received the per-partition LIMIT query');

# A trap worth knowing: with use_remote_estimate the planner may fetch the
# whole remote partition and sort it locally. Not asserted; shown.
$plan = $coord->safe_psql('postgres',
	"ALTER SERVER shard1 OPTIONS (ADD use_remote_estimate 'true'); $prep EXPLAIN (VERBOSE, COSTS OFF) EXECUTE plain('$q1')");
note("plain form with use_remote_estimate = true:\n$plan");
$coord->safe_psql('postgres', "ALTER SERVER shard1 OPTIONS (DROP use_remote_estimate)");

done_testing();
