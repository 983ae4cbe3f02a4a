# 022_hnsw_edge_cases.pl -- hnsw behaviour at edges of the input.
#
# 1. Few distinct values (heavy duplicates) or equidistant points: 500 rows
#    of vector(2) with 6 distinct values, 500 rows of bit(3) with 8, a
#    binary-quantized expression index over a 10 x 10 x 5 grid (324 rows at
#    Hamming distance 0 from the query), and 1000 one-hot sparse vectors (all
#    at distance sqrt(2) from one another). An exhaustive search (ef_search
#    1000 >= rows) must return at least 99% of the indexed rows (all of them
#    for the two duplicate-heavy tables; a grid and equidistant one-hot
#    vectors lose one or two), and vx_hnsw_verify must find every element
#    reachable (tolerance 0.01). pgvector keeps up to 10
#    heap TIDs per element for equal vectors; here each row is an element,
#    and the neighbour heuristic orders equidistant candidates by a hash of
#    (candidate, list owner), so each list drops a different one and every
#    element keeps incoming links (a plain id order left most of them
#    unreachable: 33 of 500 found).
# 2. A value whose dimensions differ from the index's: possible after ALTER
#    TABLE ... ALTER COLUMN ... TYPE drops the typmod (binary coercible, so
#    the index is kept). pgvector fails the insert in its distance function:
#    "different vector dimensions 4 and 3" (halfvec, sparsevec likewise;
#    "different bit lengths 4 and 3" for bit), SQLSTATE 22000; so does ours.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('main');
$node->init;
$node->append_conf('postgresql.conf', "jit = off\nautovacuum = off\n");
$node->start;
$node->safe_psql('postgres', q{
CREATE EXTENSION vector;
CREATE TABLE dv (id int, v vector(2));
INSERT INTO dv SELECT i, ARRAY[i % 3, i % 2] FROM generate_series(1, 500) i;
CREATE INDEX dv_idx ON dv USING hnsw (v vector_l2_ops);
CREATE TABLE db (id int, b bit(3));
INSERT INTO db SELECT i, (i % 8)::bit(3) FROM generate_series(1, 500) i;
CREATE INDEX db_idx ON db USING hnsw (b bit_hamming_ops);
CREATE TABLE grid (id int, v vector(3));
INSERT INTO grid SELECT i, ARRAY[i % 10, i / 10 % 10, i / 100] FROM generate_series(0, 499) i;
CREATE INDEX grid_bq ON grid USING hnsw ((binary_quantize(v)::bit(3)) bit_hamming_ops);
CREATE TABLE onehot (id int, s sparsevec(100000));
INSERT INTO onehot SELECT i, ('{' || i || ':1}/100000')::sparsevec FROM generate_series(1, 1000) i;
CREATE INDEX onehot_idx ON onehot USING hnsw (s sparsevec_l2_ops);});

# 1. few distinct values
my @low = (
	[ 'dv_idx', q{SELECT count(*) FROM (SELECT id FROM dv ORDER BY v <-> '[0,0]') s}, 500 ],
	[ 'db_idx', q{SELECT count(*) FROM (SELECT id FROM db ORDER BY b <~> B'111') s}, 500 ],
	[ 'grid_bq', q{SELECT count(*) FROM (SELECT v FROM grid ORDER BY binary_quantize(v)::bit(3) <~> B'111' LIMIT 324) s
		WHERE binary_quantize(v)::bit(3) = B'111'}, 324 ],
	[ 'onehot_idx', q{SELECT count(*) FROM (SELECT id FROM onehot ORDER BY s <-> '{99999:1}/100000') s}, 1000 ],
);
for my $case (@low)
{
	my ($index, $sql, $want) = @$case;
	like($node->safe_psql('postgres', "SET enable_seqscan = off; EXPLAIN (COSTS OFF) $sql"),
		qr/Index Scan using $index/, "$index: the query uses the index");
	my $got = $node->safe_psql('postgres', "SET enable_seqscan = off; SET hnsw.ef_search = 1000; $sql");
	cmp_ok($got, '>=', 0.99 * $want, "$index: an exhaustive search returns $got of $want rows (at least 99%)");
	is($node->safe_psql('postgres', "SELECT * FROM vx_hnsw_verify('$index')"),
		'', "$index: vx_hnsw_verify finds every element reachable");
	is($node->safe_psql('postgres', "SELECT * FROM vx_hnsw_verify('$index', 1)"),
		'', "$index: the structure is sound (vx_hnsw_verify, tolerance 1)");
}

