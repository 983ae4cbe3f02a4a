# 056_damaged_metapage.pl -- a damaged hnsw or diskann metapage (or page
# header, or an hnsw sparsevec slot) behind a valid magic and version is
# refused with a clear error, never read.
#
# Reproduces what the fuzz targets hnsw_page and diskann_page
# (bench/fuzz/) found: the metapage checks only looked at the magic and
# version, so damaged geometry was trusted (hnsw: records_per_page = 0 is a
# division by zero in HnswAddressOf, a crash; diskann: num_neighbors larger
# than the node record reads past it), an out-of-range element kind was cast
# to the enum, a damaged pd_special sent the page-opaque read anywhere, and
# a sparsevec slot's stored nnz sent the sparse kernels past the slot (a
# SEGV in the harness). A storage_layout plain diskann index also has its
# vector tier's geometry checked (vectors per page, vector pages per extent,
# the layout itself).
# For each case, with the server stopped, a few bytes of block 0 of the
# index file are overwritten (the page header stays one PostgreSQL's own
# check accepts: pd_upper <= pd_special, aligned; only the special space is
# 8 bytes lower than ours); after a restart an index scan must fail with
# SQLSTATE XX002 (index_corrupted) and the expected message, the server must
# still be up, and after the original block is written back the scan works.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Fcntl qw(SEEK_SET);

my $CONTENTS = 24;    # MAXALIGN(SizeOfPageHeaderData): where the metapage struct starts
my $PD_UPPER = 14;    # offsetof(PageHeaderData, pd_upper)
my $PD_SPECIAL = 16;  # offsetof(PageHeaderData, pd_special)

my $node = PostgreSQL::Test::Cluster->new('main');
$node->init;
$node->append_conf('postgresql.conf', "jit = off\nautovacuum = off\n");
$node->start;
$node->safe_psql('postgres', q{
CREATE EXTENSION vector;
CREATE TABLE t (id int PRIMARY KEY, v vector(8));
INSERT INTO t SELECT i, ARRAY[i, i % 7, i % 5, 1, 2, 3, 4, i % 3]::real[]::vector(8) FROM generate_series(1, 300) i;
CREATE INDEX t_hnsw ON t USING hnsw (v vector_l2_ops);
CREATE INDEX t_diskann ON t USING diskann (v vector_l2_ops);
CREATE INDEX t_dplain ON t USING diskann (v vector_l2_ops) WITH (storage_layout = 'plain');
CREATE TABLE s (id int, v sparsevec(8));
INSERT INTO s VALUES (1, '{1:1,3:2}/8');
CREATE INDEX s_hnsw ON s USING hnsw (v sparsevec_l2_ops);
});

my %query = map { $_ => q{SET enable_seqscan = off; SET enable_indexscan = on;
SELECT id FROM t ORDER BY v <-> '[7,0,2,1,2,3,4,1]' LIMIT 1} } qw(t_hnsw t_diskann t_dplain);
$query{s_hnsw} = q{SET enable_seqscan = off; SELECT id FROM s ORDER BY v <-> '{1:1}/8' LIMIT 1};
# the other index on the same table, dropped in the test's transaction so the scan uses this one
my %other = (t_hnsw => 't_diskann, t_dplain', t_diskann => 't_hnsw, t_dplain', t_dplain => 't_hnsw, t_diskann',
	s_hnsw => 'IF EXISTS no_such_index');
# element 0's vector slot of s_hnsw: block 3 (after the metapage, the upper page and the graph page),
# first in the page's contents, after the slot's 4-byte version; nnz is at offset 8 of the datum
my $SPARSE_NNZ = 3 * 8192 + $CONTENTS + 4 + 8;

# [index, name, [[offset, pack format, value], ...], expected message]
my @cases = (
	[ 't_hnsw', 'records_per_page = 0', [ [ $CONTENTS + 24, 'L', 0 ] ], qr/has an invalid hnsw metapage/ ],
	[ 't_hnsw', 'record_size changed', [ [ $CONTENTS + 20, 'L', 4 ] ], qr/has an invalid hnsw metapage/ ],
	[ 't_hnsw', 'elem_kind = 9', [ [ $CONTENTS + 12, 'S', 9 ] ], qr/has an invalid hnsw metapage/ ],
	[ 't_hnsw', 'm = 1000', [ [ $CONTENTS + 16, 'S', 1000 ] ], qr/has an invalid hnsw metapage/ ],
	[ 't_hnsw', 'special space moved', [ [ $PD_UPPER, 'S', 8176 ], [ $PD_SPECIAL, 'S', 8176 ] ], qr/is not a valid hnsw index/ ],
	[ 't_diskann', 'num_neighbors = 2000', [ [ $CONTENTS + 16, 'S', 2000 ] ], qr/has an invalid diskann metapage/ ],
	[ 't_diskann', 'elem_kind = 9', [ [ $CONTENTS + 12, 'S', 9 ] ], qr/has an invalid diskann metapage/ ],
	[ 't_diskann', 'metric = 77', [ [ $CONTENTS + 14, 'S', 77 ] ], qr/has an invalid diskann metapage/ ],
	# DiskannMetaPageData: storage_layout at 24; vector_bytes, vectors_per_page, pages_per_vector, vector_pages at 80..95
	[ 't_dplain', 'vector_pages = 0', [ [ $CONTENTS + 92, 'L', 0 ] ], qr/has an invalid diskann metapage/ ],
	[ 't_dplain', 'vectors_per_page = 1000', [ [ $CONTENTS + 84, 'L', 1000 ] ], qr/has an invalid diskann metapage/ ],
	[ 't_dplain', 'storage_layout = memory_optimized', [ [ $CONTENTS + 24, 'S', 1 ] ], qr/has an invalid diskann metapage/ ],
	[ 't_diskann', 'storage_layout = plain', [ [ $CONTENTS + 24, 'S', 2 ] ], qr/has an invalid diskann metapage/ ],
	[ 't_diskann', 'storage_layout = 3', [ [ $CONTENTS + 24, 'S', 3 ] ], qr/has an invalid diskann metapage/ ],
	[ 's_hnsw', 'sparse slot nnz = 50000', [ [ $SPARSE_NNZ, 'l', 50000 ] ], qr/has a damaged vector for element 0/ ],
	[ 's_hnsw', 'sparse slot nnz = -1', [ [ $SPARSE_NNZ, 'l', -1 ] ], qr/has a damaged vector for element 0/ ],
	[ 't_diskann', 'special space moved', [ [ $PD_UPPER, 'S', 8176 ], [ $PD_SPECIAL, 'S', 8176 ] ], qr/is not a valid diskann index/ ],
);

my %ok_id = (t_hnsw => '7', t_diskann => '7', t_dplain => '7', s_hnsw => '1');
for my $index (sort keys %ok_id)
{
	is($node->safe_psql('postgres', "BEGIN; DROP INDEX $other{$index}; $query{$index}; ROLLBACK;"),
		$ok_id{$index}, "$index finds row $ok_id{$index} before the damage");
}

for my $case (@cases)
{
	my ($index, $name, $patches, $expected) = @$case;
	my $file = $node->data_dir . '/' . $node->safe_psql('postgres', "SELECT pg_relation_filepath('$index')");
	$node->stop;

	open(my $fh, '+<', $file) or die "open $file: $!";
	binmode $fh;
	my $original;
	my $size = -s $file;
	sysread($fh, $original, $size) == $size or die "read $file: $!";
	for my $p (@$patches)
	{
		my ($offset, $format, $value) = @$p;
		sysseek($fh, $offset, SEEK_SET) or die;
		syswrite($fh, pack($format, $value)) or die;
	}
	close $fh;

	$node->start;
	my ($ret, $out, $err) = $node->psql('postgres', "BEGIN; DROP INDEX $other{$index}; $query{$index}; ROLLBACK;",
		extra_params => [ '-v', 'VERBOSITY=verbose' ]);
	isnt($ret, 0, "$index, $name: the scan fails");
	like($err, qr/ERROR:  XX002: .*$expected/, "$index, $name: index_corrupted with a clear message");
	is($node->safe_psql('postgres', 'SELECT 1'), '1', "$index, $name: the server is up");
	unlike(slurp_file($node->logfile), qr/terminated by signal/, "$index, $name: no backend crashed");

	$node->stop;
	open($fh, '+<', $file) or die "open $file: $!";
	binmode $fh;
	syswrite($fh, $original) == length($original) or die "write $file: $!";
	close $fh;
	$node->start;
	is($node->safe_psql('postgres', "BEGIN; DROP INDEX $other{$index}; $query{$index}; ROLLBACK;"), $ok_id{$index},
		"$index, $name: the repaired block reads again");
}

$node->stop;
done_testing();