# 2. dimensions other than the index's, once the typmod is gone
$node->safe_psql('postgres', q{
CREATE TABLE md (id int, v vector(3), h halfvec(3), s sparsevec(3), b bit(3));
INSERT INTO md VALUES (1, '[1,2,3]', '[1,2,3]', '{1:1}/3', B'101');
CREATE INDEX md_v ON md USING hnsw (v vector_l2_ops);
CREATE INDEX md_h ON md USING hnsw (h halfvec_l2_ops);
CREATE INDEX md_s ON md USING hnsw (s sparsevec_l2_ops);
CREATE INDEX md_b ON md USING hnsw (b bit_hamming_ops);});
my $nodes_before = $node->safe_psql('postgres',
	q{SELECT string_agg(relfilenode::text, ',' ORDER BY relname) FROM pg_class WHERE relname LIKE 'md\_%'});
$node->safe_psql('postgres', q{ALTER TABLE md ALTER COLUMN v TYPE vector, ALTER COLUMN h TYPE halfvec,
	ALTER COLUMN s TYPE sparsevec, ALTER COLUMN b TYPE varbit});
is( $node->safe_psql('postgres',
		q{SELECT string_agg(relfilenode::text, ',' ORDER BY relname) FROM pg_class WHERE relname LIKE 'md\_%'}),
	$nodes_before, 'ALTER COLUMN TYPE without typmod keeps the hnsw indexes');
for my $case ([ 'v', q{'[1,2,3,4]'}, 'different vector dimensions 4 and 3' ],
	[ 'h', q{'[1,2,3,4]'}, 'different halfvec dimensions 4 and 3' ],
	[ 's', q{'{1:1}/4'}, 'different sparsevec dimensions 4 and 3' ],
	[ 'b', q{B'1011'}, 'different bit lengths 4 and 3' ])
{
	my ($col, $value, $message) = @$case;
	my ($ret, $out, $err) = $node->psql('postgres', "\\set VERBOSITY verbose\nINSERT INTO md ($col) VALUES ($value)");
	isnt($ret, 0, "md_$col: a value of 4 dimensions is refused");
	like($err, qr/ERROR:  22000: \Q$message\E/, "md_$col: with pgvector's error: $message");
}
# values of the index's dimensions still go in, and are found
$node->safe_psql('postgres',
	q{INSERT INTO md VALUES (2, '[3,2,1]', '[3,2,1]', '{3:1}/3', B'010')});
for my $case ([ 'v', '<->', q{'[3,2,1]'} ], [ 'h', '<->', q{'[3,2,1]'} ], [ 's', '<->', q{'{3:1}/3'} ],
	[ 'b', '<~>', q{B'010'} ])
{
	my ($col, $op, $q) = @$case;
	is($node->safe_psql('postgres', "SET enable_seqscan = off; SELECT id FROM md ORDER BY $col $op $q LIMIT 1"),
		'2', "md_$col: a value of the index's dimensions goes in and is found");
}
is($node->safe_psql('postgres', q{SELECT string_agg(p, '; ') FROM pg_class c CROSS JOIN LATERAL vx_hnsw_verify(c.oid) p
	WHERE c.relname LIKE 'md\_%'}), '', 'vx_hnsw_verify finds no problem in the indexes without typmod');

$node->stop;
done_testing();
